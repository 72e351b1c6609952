"""G1: an acknowledged kill is durable. A real ``oms run`` subprocess answers POST /kill, is
SIGKILLed right after the 200, restarts on the same database and must come back HALTED, every
time, on SQLite and (when reachable) on PostgreSQL. A unit test checks that ``OmsService.kill``
has committed the halt rows before it returns, before any engine tick could write them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oms_harness import make_harness
from oms_process import OmsProcess, postgres_database, request
from sqlalchemy import create_engine, text

from oms.commands import KillSwitch
from oms.errors import PersistenceError

ROUNDS = 3


def _kill_then_crash_then_restart(database_url: str, workdir: Path, rounds: int) -> list[str]:
    """Each round: resume to ACTIVE, kill, SIGKILL right after the 200, restart, read state."""
    states: list[str] = []
    process = OmsProcess(database_url, workdir)
    try:
        process.wait_ready()
        for round_no in range(rounds):
            status, body = request(process.port, "/resume", {"reason": f"round {round_no}"})
            assert status == 200, body
            status, body = request(process.port, "/kill", {"reason": f"drill {round_no}"})
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
    with postgres_database("oms_kill") as url:
        yield url


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
