"""Failover and fencing against the local PostgreSQL, with real ``oms engine`` processes on
replayed Binance klines: a second engine waits as a hot standby; kill -9 of the active one
while commands stream in loses none and applies none twice; a SIGSTOPped engine is evicted, the
standby takes over within 5 s, the TWAP completes, and the frozen engine cannot write again.

``pytest tests/cluster/test_cluster_failover.py -s`` prints the takeover times.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from cluster_process import EngineProcess, cluster_database, own, query

from oms.cluster.client import CommandClient
from oms.cluster.lease import Lease
from oms.commands import SubmitParentOrder
from oms.errors import Fenced
from oms.model.enums import AlgoName, Side
from oms.persistence import Database, Repository, WriteBatch

SPEED = 60
COMMANDS = 150


@pytest.fixture
def url() -> Iterator[str]:
    with cluster_database("oms_failover") as database_url:
        yield database_url


def _data(binance_data: Path) -> tuple[str, ...]:
    return ("--data", str(binance_data / "klines_1m" / "BTCUSDT-1m-2024-01-01_2024-06-25.csv.gz"))


def _close(client: CommandClient | None, database: Database | None,
           *engines: EngineProcess | None) -> None:
    """A test's teardown: the client, the database and every engine process started."""
    if client is not None:
        client.close()
    if database is not None:
        database.dispose()
    for engine in engines:
        if engine is not None:
            engine.stop()


def _wait_standby(engine: EngineProcess, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while "waiting" not in engine.text():
        assert engine.process.poll() is None, engine.text()[-3000:]
        assert time.monotonic() < deadline, "the standby did not start waiting"
        time.sleep(0.05)


def _wait(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_kill_9_while_commands_stream_in_applies_each_exactly_once(
        url: str, tmp_path: Path, binance_data: Path) -> None:
    # Arrange: an active engine and a hot standby
    rng = random.Random(18)
    active = EngineProcess(url, tmp_path, speed=SPEED, args=_data(binance_data))
    standby = None
    database = Database(own(url))
    client = CommandClient(database)
    kill_at = rng.randrange(20, COMMANDS - 30)
    try:
        active.wait_active(60)
        standby = EngineProcess(url, tmp_path, speed=SPEED, args=_data(binance_data))
        _wait_standby(standby)

        # Act: commands stream in; the active engine is killed -9 at a seeded moment
        for i in range(COMMANDS):
            client.send("main", SubmitParentOrder("BTCUSDT", Side.BUY, Decimal("0.001"),
                                                  AlgoName.MARKET, 1.0, actor=f"c{i}"))
            if i == kill_at:
                active.sigkill()
                killed = time.monotonic()
            time.sleep(rng.uniform(0.0, 0.02))
        standby.wait_active(10)
        took = time.monotonic() - killed  # an upper bound: checked once the stream ended
        _wait(lambda: query(url, "SELECT count(*) FROM commands WHERE status = 'pending'")
              == [(0,)], 30, "commands left pending")

        # Assert: every command applied once (its own session and parent), none lost
        statuses = dict(query(url, "SELECT status, count(*) FROM commands GROUP BY status"))
        assert statuses == {"done": COMMANDS}, statuses
        sessions = dict(query(url, "SELECT actor, count(*) FROM sessions GROUP BY actor"))
        assert sessions == {f"c{i}": 1 for i in range(COMMANDS)}
        parents = query(url, "SELECT count(*), count(DISTINCT session_id) FROM parent_orders")
        assert parents == [(COMMANDS, COMMANDS)]
        assert query(url, "SELECT epoch FROM engine_leases") == [(2,)]
        print(f"killed after command {kill_at}; standby active within {took:.2f} s")
    finally:
        _close(client, database, active, standby)


def test_kill_9_with_a_backlog_of_pending_commands_applies_each_exactly_once(
        url: str, tmp_path: Path, binance_data: Path) -> None:
    # Arrange: 120 commands pending before the engine starts; it applies one per tick
    rng = random.Random(7)
    args = (*_data(binance_data), "--command-batch", "1")
    database = Database(own(url))
    client = CommandClient(database)
    for i in range(120):
        client.send("main", SubmitParentOrder("BTCUSDT", Side.BUY,
                                              Decimal("0.001"), AlgoName.MARKET, 1.0,
                                              actor=f"b{i}"))
    active = EngineProcess(url, tmp_path, speed=SPEED, args=args)
    standby = None
    try:
        active.wait_active(60)
        standby = EngineProcess(url, tmp_path, speed=SPEED, args=args)
        _wait_standby(standby)

        # Act: kill -9 at a seeded moment while the backlog is being applied
        _wait(lambda: query(url, "SELECT count(*) FROM commands WHERE status = 'done'")[0][0]
              >= 8, 20, "the engine applied nothing")
        time.sleep(rng.uniform(0.0, 0.5))
        left = query(url, "SELECT count(*) FROM commands WHERE status = 'pending'")[0][0]
        active.sigkill()
        standby.wait_active(10)
        _wait(lambda: query(url, "SELECT count(*) FROM commands WHERE status = 'pending'")
              == [(0,)], 30, "commands left pending")

        # Assert
        assert left > 0, "the kill came after the backlog: nothing was tested"
        assert dict(query(url, "SELECT status, count(*) FROM commands GROUP BY status")) \
            == {"done": 120}
        sessions = dict(query(url, "SELECT actor, count(*) FROM sessions GROUP BY actor"))
        assert sessions == {f"b{i}": 1 for i in range(120)}
        print(f"killed with {left} of 120 commands pending")
    finally:
        _close(client, database, active, standby)


def test_a_frozen_engine_is_evicted_the_twap_completes_and_it_cannot_write(
        url: str, tmp_path: Path, binance_data: Path) -> None:
    # Arrange: a TWAP working on the active engine, a standby waiting
    args = (*_data(binance_data), "--lease-timeout", "1.5")
    active = EngineProcess(url, tmp_path, speed=SPEED, args=args)
    standby = None
    database = Database(own(url))
    client = CommandClient(database)
    try:
        active.wait_active(60)
        standby = EngineProcess(url, tmp_path, speed=SPEED, args=args)
        _wait_standby(standby)
        result = client.call("main", SubmitParentOrder("BTCUSDT", Side.BUY, Decimal("0.05"),
                                                       AlgoName.TWAP, 10.0, actor="desk"))
        parent_id = result.parent_ids[0]
        _wait(lambda: query(url, "SELECT count(*) FROM fills")[0][0] > 0, 20, "no fill")

        # Act: freeze the active engine mid-TWAP
        active.signal(signal.SIGSTOP)
        took = standby.wait_active(10)
        active.signal(signal.SIGCONT)

        # Assert: taken over within 5 s; the frozen engine stops (fenced) without writing
        assert took < 5.0, took
        assert active.process.wait(timeout=15) == 3, active.text()[-2000:]
        _wait(lambda: query(url, "SELECT state FROM parent_orders WHERE parent_id = :p",
                            p=parent_id) == [("COMPLETED",)], 40, "the TWAP did not complete")
        filled = query(url, "SELECT sum(quantity) FROM fills WHERE parent_id = :p", p=parent_id)
        assert filled[0][0] == Decimal("0.05")
        assert query(url, "SELECT epoch FROM engine_leases") == [(2,)]
        print(f"SIGSTOP -> standby active in {took:.2f} s (lease timeout 1.5 s)")
    finally:
        _close(client, database, active, standby)


def test_a_standby_with_other_settings_is_refused_with_the_differences(
        url: str, tmp_path: Path) -> None:
    active = EngineProcess(url, tmp_path, speed=SPEED)
    other = None
    try:
        active.wait_active(60)
        other = EngineProcess(url, tmp_path, speed=30)
        assert other.process.wait(timeout=30) != 0
        assert "speed: active=60.0 standby=30.0" in other.text()
        assert active.active()
    finally:
        _close(None, None, active, other)


def test_a_write_under_a_lost_epoch_is_refused_whole(url: str) -> None:
    # Arrange: engine one holds epoch 1; its lock session is terminated; engine two takes over
    first = Lease(own(url), "main", holder="oms-test-first", settings={})
    assert first.acquire(threading.Event()) == 1
    repository = Repository(Database(own(url)))
    repository.write_checks.append(first.check)
    row = {"key": "k1", "value": {}, "updated_at": datetime.now(UTC)}
    repository.write(WriteBatch(state={"engine_state": {"k1": row}}))
    query(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
               "WHERE application_name = 'oms-test-first'")
    second = Lease(own(url), "main", holder="oms-test-second", settings={})
    assert second.acquire(threading.Event()) == 2

    # Act / Assert: the old engine's next write is Fenced and writes nothing
    late = {"key": "k2", "value": {}, "updated_at": datetime.now(UTC)}
    with pytest.raises(Fenced):
        repository.write(WriteBatch(state={"engine_state": {"k2": late}}))
    assert query(url, "SELECT key FROM engine_state WHERE key LIKE 'k%'") == [("k1",)]
    repository.write_checks[:] = [second.check]
    repository.write(WriteBatch(state={"engine_state": {"k2": late}}))
    assert len(query(url, "SELECT key FROM engine_state WHERE key LIKE 'k%'")) == 2
    second.close()
    repository.db.dispose()
