"""Guarantees of the engine core, attacked: rebalances never overtrade (G3), limits hold at submit
(G4), a tick never wedges (G6), the halt keeps its first reason, the preview is what is sent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from oms_harness import OmsHarness, make_harness

from oms.config import BreakerSettings, CircuitBreakerSettings, RiskLimits
from oms.engine.core import MAX_TICK_FAILURES
from oms.errors import ValidationError, VenueError
from oms.model import ParentState, TradingState

D = Decimal
LIFTED_RATE = RiskLimits(max_orders_per_minute=1000)


def _submit_many(h: OmsHarness, texts: list[str], **kwargs: Any) -> list[Any]:
    futures = [h.service.submit_rebalance(t, wait=False, **kwargs) for t in texts]
    h.tick()
    return [f.result(timeout=1) for f in futures]  # type: ignore[attr-defined]


def _position_usd(h: OmsHarness, symbol: str) -> Decimal:
    pos = h.engine.account.position(symbol).quantity
    mid = h.engine.mid(symbol)
    assert mid is not None
    return pos * mid


def _settle(h: OmsHarness, seconds: float = 8 * 60) -> None:
    h.run(seconds)
    assert not h.engine.parents, "every parent ended"


@pytest.mark.parametrize("algo", ["market", "twap"])
def test_identical_rebalances_in_one_tick_end_at_the_target(tmp_path: Path, algo: str) -> None:
    h = make_harness(tmp_path, risk=LIFTED_RATE)
    _submit_many(h, ["BTCUSDT 3000"] * 3, algo=algo, duration_minutes=3)
    _settle(h)
    assert abs(_position_usd(h, "BTCUSDT") - 3000) < 30  # one percent: drift and rounding


@pytest.mark.parametrize("algo", ["market", "twap"])
def test_quick_sequential_rebalances_end_at_the_target(tmp_path: Path, algo: str) -> None:
    h = make_harness(tmp_path, risk=LIFTED_RATE)
    for _ in range(3):
        _submit_many(h, ["BTCUSDT 3000"], algo=algo, duration_minutes=3)
        h.run(2)
    _settle(h)
    assert abs(_position_usd(h, "BTCUSDT") - 3000) < 30


def test_quick_rebalances_to_zero_never_go_short(tmp_path: Path) -> None:
    h = make_harness(tmp_path, risk=LIFTED_RATE)
    _submit_many(h, ["BTCUSDT 3000"], algo="market")
    _settle(h, 60)
    for _ in range(3):
        _submit_many(h, ["BTCUSDT 0"], algo="twap", duration_minutes=2)
        h.run(1)
        assert h.engine.account.position("BTCUSDT").quantity >= 0
    _settle(h)
    assert D(0) <= h.engine.account.position("BTCUSDT").quantity * 60_000 < 10


def test_a_new_target_supersedes_what_is_working(tmp_path: Path) -> None:
    h = make_harness(tmp_path, risk=LIFTED_RATE)
    (first,) = _submit_many(h, ["BTCUSDT 3000"], algo="twap", duration_minutes=10)
    (second,) = _submit_many(h, ["BTCUSDT 1000"], algo="twap", duration_minutes=10)
    assert second.superseded == first.parent_ids
    (old,) = h.service.repository.parents_of_session(first.session_id)
    assert old.state is ParentState.CANCELED and "superseded" in (old.end_reason or "")


def test_a_target_over_the_position_limit_is_refused_at_submit(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    future = h.service.submit_rebalance("BTCUSDT 50000", wait=False)
    h.tick()
    with pytest.raises(ValidationError) as err:
        future.result(timeout=1)
    assert err.value.errors[0].field == "targets.BTCUSDT"
    assert "10000" in err.value.errors[0].message
    assert not h.engine.parents and h.service.sessions() == []  # nothing queued


def test_clip_lowers_the_target_to_the_position_limit(tmp_path: Path) -> None:
    h = make_harness(tmp_path, risk=LIFTED_RATE)
    (result,) = _submit_many(h, ["BTCUSDT 50000"], algo="market", on_limit="clip")
    assert len(result.parent_ids) == 1
    _settle(h, 60)
    assert _position_usd(h, "BTCUSDT") <= 10_000 * D("1.01")


def test_the_preview_is_what_is_sent(tmp_path: Path) -> None:
    h = make_harness(tmp_path, risk=LIFTED_RATE)
    h.tick()
    preview = h.service.preview_rebalance("BTCUSDT 3000\nETHUSDT 2000")
    (result,) = _submit_many(h, ["BTCUSDT 3000\nETHUSDT 2000"], algo="twap")
    sent = h.service.repository.parents_of_session(result.session_id)
    assert [(p.symbol, p.quantity) for p in preview.parents] == \
        [(p.symbol, p.quantity) for p in sent]
    refused = h.service.preview_rebalance("BTCUSDT 50000")
    assert refused.breaches and "POSITION_LIMIT" in refused.breaches[0].message


def test_a_breaker_tripping_on_the_completing_fill_halts_cleanly(tmp_path: Path) -> None:
    breakers = CircuitBreakerSettings(
        high_slippage=BreakerSettings(threshold=-1000, count=1, window_s=60, action="HALTED"))
    h = make_harness(tmp_path, risk=LIFTED_RATE, breakers=breakers)
    _submit_many(h, ["BTCUSDT 3000"], algo="market")
    h.run(5)
    snap = h.service.snapshot()
    assert snap.trading_state is TradingState.HALTED
    assert snap.last_error is None and h.engine.failures == 0
    assert not h.engine.open_children
    h.run(5)
    assert not h.engine.parents  # the halted parent retired: nothing is left WORKING
    assert h.engine.failures == 0


def test_consecutive_tick_failures_escalate_to_halted(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    h = make_harness(tmp_path, risk=LIFTED_RATE)
    _submit_many(h, ["BTCUSDT 3000"], algo="twap", duration_minutes=10)

    def broken(now: object) -> list[Any]:
        raise VenueError("poll exploded")

    monkeypatch.setattr(h.oms.venue, "poll", broken)
    for _ in range(MAX_TICK_FAILURES - 1):
        h.run(1)
    assert h.service.snapshot().trading_state is TradingState.ACTIVE
    h.run(1)
    snap = h.service.snapshot()
    assert snap.trading_state is TradingState.HALTED
    assert "poll exploded" in (snap.last_error or "") and "poll exploded" in snap.halt_reason
    assert all(p.state is ParentState.HALTED for p in h.engine.parents.values())
    halts = [e for e in h.service.risk_events(kind="KILL")]
    assert halts and halts[0]["actor"] == "engine"


def test_halting_twice_keeps_the_first_reason_and_time(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    h.tick()
    first = h.engine.clock.now()
    h.engine.handler.halt("first", "alice", first)
    h.clock.advance(timedelta(seconds=5))
    h.engine.handler.halt("second", "bob", h.engine.clock.now())
    h.tick()
    assert h.engine.gate.reason == "first" and h.engine.gate.halted_at == first
    assert h.service.snapshot().halt_reason == "first"
    states = h.service.risk_events(kind="TRADING_STATE")
    assert [(e["code"], e["message"]) for e in states] == [("HALTED", "first")]
