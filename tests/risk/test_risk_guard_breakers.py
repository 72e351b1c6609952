"""G7: the breakers fed by RiskGuard count each event once.

Slippage: one occurrence per child order (its average over all its fills vs the mid when it was
created, adverse positive for both sides), when the child is done. Market stress: one source, the
mid's move between two ticks, so one move is one occurrence. Each breaker trips on exactly its
count within its window.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from risk_helpers import FakeEngine

from oms.config import BreakerSettings, CircuitBreakerSettings
from oms.engine.risk_guard import RiskGuard, child_slippage_bps
from oms.model.enums import ChildState, OrderType, Side, TradingState
from oms.model.orders import ChildOrder
from oms.risk.breakers import BreakerState, CircuitBreakers

REF = Decimal(50000)


def halts(guard: RiskGuard) -> list[str]:
    """The halts the guard decided (the engine's tick applies them)."""
    return [decision.reason for decision in guard.take_halts()]


def occurrences(guard: RiskGuard, name: str) -> int:
    return guard.breakers.state()[name].occurrences_in_window


def filled_child(engine: FakeEngine, side: Side, fills: list[tuple[str, str]]) -> ChildOrder:
    """A sent child of the summed quantity, filled by ``fills`` (quantity, price)."""
    total = sum((Decimal(q) for q, _ in fills), Decimal(0))
    child = engine.new_child(side=side, quantity=total)
    engine.send(child)
    for quantity, price in fills:
        engine.fill(child, quantity, price)
    return child


# --- slippage: one occurrence per child -----------------------------------------------------


def test_one_market_child_walking_six_levels_is_one_occurrence() -> None:
    # Arrange: a 75 BTC market buy fills on six book levels, each more than 25 bps above the mid
    engine = FakeEngine(positions={"BTCUSDT": "0"})
    guard = engine.guard()
    levels = [("10", "50150"), ("10", "50200"), ("15", "50250"), ("15", "50300"),
              ("15", "50400"), ("10", "50500")]
    child = filled_child(engine, Side.BUY, levels)
    # Act
    guard.on_child_done(child, REF, engine.clock.now())
    # Assert: one occurrence, valued at the child's average price
    assert occurrences(guard, "high_slippage") == 1
    avg = sum(Decimal(q) * Decimal(p) for q, p in levels) / Decimal(75)
    expected = float((avg - REF) / REF) * 10_000
    assert guard.breakers.state()["high_slippage"].tripped is False
    assert child_slippage_bps(child, REF) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("side", "price", "adverse"),
    [
        (Side.SELL, "49800", True),  # a sell below its reference mid is adverse
        (Side.SELL, "50200", False),  # a sell above it is favourable
        (Side.BUY, "50200", True),
        (Side.BUY, "49800", False),
    ],
)
def test_slippage_is_signed_by_side(side: Side, price: str, adverse: bool) -> None:
    # Arrange: 40 bps away from the reference mid, threshold 25 bps
    engine = FakeEngine(positions={"BTCUSDT": "1"})
    guard = engine.guard()
    child = filled_child(engine, side, [("0.01", price)])
    # Act
    guard.on_child_done(child, REF, engine.clock.now())
    # Assert
    bps = child_slippage_bps(child, REF)
    assert bps == pytest.approx(40.0 if adverse else -40.0)
    assert occurrences(guard, "high_slippage") == (1 if adverse else 0)


def test_three_adverse_sells_trip_the_breaker_and_three_favourable_do_not() -> None:
    engine = FakeEngine(positions={"BTCUSDT": "1"})
    guard = engine.guard()
    for _ in range(3):  # sold above the mid: good for us
        guard.on_child_done(filled_child(engine, Side.SELL, [("0.01", "50200")]), REF,
                            engine.clock.now())
    assert halts(guard) == []
    for _ in range(3):  # sold below the mid: adverse
        guard.on_child_done(filled_child(engine, Side.SELL, [("0.01", "49800")]), REF,
                            engine.clock.now())
    assert halts(guard) == ["circuit breaker high_slippage tripped"]


def test_a_child_counts_once_however_often_it_is_reported() -> None:
    engine = FakeEngine()
    guard = engine.guard()
    now = engine.clock.now()
    child = engine.new_child(quantity="0.02")
    engine.send(child)
    engine.fill(child, "0.01", "50300")
    engine.fill(child, "0.01", "50300")
    guard.on_child_done(child, REF, now)
    guard.on_child_done(child, REF, now)  # reported twice (a fill and the terminal event)
    assert occurrences(guard, "high_slippage") == 1


def test_a_canceled_child_with_fills_counts_and_one_without_does_not() -> None:
    engine = FakeEngine()
    guard = engine.guard()
    now = engine.clock.now()
    partly = engine.new_child(quantity="0.02", order_type=OrderType.LIMIT, limit_price="50300")
    engine.send(partly)
    engine.fill(partly, "0.005", "50300")
    engine.close(partly, ChildState.CANCELED)
    unfilled = engine.new_child(quantity="0.03")
    engine.send(unfilled)
    engine.close(unfilled, ChildState.EXPIRED)
    guard.on_child_done(partly, REF, now)
    guard.on_child_done(unfilled, REF, now)
    guard.on_child_done(partly, None, now)
    assert occurrences(guard, "high_slippage") == 1


def test_no_reference_mid_counts_nothing() -> None:
    engine = FakeEngine()
    guard = engine.guard()
    child = filled_child(engine, Side.BUY, [("0.01", "60000")])
    guard.on_child_done(child, None, engine.clock.now())
    guard.on_child_done(child, Decimal(0), engine.clock.now())
    assert occurrences(guard, "high_slippage") == 0


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_slippage_trips_on_exactly_the_count_within_the_window(count: int) -> None:
    breakers = CircuitBreakerSettings(high_slippage=BreakerSettings(
        threshold=25, count=count, window_s=300, action="REDUCING"))
    engine = FakeEngine(breakers=breakers)
    guard = engine.guard()
    for i in range(count):
        assert guard.trading_state is TradingState.ACTIVE, f"tripped after {i} of {count}"
        child = filled_child(engine, Side.BUY, [("0.01", "50200")])
        guard.on_child_done(child, REF, engine.clock.now())
        if count > 1:
            engine.advance(300 / (count - 1))  # first and last exactly 300 s apart
    assert guard.trading_state is TradingState.REDUCING


def test_slippage_just_outside_the_window_does_not_count() -> None:
    engine = FakeEngine()
    guard = engine.guard()
    for _ in range(3):  # 150.001 s apart: the first is 300.002 s old at the third
        child = filled_child(engine, Side.BUY, [("0.01", "50200")])
        guard.on_child_done(child, REF, engine.clock.now())
        engine.advance(150.001)
    assert halts(guard) == []
    assert guard.breakers.state()["high_slippage"].state is BreakerState.ARMED


# --- market stress: one move, one occurrence ------------------------------------------------


def test_one_price_shock_is_one_occurrence_even_with_fills_across_it() -> None:
    # Arrange: a child created before a 300 bps shock fills after it
    engine = FakeEngine()
    guard = engine.guard()
    child = engine.new_child(quantity="0.01")
    engine.send(child)
    engine.advance(1)
    engine.shock("BTCUSDT", "48500")
    # Act: the tick sees the move; the fill (mid 48500 vs its child's 50000) adds nothing to
    # market stress (its slippage is favourable: bought below the reference mid)
    guard.on_tick(engine.clock.now())
    engine.fill(child, "0.01", "48501")
    guard.on_child_done(child, REF, engine.clock.now())
    for _ in range(10):  # the new level persists: no further moves
        engine.tick(guard, 1)
    # Assert
    assert occurrences(guard, "market_stress") == 1
    assert halts(guard) == []


def test_two_shocks_within_the_window_trip_market_stress() -> None:
    engine = FakeEngine()
    guard = engine.guard()
    engine.advance(1)
    engine.shock("BTCUSDT", "48500")
    guard.on_tick(engine.clock.now())
    engine.advance(60)  # exactly at the window's edge: still inside
    engine.shock("BTCUSDT", "50000")
    guard.on_tick(engine.clock.now())
    assert halts(guard) == ["circuit breaker market_stress tripped"]


def test_two_shocks_just_over_the_window_apart_do_not_trip() -> None:
    engine = FakeEngine()
    guard = engine.guard()
    engine.advance(1)
    engine.shock("BTCUSDT", "48500")
    guard.on_tick(engine.clock.now())
    engine.advance(60.001)
    engine.shock("BTCUSDT", "50000")
    guard.on_tick(engine.clock.now())
    assert halts(guard) == []
    assert occurrences(guard, "market_stress") == 1


def test_a_move_at_the_threshold_is_not_an_occurrence() -> None:
    engine = FakeEngine()
    guard = engine.guard()
    engine.advance(1)
    engine.shock("BTCUSDT", "50500")  # exactly 100 bps
    guard.on_tick(engine.clock.now())
    assert occurrences(guard, "market_stress") == 0


# --- the breakers themselves at custom counts -----------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 4])
@pytest.mark.parametrize("name", ["high_slippage", "high_latency", "market_stress"])
def test_each_breaker_trips_on_exactly_its_configured_count(name: str, count: int) -> None:
    settings = CircuitBreakerSettings(**{name: BreakerSettings(threshold=10, count=count,
                                                                window_s=30)})
    b = CircuitBreakers(settings)
    feed = {"high_slippage": b.on_child_slippage, "high_latency": b.on_latency,
            "market_stress": b.on_price_impact}[name]
    start = FakeEngine().clock.now()
    results = [feed(11.0, start + timedelta(seconds=i)) for i in range(count)]
    assert all(r is None for r in results[:-1])
    assert results[-1] is not None and len(results[-1].observations) == count
