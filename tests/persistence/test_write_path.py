"""The engine's write path: what the journal hands the repository and the exact text stored.

The SQLite fast path and the SQLAlchemy Core path must store the same rows: audit payloads
encoded once (Decimals as exact text, datetimes as ISO-8601, enums as their values), a child
created and filled in one step inserted once with its final state, several changes of a row in
one step one update with the final state.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from oms_harness import T_START, OmsHarness
from sqlalchemy import text

from oms.bootstrap import build_oms
from oms.clock import TestClock
from oms.config import Settings
from oms.journal import Journal
from oms.model import (
    AlgoName,
    ChildOrder,
    ChildState,
    Fill,
    IdGenerator,
    Liquidity,
    OrderType,
    ParentOrder,
    ParentState,
    Side,
)
from oms.persistence import Database, Repository, WriteBatch

T0 = datetime(2024, 3, 4, 14, 0, 0, 123456, tzinfo=UTC)
T1 = T0 + timedelta(seconds=1)


class Color(Enum):
    """An enum that is not a str: stored as its value."""

    RED = "red"


def _repository(path: Path, *, core: bool) -> Repository:
    db = Database(f"sqlite:///{path}")
    db.migrate()
    repo = Repository(db)
    if core:
        repo._fast = None  # the SQLAlchemy Core statements (the PostgreSQL path)
    return repo


def _rows(repo: Repository, table: str) -> list[Any]:
    with repo.db.engine.connect() as conn:
        return list(conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all())


def _parent() -> ParentOrder:
    return ParentOrder("p1", "s1", "BTCUSDT", Side.BUY, Decimal("0.03"), AlgoName.TWAP, T0, 30.0,
                       algo_params={"slices": 3}, decision_price=Decimal("65000.01"))


def _child(cid: str) -> ChildOrder:
    return ChildOrder(cid, "p1", "BTCUSDT", Side.BUY, Decimal("0.01"), OrderType.LIMIT, T0,
                      "paper", limit_price=Decimal("64999.99"), updated_at=T0)


def _fill(fill_id: str, cid: str, quantity: str, ts: datetime) -> Fill:
    return Fill(fill_id, cid, "p1", "BTCUSDT", Side.BUY, Decimal("64999.99"), Decimal(quantity),
                Decimal("0.000649999900"), Liquidity.MAKER, ts, "paper",
                mid_price=Decimal("65000.005"), half_spread=Decimal("0.005"))


def _accept(child: ChildOrder, ts: datetime) -> None:
    child.sent_at = ts
    child.venue_order_id = f"v-{child.client_order_id}"
    child.acked_at = ts
    child.transition(ChildState.NEW, ts)


def _first_step(journal: Journal) -> tuple[ParentOrder, ChildOrder, ChildOrder]:
    """A session, a parent and two children; c1 is also accepted and filled in this step."""
    journal.session({"session_id": "s1", "kind": "rebalance", "created_at": T0, "ended_at": None,
                     "venue": "paper", "actor": "t", "targets": {"BTCUSDT": Decimal("100.5")},
                     "params": {"algo": AlgoName.TWAP, "at": T0}})
    parent = _parent()
    journal.parent_created(parent)
    parent.transition(ParentState.WORKING, T0)
    journal.parent_changed(parent)
    first, second = _child("c1"), _child("c2")
    for child in (first, second):
        journal.child_created(child, "slice")
        journal.audit(T0, "OrderCreated", child.client_order_id,
                      {"quantity": child.quantity, "type": child.order_type,
                       "limit_price": child.limit_price, "at": T0, "color": Color.RED,
                       "levels": (Decimal("1.10"), [Decimal("2E-8")]), "note": None})
    _accept(first, T0)
    fill = _fill("f1", "c1", "0.01", T0)
    first.apply_fill(fill)
    parent.record_fill(fill)
    journal.fill(fill)
    journal.child_changed(first)
    journal.parent_changed(parent)
    journal.risk_event(T0, "VIOLATION", "QUANTITY", "too big", symbol="BTCUSDT",
                       payload={"quantity": Decimal("15"), "max": Decimal("10.0")})
    return parent, first, second


def _second_step(journal: Journal, parent: ParentOrder, second: ChildOrder) -> None:
    """c2 is accepted, then filled in two parts: three changes of one row."""
    _accept(second, T1)
    journal.child_changed(second)
    for n, quantity in enumerate(("0.004", "0.006")):
        fill = _fill(f"f2-{n}", "c2", quantity, T1)
        second.apply_fill(fill)
        parent.record_fill(fill)
        journal.fill(fill)
        journal.child_changed(second)
        journal.parent_changed(parent)
        journal.audit(T1, "OrderFilled", "c2", {"price": fill.price, "state": second.state})
    journal.session_ended("s1", T1)


class _Recording(Repository):
    """A repository that keeps every batch it was asked to write."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.batches: list[WriteBatch] = []

    def write(self, batch: WriteBatch) -> None:
        self.batches.append(batch)
        super().write(batch)


def test_a_child_created_and_filled_in_one_step_is_inserted_once_with_its_final_state(
        tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    db.migrate()
    repo = _Recording(db)
    journal = Journal(repo)

    _first_step(journal)
    journal.flush()

    (batch,) = repo.batches
    assert batch.child_updates == [] and batch.parent_updates == []
    assert [(r["client_order_id"], r["state"]) for r in batch.children] == \
        [("c1", "FILLED"), ("c2", "PENDING_NEW")]
    assert [(r["state"], r["filled_quantity"]) for r in batch.parents] == \
        [("WORKING", Decimal("0.01"))]
    stored = {r.client_order_id: r for r in _rows(repo, "child_orders")}
    assert stored["c1"].state == "FILLED" and stored["c1"].filled_quantity == "0.01"
    assert stored["c1"].venue_order_id == "v-c1"


def test_several_changes_of_a_row_in_one_step_are_one_update_with_the_final_state(
        tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    db.migrate()
    repo = _Recording(db)
    journal = Journal(repo)
    parent, _, second = _first_step(journal)
    journal.flush()

    _second_step(journal, parent, second)
    journal.flush()

    batch = repo.batches[-1]
    assert batch.children == []
    assert [(r["client_order_id"], r["state"], r["filled_quantity"])
            for r in batch.child_updates] == [("c2", "FILLED", Decimal("0.010"))]
    assert [r["filled_quantity"] for r in batch.parent_updates] == [Decimal("0.020")]
    stored = {r.client_order_id: r for r in _rows(repo, "child_orders")}
    assert (stored["c2"].state, stored["c2"].filled_quantity) == ("FILLED", "0.010")
    assert _rows(repo, "parent_orders")[0].filled_quantity == "0.020"


def test_audit_payload_text_has_decimals_datetimes_and_enums_as_text(tmp_path: Path) -> None:
    repo = _repository(tmp_path / "a.db", core=False)
    journal = Journal(repo)

    _first_step(journal)
    journal.flush()

    payload = _rows(repo, "audit_log")[0].payload
    # compact JSON (oms.persistence.json_codec), the exact digits of every Decimal
    assert payload == (
        '{"quantity":"0.01","type":"LIMIT","limit_price":"64999.99",'
        '"at":"2024-03-04T14:00:00.123456+00:00","color":"red",'
        '"levels":["1.10",["2E-8"]],"note":null}')
    (risk,) = _rows(repo, "risk_events")
    assert risk.payload == '{"quantity":"15","max":"10.0"}'
    (session,) = _rows(repo, "sessions")
    assert session.targets == '{"BTCUSDT":"100.5"}'
    assert session.params == '{"algo":"twap","at":"2024-03-04T14:00:00.123456+00:00"}'
    assert repo.audit(entity_id="c1")[0]["payload"]["levels"] == ["1.10", ["2E-8"]]


def test_a_payload_is_stored_as_it_was_when_recorded(tmp_path: Path) -> None:
    repo = _repository(tmp_path / "a.db", core=False)
    journal = Journal(repo)
    payload: dict[str, Any] = {"reason": "first", "levels": [Decimal("1")]}

    journal.audit(T0, "Noted", "account", payload)
    payload["reason"] = "changed later"
    payload["levels"].append(Decimal("2"))
    journal.flush()

    assert json.loads(_rows(repo, "audit_log")[0].payload) == {"reason": "first",
                                                                "levels": ["1"]}


def _two_steps(repo: Repository) -> None:
    """The same two journal steps (create and send, then fill) written through ``repo``."""
    journal = Journal(repo)
    parent, _, second = _first_step(journal)
    journal.flush()
    _second_step(journal, parent, second)
    journal.flush()


def test_fast_path_and_core_path_store_the_same_journal_rows(tmp_path: Path) -> None:
    repos = [_repository(tmp_path / "fast.db", core=False),
             _repository(tmp_path / "core.db", core=True)]

    for repo in repos:
        _two_steps(repo)

    fast, core = repos
    for table in ("sessions", "parent_orders", "child_orders", "fills", "audit_log",
                  "risk_events"):
        rows = _rows(fast, table)
        assert rows, table
        assert rows == _rows(core, table), table


def _engine(tmp_path: Path, *, core: bool) -> OmsHarness:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'oms.db'}")
    clock = TestClock(T_START)
    oms = build_oms(settings, clock=clock, ids=IdGenerator("t"))
    if core:
        oms.repository._fast = None
    oms.engine.start()
    return OmsHarness(oms, clock)


def test_an_engine_run_stores_the_same_rows_on_both_paths(tmp_path: Path) -> None:
    runs = []
    for name, core in (("fast", False), ("core", True)):
        (tmp_path / name).mkdir()
        harness = _engine(tmp_path / name, core=core)
        future = harness.service.submit_rebalance("BTCUSDT 3000\nETHUSDT 2000", wait=False,
                                                  algo="twap", duration_minutes=2)
        harness.tick()
        future.result(timeout=1)
        harness.run(3 * 60)
        runs.append(harness.oms.repository)

    fast, core = runs
    for table in ("sessions", "parent_orders", "child_orders", "fills", "audit_log",
                  "paper_state", "execution_reports"):
        rows = _rows(fast, table)
        assert rows, table
        assert rows == _rows(core, table), table
    events = {r.event for r in _rows(fast, "audit_log")}
    assert {"OrderCreated", "OrderAccepted", "OrderFilled", "ParentCompleted"} <= events


POSTGRES_URL = os.environ.get("OMS_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _postgresql_repository() -> Repository:
    db = Database(POSTGRES_URL)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS oms_write_test CASCADE"))
            conn.execute(text("CREATE SCHEMA oms_write_test"))
    except Exception as exc:  # no server on this machine
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    finally:
        db.dispose()
    db = Database(POSTGRES_URL + "?options=-csearch_path%3Doms_write_test")
    db.migrate()
    return Repository(db)


def test_postgresql_reads_back_what_sqlite_reads_back_from_the_journal(tmp_path: Path) -> None:
    repos = [_repository(tmp_path / "fast.db", core=False), _postgresql_repository()]

    for repo in repos:
        _two_steps(repo)

    sqlite, postgresql = repos
    try:
        for read in (lambda r: [(a["event"], a["entity_id"], a["payload"]) for a in r.audit()],
                     lambda r: [(e["code"], e["payload"]) for e in r.risk_events()],
                     lambda r: r.sessions(),
                     lambda r: r.children_page(order_by="client_order_id").rows):
            assert read(sqlite) == read(postgresql)
        payload = postgresql.audit(entity_id="c1")[0]["payload"]
        assert payload["limit_price"] == "64999.99" and payload["color"] == "red"
        assert payload["at"] == "2024-03-04T14:00:00.123456+00:00"
    finally:
        postgresql.db.dispose()
