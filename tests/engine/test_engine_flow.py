"""Engine + paper venue + SQLite, end to end on a TestClock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from oms_harness import OmsHarness, make_harness
from sqlalchemy import select

from oms.errors import PersistenceError, TradingHalted, ValidationError
from oms.model import ChildOrder, ParentState, TradingState
from oms.persistence.tables import AuditRow, ChildOrderRow, FillRow, ParentOrderRow

TARGETS = "BTCUSDT 3000\nETHUSDT 2000\nSOLUSDT 1000"


def submit(h: OmsHarness, text: str = TARGETS, **kwargs: object) -> object:
    future = h.service.submit_rebalance(text, wait=False, **kwargs)  # type: ignore[arg-type]
    h.tick()
    return future.result(timeout=1)  # type: ignore[attr-defined]


def test_rebalance_fills_through_twap_and_matches_targets(harness: OmsHarness) -> None:
    result = submit(harness, algo="twap", duration_minutes=4)
    harness.run(6 * 60)

    snap = harness.service.snapshot()
    assert len(result.parent_ids) == 3  # type: ignore[attr-defined]
    assert {p.state for p in snap.parents} == {"COMPLETED"}
    targets = {"BTCUSDT": 3000, "ETHUSDT": 2000, "SOLUSDT": 1000}
    for pos in snap.positions:
        assert abs(float(pos.market_value) - targets[pos.symbol]) < 5 + 0.01 * targets[pos.symbol]
    with harness.oms.database.session() as s:
        parents = s.scalars(select(ParentOrderRow)).all()
        children = s.scalars(select(ChildOrderRow)).all()
        fills = s.scalars(select(FillRow)).all()
        audit_events = {r.event for r in s.scalars(select(AuditRow))}
    assert all(p.state == "COMPLETED" for p in parents)
    for p in parents:
        mine = [c for c in children if c.parent_id == p.parent_id]
        assert len(mine) > 1  # sliced
        assert sum(c.filled_quantity for c in mine) == p.filled_quantity == p.quantity
        assert sum(f.quantity for f in fills if f.parent_id == p.parent_id) == p.quantity
    assert {"ParentOrderCreated", "OrderCreated", "OrderAccepted",
            "OrderFilled", "ParentCompleted", "SessionEnded"} <= audit_events
    report = harness.service.report(result.session_id)  # type: ignore[attr-defined]
    assert report is not None and report["summary"]["parent_orders"] == 3


def test_child_row_is_committed_before_the_venue_sees_it(harness: OmsHarness) -> None:
    seen: list[bool] = []
    venue = harness.oms.venue
    original = venue._send

    def spy(order: ChildOrder, now: datetime) -> None:
        with harness.oms.database.session() as s:  # a separate connection: committed rows only
            seen.append(s.get(ChildOrderRow, order.client_order_id) is not None)
        original(order, now)

    venue._send = spy  # type: ignore[method-assign]
    submit(harness, "BTCUSDT 1000", algo="market")
    harness.run(5)
    assert seen and all(seen)


def test_bad_input_submits_nothing_and_engine_keeps_running(harness: OmsHarness) -> None:
    for text, kwargs in [("", {}), ("BTCUSDT -5", {}), ("FOO 10", {}),
                         ("BTCUSDT 10", {"duration_minutes": 0}),
                         ("BTCUSDT 10", {"algo": "magic"}),
                         ("BTCUSDT 10", {"urgency": 2})]:
        with pytest.raises(ValidationError):
            harness.service.submit_rebalance(text, wait=False, **kwargs)  # type: ignore[arg-type]
    harness.run(2)
    assert harness.service.parent_orders().total == 0
    submit(harness, "BTCUSDT 100", algo="market")
    harness.run(3)
    assert harness.service.parent_orders().total == 1


def test_kill_switch_halts_cancels_and_survives_restart(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    submit(h, algo="twap", duration_minutes=30)
    h.run(6 * 60)
    venue = h.oms.venue
    accepted_before = len(venue.accepted_log)  # type: ignore[attr-defined]

    h.service.kill("test kill", actor="tester")
    halt_instant = h.clock.now()
    h.run(120)

    snap = h.service.snapshot()
    assert snap.trading_state is TradingState.HALTED
    assert all(ts <= halt_instant for _, ts in venue.accepted_log)  # type: ignore[attr-defined]
    assert len(venue.accepted_log) == accepted_before  # type: ignore[attr-defined]
    assert {p.state for p in snap.parents} == {ParentState.HALTED.value}
    assert not h.engine.open_children
    with pytest.raises(TradingHalted):
        _submit_sync(h, "BTCUSDT 10")
    h.oms.close()

    restarted = make_harness(tmp_path)  # same database file
    assert restarted.service.snapshot().trading_state is TradingState.HALTED
    assert restarted.oms.gate.is_halted
    restarted.service.resume("checked, all clear", wait=False)
    restarted.tick()
    assert restarted.service.snapshot().trading_state is TradingState.ACTIVE
    assert not restarted.oms.gate.is_halted
    positions = {p.symbol: p.quantity for p in restarted.service.snapshot().positions}
    assert positions["BTCUSDT"] > 0  # rebuilt from stored fills
    restarted.oms.close()


def _submit_sync(h: OmsHarness, text: str) -> object:
    future = h.service.submit_rebalance(text, wait=False)
    h.tick()
    return future.result(timeout=1)  # type: ignore[attr-defined]


def test_a_failed_commit_sends_nothing_and_the_engine_recovers(harness: OmsHarness) -> None:
    repo = harness.oms.repository
    original = repo.write
    failures = {"left": 1}

    def flaky(batch: object) -> None:
        if failures["left"] and getattr(batch, "children", None):
            failures["left"] -= 1
            raise PersistenceError("disk full (simulated)")
        original(batch)  # type: ignore[arg-type]

    repo.write = flaky  # type: ignore[method-assign]
    submit(harness, "BTCUSDT 1000", algo="market")
    venue = harness.oms.venue
    assert venue.accepted_log == []  # type: ignore[attr-defined]
    assert "disk full" in (harness.service.snapshot().last_error or "")

    harness.run(180)
    assert harness.service.snapshot().last_error is None
    rows = harness.service.child_orders().rows
    assert rows and all(r["state"] == "FILLED" for r in rows)
    accepted = {cid for cid, _ in venue.accepted_log}  # type: ignore[attr-defined]
    assert accepted == {r["client_order_id"] for r in rows}  # every sent child is stored
