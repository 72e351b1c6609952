"""Test helpers for the split deployment: a throwaway PostgreSQL database with one account, and
real ``oms engine`` subprocesses on it (SIGKILL, SIGSTOP, wait until one is active).

Imported by tests as ``from cluster_process import ...`` (a unique module name).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oms_process import ROOT, postgres_database
from sqlalchemy import create_engine, text

from oms.cluster.accounts import account_url, add_account
from oms.persistence.database import Database


@contextlib.contextmanager
def cluster_database(prefix: str, account: str = "main",
                     settings: dict[str, Any] | None = None) -> Iterator[str]:
    """A new PostgreSQL database with the schema and one account (skips without a server)."""
    with postgres_database(prefix) as url:
        database = Database(url)
        add_account(database, account, settings=settings)
        database.dispose()
        yield url


def own(url: str, account: str = "main") -> str:
    """The URL of ``account``'s own tables (its schema) in the database at ``url``."""
    return account_url(url, account)


def query(url: str, sql: str, *, schema_of: str | None = "main", **params: Any) -> list[Any]:
    """Rows of one statement, on a connection of its own, in the tables of account
    ``schema_of`` (None: the registry's)."""
    engine = create_engine(url if schema_of is None else own(url, schema_of))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params))
    finally:
        engine.dispose()


class EngineProcess:
    """``python -m oms.cli engine --account NAME`` on a database (logs in ``workdir``)."""

    def __init__(self, url: str, workdir: Path, *, account: str = "main", speed: float = 60,
                 tick_ms: int = 50, args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        full_env = {**os.environ, "OMS_DATABASE_URL": url, "OMS_TICK_INTERVAL_MS": str(tick_ms),
                    "PYTHONPATH": str(ROOT), **(env or {})}
        self.log_path = workdir / f"engine-{time.monotonic_ns()}.log"
        self.log = self.log_path.open("wb")
        self.url = url
        self.account = account
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oms.cli", "engine", "--account", account, "--speed",
             str(speed), *args], cwd=workdir, env=full_env, stdout=self.log,
            stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def active(self) -> bool:
        """True once this process holds the account's lease."""
        rows = query(self.url, "SELECT holder FROM engine_leases", schema_of=self.account)
        return bool(rows) and f":{self.pid}:" in rows[0][0]

    def wait_active(self, timeout_s: float = 30.0) -> float:
        """Wait until this process holds the lease; the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.process.poll() is not None:
                raise AssertionError(f"oms engine exited with {self.process.returncode}: "
                                     f"{self.text()[-3000:]}")
            if self.active():
                return time.monotonic() - started
            time.sleep(0.02)
        sessions = query(self.url, "SELECT pid, application_name, state, wait_event, "
                                   "left(query, 80) FROM pg_stat_activity "
                                   "WHERE datname = current_database()")
        raise AssertionError(f"oms engine did not become active: {self.text()[-3000:]}; "
                             f"sessions: {sessions}")

    def text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def sigkill(self) -> None:
        """Kill -9, at once, and reap it."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Kill it if it still runs (cleanup; a stopped process is continued first)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()


class WebProcess:
    """``python -m oms.cli web`` (gunicorn, ``workers`` workers) on a free loopback port."""

    def __init__(self, url: str, workdir: Path, *, workers: int = 2, timeout_s: float = 3.0,
                 args: tuple[str, ...] = ()) -> None:
        from oms_process import free_port

        self.port = free_port()
        env = {**os.environ, "OMS_DATABASE_URL": url, "PYTHONPATH": str(ROOT),
               "OMS_COMMAND_TIMEOUT_S": str(timeout_s)}
        env.pop("OMS_AUTH_USERS", None)
        self.log_path = workdir / f"web-{self.port}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oms.cli", "web", "--port", str(self.port), "--workers",
             str(workers), *args], cwd=workdir, env=env, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait until /api/v1/status answers (200: an engine published; 503: not yet)."""
        from oms_process import request

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"oms web exited with {self.process.returncode}: "
                                     f"{self.log_path.read_text()[-3000:]}")
            try:
                status, _ = request(self.port, "/status", timeout_s=2.0)
            except OSError:
                time.sleep(0.1)
                continue
            if status == 200:
                return
            time.sleep(0.1)
        raise AssertionError(f"oms web did not answer: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        """Stop gunicorn and its workers (their own process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()
