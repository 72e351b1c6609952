"""The command rows as an engine command source, in process (TestClock) on the local PostgreSQL:
a command is marked done in the transaction of its effects, so a failed write leaves it pending
and it is applied once when the write succeeds; a tick that fails while applying a command marks
that one failed (never applied twice) and applies the commands after it once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from cluster_process import cluster_database, own, query
from oms_harness import T_START
from sqlalchemy import insert

from oms.bootstrap import Oms, build_oms
from oms.clock import TestClock
from oms.cluster.codec import encode_command
from oms.cluster.source import RowCommandSource
from oms.commands import SubmitParentOrder
from oms.config import Settings
from oms.errors import PersistenceError
from oms.model import IdGenerator
from oms.model.enums import AlgoName, Side
from oms.persistence.cluster_tables import CommandRow


@pytest.fixture
def oms() -> Iterator[tuple[Oms, TestClock, str]]:
    with cluster_database("oms_source") as url:
        clock = TestClock(T_START)
        built = build_oms(Settings(database_url=own(url)), clock=clock, ids=IdGenerator("t"))
        RowCommandSource(built.repository, built.engine.journal, "main").attach(built.engine)
        built.engine.start()
        try:
            yield built, clock, url
        finally:
            built.close()


def _send(url: str, oms: Oms, *actors: str) -> None:
    rows = []
    for actor in actors:
        kind, payload = encode_command(SubmitParentOrder(
            "BTCUSDT", Side.BUY, Decimal("0.001"), AlgoName.TWAP, 5.0, actor=actor))
        rows.append({"account": "main", "kind": kind, "payload": payload, "actor": actor,
                     "status": "pending", "created_at": T_START})
    with oms.database.engine.begin() as connection:
        connection.execute(insert(CommandRow.__table__), rows)


def _tick(oms: Oms, clock: TestClock) -> None:
    clock.advance(timedelta(seconds=1))
    oms.engine.tick()


def _sessions(url: str) -> dict[str, int]:
    return dict(query(url, "SELECT actor, count(*) FROM sessions GROUP BY actor"))


def test_a_failed_write_leaves_the_command_pending_then_applies_it_once(
        oms: tuple[Oms, TestClock, str]) -> None:
    engine_oms, clock, url = oms
    _send(url, engine_oms, "a1")
    failures = [1]

    def fail_once(session: Any, batch: Any) -> None:
        if failures:
            failures.pop()
            raise PersistenceError("injected: the database is away")

    engine_oms.repository.write_checks.insert(0, fail_once)

    # Act: the first tick applies it in memory, its write fails; the next tick writes it
    _tick(engine_oms, clock)
    after_failure = query(url, "SELECT status FROM commands")
    _tick(engine_oms, clock)
    _tick(engine_oms, clock)

    # Assert
    assert after_failure == [("pending",)]
    assert query(url, "SELECT status FROM commands") == [("done",)]
    assert _sessions(url) == {"a1": 1}


def test_a_tick_failing_mid_command_marks_it_failed_and_applies_the_rest_once(
        oms: tuple[Oms, TestClock, str], monkeypatch: pytest.MonkeyPatch) -> None:
    engine_oms, clock, url = oms
    _send(url, engine_oms, "b1", "b2", "b3")
    handler = engine_oms.engine.handler
    real = handler._dispatch

    def broken(command: Any, now: Any) -> Any:
        if command.actor == "b2":
            raise RuntimeError("injected bug")
        return real(command, now)

    monkeypatch.setattr(handler, "_dispatch", broken)

    # Act: the tick fails at b2 (b1 applied, b3 not reached); the next ticks recover
    _tick(engine_oms, clock)
    monkeypatch.setattr(handler, "_dispatch", real)
    _tick(engine_oms, clock)
    _tick(engine_oms, clock)

    # Assert: b2 is failed and not retried; b1 and b3 applied once each
    statuses = dict(query(url, "SELECT actor, status FROM commands"))
    assert statuses == {"b1": "done", "b2": "failed", "b3": "done"}
    assert _sessions(url) == {"b1": 1, "b3": 1}
    error = query(url, "SELECT error FROM commands WHERE actor = 'b2'")[0][0]
    assert "tick failed" in error
