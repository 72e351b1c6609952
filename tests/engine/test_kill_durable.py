"""G1: an acknowledged kill is durable. A real ``oms run`` subprocess answers POST /kill, is
SIGKILLed right after the 200, restarts on the same database and must come back HALTED, every
time, on SQLite and (when reachable) on PostgreSQL. A unit test checks that ``OmsService.kill``
has committed the halt rows before it returns, before any engine tick could write them."""

from __future__ import annotations

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
from oms_harness import make_harness
from sqlalchemy import create_engine, text

from oms.commands import KillSwitch
from oms.errors import PersistenceError

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ROUNDS = 3


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _request(port: int, path: str, body: dict[str, Any] | None = None,
             timeout_s: float = 5.0) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1{path}", data=data, method="GET" if data is None
        else "POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class OmsProcess:
    """``python -m oms.cli run`` on a free loopback port and a given database."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "OMS_DATABASE_URL": database_url, "OMS_SPEED": "60",
               "OMS_TICK_INTERVAL_MS": "100", "PYTHONPATH": str(ROOT)}
        env.pop("OMS_AUTH_USERS", None)
        self.log = (workdir / f"oms-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oms.cli", "run", "--host", "127.0.0.1", "--port",
             str(self.port)], cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"oms run exited with {self.process.returncode}; "
                                     f"see {self.log.name}")
            try:
                status, body = _request(self.port, "/status", timeout_s=1.0)
            except OSError:
                time.sleep(0.05)
                continue
            if status == 200:
                return body
        raise AssertionError("oms run did not answer /api/v1/status in time")

    def sigkill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()


def _kill_then_crash_then_restart(database_url: str, workdir: Path, rounds: int) -> list[str]:
    """Each round: resume to ACTIVE, kill, SIGKILL right after the 200, restart, read state."""
    states: list[str] = []
    process = OmsProcess(database_url, workdir)
    try:
        process.wait_ready()
        for round_no in range(rounds):
            status, body = _request(process.port, "/resume", {"reason": f"round {round_no}"})
            assert status == 200, body
            status, body = _request(process.port, "/kill", {"reason": f"drill {round_no}"})
            process.sigkill()  # at once: no engine tick may run between the 200 and the crash
            assert status == 200 and body["trading_state"] == "HALTED", body
            assert body["durable"] is True
            process = OmsProcess(database_url, workdir)
            after = process.wait_ready()
            states.append(after["trading_state"])
            assert f"drill {round_no}" in after["halt_reason"]
    finally:
        process.stop()
    return states


def test_an_acknowledged_kill_survives_sigkill_on_sqlite(tmp_path: Path) -> None:
    # Arrange
    url = f"sqlite:///{tmp_path / 'kill.db'}"

    # Act
    states = _kill_then_crash_then_restart(url, tmp_path, ROUNDS)

    # Assert
    assert states == ["HALTED"] * ROUNDS


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database (skips when no server answers on 127.0.0.1:5432)."""
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 2})
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means "not available"
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    name = f"oms_kill_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_acknowledged_kill_survives_sigkill_on_postgresql(postgres_url: str,
                                                             tmp_path: Path) -> None:
    states = _kill_then_crash_then_restart(postgres_url, tmp_path, 2)
    assert states == ["HALTED"] * 2


# -- in process: the rows are committed before kill() returns ---------------------------------


def _rows(database_url: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """risk_events (kind, code, message) and audit rows (event, actor), via a new connection."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            events = [(r[0], r[1], r[2]) for r in connection.execute(
                text("SELECT kind, code, message FROM risk_events ORDER BY id"))]
            audit = [(r[0], r[1]) for r in connection.execute(
                text("SELECT event, actor FROM audit_log ORDER BY id"))]
    finally:
        engine.dispose()
    return events, audit


def test_kill_commits_the_halt_before_returning_and_marks_the_command_durable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange: the engine never ticks in this test, so only the service can have written rows
    h = make_harness(tmp_path)
    url = str(h.oms.database.url)
    queued: list[Any] = []
    monkeypatch.setattr(h.engine, "enqueue", queued.append)  # the engine never sees it

    # Act
    h.service.kill("desk drill", actor="api:desk")

    # Assert
    events, audit = _rows(url)
    assert ("TRADING_STATE", "HALTED", "desk drill") in events
    assert ("KILL", "HALTED", "desk drill") in events
    assert ("KillSwitchActivated", "api:desk") in audit
    assert h.oms.repository.latest_trading_state() == ("HALTED", "desk drill")
    assert h.oms.gate.is_halted
    assert len(queued) == 1 and isinstance(queued[0], KillSwitch) and queued[0].durable
    h.oms.close()


def test_kill_waits_for_a_concurrent_sqlite_writer_instead_of_failing(tmp_path: Path) -> None:
    # Arrange: another connection holds the write lock for a moment (as an engine flush does)
    import threading

    h = make_harness(tmp_path)
    url = str(h.oms.database.url)
    locker = create_engine(url)
    connection = locker.connect()
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, connection.rollback)
    release.start()

    # Act
    started = time.monotonic()
    h.service.kill("while the engine writes", actor="api")
    waited = time.monotonic() - started

    # Assert
    release.join()
    connection.close()
    locker.dispose()
    assert waited >= 0.4  # it waited for the lock (busy timeout) rather than failing at once
    assert h.oms.repository.latest_trading_state() == ("HALTED", "while the engine writes")
    h.oms.close()


def test_a_failed_halt_write_still_halts_queues_and_says_not_durable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange
    h = make_harness(tmp_path)
    queued: list[Any] = []
    monkeypatch.setattr(h.engine, "enqueue", queued.append)  # the engine never sees it

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise PersistenceError("database write failed: disk I/O error")

    monkeypatch.setattr(h.oms.repository, "record_halt", broken)

    # Act
    with pytest.raises(PersistenceError, match="not yet durable") as caught:
        h.service.kill("disk drill", actor="api")

    # Assert
    assert "HALTED" in str(caught.value) and "disk I/O error" in str(caught.value)
    assert h.oms.gate.is_halted
    assert len(queued) == 1 and isinstance(queued[0], KillSwitch)
    assert not queued[0].durable  # the engine must write the rows itself
    h.oms.close()
