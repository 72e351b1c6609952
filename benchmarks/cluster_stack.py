"""The split deployment started as the README's "Deployment: several processes" says, with the
CLI only (``oms accounts add``, ``oms engine --account``, ``oms web --workers``) on a new
PostgreSQL database, for benchmarks that drive it through HTTP (never oms.cluster's internals,
so they keep working whatever the storage of an account becomes). Every process it starts is
stopped and the database dropped, also on failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

__all__ = ["ADMIN_URL", "STATUS_PATH", "deployment"]

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parents[1]
STATUS_PATH = "/api/v1/status"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM its process group (gunicorn and its workers, or the engine), SIGKILL if slow."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def deployment(name: str, *, account: str, workers: int, tick_ms: int,
                admin_url: str) -> Iterator[str]:
    """A new database ``name``, its account, one engine (--speed 1) and ``oms web`` on a free
    loopback port, ready (its /status answers 200); the web's base URL."""
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "OMS_DATABASE_URL": url, "OMS_TICK_INTERVAL_MS": str(tick_ms),
           "PYTHONPATH": str(ROOT)}
    for secret in ("OMS_AUTH_USERS", "OMS_API_TOKEN"):  # loopback, unauthenticated
        env.pop(secret, None)
    oms = [sys.executable, "-m", "oms.cli"]
    port = _free_port()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp, contextlib.ExitStack() as logs:
        workdir = Path(tmp)

        def start(role: str, *args: str) -> None:
            log = logs.enter_context((workdir / f"{role}.log").open("wb"))
            processes.append(subprocess.Popen([*oms, *args], cwd=workdir, env=env, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True))

        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            added = subprocess.run([*oms, "accounts", "add", account], cwd=workdir, env=env,
                                   capture_output=True, text=True, timeout=120)
            if added.returncode != 0:
                raise RuntimeError(f"oms accounts add {account} exited with "
                                   f"{added.returncode}: {added.stderr[-2000:]}")
            start("engine", "engine", "--account", account, "--speed", "1")
            start("web", "web", "--port", str(port), "--workers", str(workers),
                  "--account", account)
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, processes, workdir)
            yield base
        finally:
            for process in reversed(processes):
                _stop(process)
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _wait_ready(base: str, processes: list[subprocess.Popen[bytes]], workdir: Path,
                timeout_s: float = 120.0) -> None:
    """Until /status answers 200 (503: no engine has published yet)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                logs = {p.name: p.read_text(errors="replace")[-2000:] for p in
                        workdir.glob("*.log")}
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}: {logs}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}{STATUS_PATH}", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"oms web at {base} did not answer 200 within {timeout_s} s")
