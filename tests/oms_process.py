"""Test helpers for real ``oms run`` subprocesses: start one on a free loopback port, call its
REST API, SIGKILL it; and a throwaway PostgreSQL database on the local server.

Imported by tests as ``from oms_process import ...`` (a unique module name, unlike conftest).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def request(port: int, path: str, body: dict[str, Any] | None = None,
            timeout_s: float = 5.0) -> tuple[int, dict[str, Any]]:
    """GET (no body) or POST (JSON body) ``/api/v1<path>``; (status, JSON answer)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1{path}", data=data, method="GET" if data is None
        else "POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class OmsProcess:
    """``python -m oms.cli run`` on a free loopback port and a given database."""

    def __init__(self, database_url: str, workdir: Path, *, speed: float = 60,
                 tick_ms: int = 100, args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        full_env = {**os.environ, "OMS_DATABASE_URL": database_url, "OMS_SPEED": str(speed),
                    "OMS_TICK_INTERVAL_MS": str(tick_ms), "PYTHONPATH": str(ROOT),
                    **(env or {})}
        full_env.pop("OMS_AUTH_USERS", None)
        self.log_path = workdir / f"oms-{self.port}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oms.cli", "run", "--host", "127.0.0.1", "--port",
             str(self.port), *args], cwd=workdir, env=full_env, stdout=self.log,
            stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """Wait until /status answers 200; its body."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"oms run exited with {self.process.returncode}: "
                                     f"{self.log_path.read_text()[-2000:]}")
            try:
                status, body = request(self.port, "/status", timeout_s=1.0)
            except OSError:
                time.sleep(0.05)
                continue
            if status == 200:
                return body
        raise AssertionError("oms run did not answer /api/v1/status in time")

    def sigkill(self) -> None:
        """Kill -9, at once, and reap it."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        """Kill it if it still runs (cleanup)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new database on the local PostgreSQL, dropped afterwards (skips when none answers)."""
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 2})
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means "not available"
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
