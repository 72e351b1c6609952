"""Circuit breakers tripped through the paper venue's fault injection, seen by the engine."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from oms_harness import OmsHarness, make_harness

from oms.config import BreakerSettings, CircuitBreakerSettings, RiskLimits
from oms.model import TradingState

LIFTED = RiskLimits(max_orders_per_minute=1000, max_position_usd=10**7,
                    max_gross_exposure_usd=10**7, max_order_notional_usd=10**7)


QTY = {"BTCUSDT": "0.06", "ETHUSDT": "1.2", "SOLUSDT": "25"}


def start_twap(h: OmsHarness, symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")) -> None:
    """Aggressive 10-slice two-minute TWAPs (market children every ~12 s per symbol)."""
    futures = [h.service.submit_order(s, "BUY", QTY[s], "twap", 2, wait=False,
                                      algo_options={"slices": 10, "placement": "aggressive"})
               for s in symbols]
    h.tick()
    for future in futures:
        future.result(timeout=1)  # type: ignore[attr-defined]


def trips(h: OmsHarness) -> list[str]:
    return [e["code"] for e in h.service.risk_events(kind="BREAKER_TRIP")]


def test_rejections_trip_high_rejection_and_halt(tmp_path: Path) -> None:
    h = make_harness(tmp_path, risk=LIFTED)
    h.oms.venue.faults.reject_rate = 1.0  # type: ignore[attr-defined]
    start_twap(h)
    h.run(150)
    snap = h.service.snapshot()
    assert trips(h) == ["high_rejection"]
    assert snap.trading_state is TradingState.HALTED and h.oms.gate.is_halted
    assert snap.breakers["high_rejection"]["state"] == "TRIPPED"
    h.oms.close()


def test_latency_spike_trips_high_latency(tmp_path: Path) -> None:
    h = make_harness(tmp_path, risk=LIFTED)
    now = h.clock.now()
    h.oms.venue.faults.add_latency_spike(now, now + timedelta(minutes=5), 1500)  # type: ignore[attr-defined]
    start_twap(h, ("BTCUSDT", "ETHUSDT", "SOLUSDT"))
    h.run(150)
    assert "high_latency" in trips(h)
    assert h.service.snapshot().trading_state is TradingState.HALTED
    h.oms.close()


def test_price_shocks_trip_market_stress(tmp_path: Path) -> None:
    h = make_harness(tmp_path, risk=LIFTED)
    start = h.clock.now()
    h.oms.venue.price_shock("BTCUSDT", -300, at=start + timedelta(seconds=10))  # type: ignore[attr-defined]
    h.run(20)
    assert trips(h) == []  # one occurrence is not enough
    h.oms.venue.price_shock("BTCUSDT", 300, at=start + timedelta(seconds=40))  # type: ignore[attr-defined]
    h.run(30)
    assert trips(h) == ["market_stress"]
    assert h.service.snapshot().trading_state is TradingState.HALTED
    h.oms.close()


def test_slippage_breaker_can_move_the_account_to_reducing(tmp_path: Path) -> None:
    breakers = CircuitBreakerSettings(high_slippage=BreakerSettings(
        threshold=0.0, count=3, window_s=300, action="REDUCING"))
    h = make_harness(tmp_path, risk=LIFTED, breakers=breakers)
    start_twap(h)
    h.run(150)
    assert trips(h)[:1] == ["high_slippage"]
    assert h.service.snapshot().trading_state is TradingState.REDUCING
    h.service.resume("slippage understood", wait=False)
    h.tick()
    assert h.service.snapshot().trading_state is TradingState.REDUCING  # breaker still tripped
    h.service.reset_breaker("high_slippage", "checked", wait=False)
    h.tick()
    h.service.resume("slippage understood", wait=False)
    h.tick()
    assert h.service.snapshot().trading_state is TradingState.ACTIVE
    h.oms.close()


def test_a_tripped_breaker_stays_tripped_after_a_restart(tmp_path: Path) -> None:
    h = make_harness(tmp_path, risk=LIFTED)
    h.oms.venue.faults.reject_rate = 1.0  # type: ignore[attr-defined]
    start_twap(h)
    h.run(150)
    h.oms.close()

    restarted = make_harness(tmp_path, risk=LIFTED)
    snap = restarted.service.snapshot()
    assert snap.breakers["high_rejection"]["state"] == "TRIPPED"
    assert snap.trading_state is TradingState.HALTED
    restarted.service.resume("try to resume", wait=False)
    restarted.tick()
    assert restarted.service.snapshot().trading_state is TradingState.HALTED
    restarted.oms.close()
