"""The kill switch with 1,000 working children across three symbols."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from oms_harness import make_harness

from benchmarks.kill_bench import build_with_resting_children
from oms.errors import ValidationError
from oms.model import ChildState, TradingState


def test_kill_switch_cancels_1000_working_children_and_stays_halted(tmp_path: Path) -> None:
    oms, clock = build_with_resting_children(tmp_path / "oms.db", 1000)
    engine = oms.engine
    working = dict(engine.open_children)
    assert len(working) >= 1000
    assert len({c.symbol for c in working.values()}) == 3

    oms.service.kill("operator kill", actor="desk")
    halt_instant = clock.now()
    for _ in range(200):
        clock.advance(timedelta(milliseconds=10))
        engine.tick()
    # the engine keeps running its algorithms while halted: nothing may leave
    oms.service.submit_order("BTCUSDT", "BUY", "0.01", "market", 1, wait=False)
    for _ in range(10):
        clock.advance(timedelta(seconds=1))
        engine.tick()

    accepted_after = [cid for cid, ts in oms.venue.accepted_log  # type: ignore[attr-defined]
                      if ts > halt_instant]
    assert accepted_after == []
    final = Counter(ChildState(r["state"]) for r in
                    oms.service.child_orders(page_size=5000).rows
                    if r["client_order_id"] in working)
    assert set(final) <= {ChildState.CANCELED, ChildState.FILLED}
    assert sum(final.values()) == len(working)
    assert {r["state"] for r in oms.service.parent_orders().rows} == {"HALTED"}
    assert oms.service.snapshot().trading_state is TradingState.HALTED
    kill_events = oms.service.risk_events(kind="KILL")
    assert kill_events and kill_events[0]["actor"] == "desk"
    oms.close()

    restarted = make_harness(tmp_path)  # same database file
    assert restarted.service.snapshot().trading_state is TradingState.HALTED
    assert restarted.oms.gate.is_halted
    restarted.oms.close()


def test_a_kill_during_a_venue_outage_retries_its_cancels_and_refuses_resume_until_done(
        tmp_path: Path) -> None:
    oms, clock = build_with_resting_children(tmp_path / "oms.db", 50)
    engine, venue = oms.engine, oms.venue
    working = set(engine.open_children)
    venue.faults.add_outage(clock.now(), clock.now() + timedelta(seconds=20))  # type: ignore[attr-defined]

    def resume() -> object:
        future = oms.service.resume("back to work", actor="desk", wait=False)
        engine.tick()
        try:
            return future.result(timeout=5)
        except ValidationError as exc:
            return exc

    oms.service.kill("drill", actor="desk")
    for _ in range(10):  # 10 s into the outage: every cancel failed, none is forgotten
        clock.advance(timedelta(seconds=1))
        engine.tick()
    during = {c.state for cid, c in engine.open_children.items() if cid in working}
    shown = engine.tick().counts["cancels_unconfirmed"]
    refused = resume()
    for _ in range(60):  # the outage ends at 20 s; the retries (back-off capped at 30 s) finish
        clock.advance(timedelta(seconds=1))
        engine.tick()
    left = [cid for cid in engine.open_children if cid in working]
    retried = [r for r in oms.repository.audit(limit=10_000)
               if r["event"] == "OrderCancelFailed"]
    resumed = resume()
    oms.close()

    assert during == {ChildState.PENDING_CANCEL} and shown == len(working)
    assert "cancels not yet confirmed" in str(refused)
    assert left == []
    assert {r["entity_id"] for r in retried} == working
    assert max(r["payload"]["attempt"] for r in retried) >= 2
    assert getattr(resumed, "state", None) is TradingState.ACTIVE
