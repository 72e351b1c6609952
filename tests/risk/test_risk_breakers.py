"""Circuit breakers: trip at exactly the count within the window, not one fewer nor spread out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from risk_helpers import T0

from oms.config import BreakerSettings, CircuitBreakerSettings
from oms.errors import InvalidTransition
from oms.model.enums import TradingState
from oms.risk.breakers import BreakerState, BreakerTrip, CircuitBreakers

Feed = Callable[[CircuitBreakers, datetime], BreakerTrip | None]


def _slip(b: CircuitBreakers, t: datetime) -> BreakerTrip | None:
    return b.on_child_slippage(25.01, t)


def _reject(b: CircuitBreakers, t: datetime) -> BreakerTrip | None:
    return b.on_order_result(True, t)


def _latency(b: CircuitBreakers, t: datetime) -> BreakerTrip | None:
    return b.on_latency(1000.5, t)


def _impact(b: CircuitBreakers, t: datetime) -> BreakerTrip | None:
    return b.on_price_impact(-100.5, t)


# name, feed, count, window seconds (the product spec's defaults)
SPEC = [
    ("high_slippage", _slip, 3, 300),
    ("high_rejection", _reject, 5, 120),
    ("high_latency", _latency, 5, 180),
    ("market_stress", _impact, 2, 60),
]


@pytest.mark.parametrize(("name", "feed", "count", "window_s"), SPEC)
def test_trips_at_exactly_the_count_within_the_window(
    name: str, feed: Feed, count: int, window_s: int
) -> None:
    # Arrange: occurrences spread evenly so the first and last are exactly window_s apart
    b = CircuitBreakers()
    step = timedelta(seconds=window_s / (count - 1))
    # Act
    results = [feed(b, T0 + step * i) for i in range(count)]
    # Assert
    assert all(r is None for r in results[:-1])
    trip = results[-1]
    assert trip is not None
    assert trip.name == name
    assert trip.action is TradingState.HALTED
    assert len(trip.observations) == count
    assert trip.at == T0 + step * (count - 1)
    assert b.state()[name].state is BreakerState.TRIPPED
    assert b.state()[name].last_reason == trip.reason
    assert b.tripped() == [name]


@pytest.mark.parametrize(("name", "feed", "count", "window_s"), SPEC)
def test_one_occurrence_fewer_does_not_trip(
    name: str, feed: Feed, count: int, window_s: int
) -> None:
    b = CircuitBreakers()
    results = [feed(b, T0 + timedelta(seconds=i)) for i in range(count - 1)]
    assert all(r is None for r in results)
    assert b.state()[name].state is BreakerState.ARMED
    assert b.state()[name].occurrences_in_window == count - 1


@pytest.mark.parametrize(("name", "feed", "count", "window_s"), SPEC)
def test_occurrences_spread_beyond_the_window_do_not_trip(
    name: str, feed: Feed, count: int, window_s: int
) -> None:
    # first and last just over window_s apart
    b = CircuitBreakers()
    step = timedelta(seconds=window_s / (count - 1)) + timedelta(milliseconds=1)
    results = [feed(b, T0 + step * i) for i in range(count)]
    assert all(r is None for r in results)
    assert b.state()[name].state is BreakerState.ARMED


@pytest.mark.parametrize(
    ("method", "at_threshold"),
    [("on_child_slippage", 25.0), ("on_latency", 1000.0), ("on_price_impact", 100.0),
     ("on_price_impact", -100.0)],
)
def test_values_at_the_threshold_are_not_occurrences(method: str, at_threshold: float) -> None:
    b = CircuitBreakers()
    for i in range(10):
        assert getattr(b, method)(at_threshold, T0 + timedelta(seconds=i)) is None
    assert b.tripped() == []


def test_favourable_slippage_does_not_count() -> None:
    b = CircuitBreakers()
    for i in range(5):
        assert b.on_child_slippage(-80.0, T0 + timedelta(seconds=i)) is None
    assert b.state()["high_slippage"].occurrences_in_window == 0


def test_rejections_at_a_low_rate_do_not_trip() -> None:
    # 5 rejections among 50 results: 10 % at most, never above
    b = CircuitBreakers()
    trips = []
    t = T0
    for i in range(50):
        t += timedelta(seconds=1)
        trips.append(b.on_order_result(i % 10 == 9, t))
    assert all(x is None for x in trips)
    assert b.rejection_rate_pct() == pytest.approx(10.0)
    assert b.state()["high_rejection"].state is BreakerState.ARMED


def test_rejection_rate_just_above_threshold_trips() -> None:
    # 9 results per rejection (rate 11.1 %): five rejections in 2 minutes trip it
    b = CircuitBreakers()
    t = T0
    trip = None
    for i in range(45):
        t += timedelta(seconds=2)
        trip = b.on_order_result(i % 9 == 8, t) or trip
    assert trip is not None and trip.name == "high_rejection"
    assert [o.value for o in trip.observations] == pytest.approx([11.11] * 5, abs=0.01)


def test_trip_reason_has_the_numbers() -> None:
    b = CircuitBreakers()
    b.on_child_slippage(30.0, T0)
    b.on_child_slippage(41.5, T0 + timedelta(seconds=10))
    trip = b.on_child_slippage(26.0, T0 + timedelta(seconds=20))
    assert trip is not None
    assert trip.reason == (
        "HIGH_SLIPPAGE: 3 child orders slipped more than 25 bps within 300s (30, 41.5, 26) "
        "-> HALTED"
    )
    assert [o.value for o in trip.observations] == [30.0, 41.5, 26.0]


def test_a_tripped_breaker_ignores_further_observations_until_reset() -> None:
    b = CircuitBreakers()
    b.on_price_impact(150, T0)
    assert b.on_price_impact(150, T0) is not None
    assert b.on_price_impact(150, T0) is None
    assert b.on_price_impact(150, T0) is None
    event = b.reset("market_stress", "alice", "news absorbed", T0 + timedelta(minutes=1))
    assert event.who == "alice"
    assert b.state()["market_stress"].state is BreakerState.ARMED
    assert b.state()["market_stress"].occurrences_in_window == 0
    assert b.on_price_impact(150, T0 + timedelta(minutes=1)) is None  # counting starts afresh


def test_reset_rules() -> None:
    b = CircuitBreakers()
    with pytest.raises(InvalidTransition, match="already ARMED"):
        b.reset("high_latency", "alice", "why", T0)
    with pytest.raises(InvalidTransition, match="unknown breaker"):
        b.reset("nope", "alice", "why", T0)
    b.on_price_impact(150, T0)
    b.on_price_impact(150, T0)
    with pytest.raises(InvalidTransition, match="who and a reason"):
        b.reset("market_stress", "alice", "", T0)
    assert b.tripped() == ["market_stress"]


def _with(**kwargs: BreakerSettings) -> CircuitBreakerSettings:
    return CircuitBreakerSettings(**kwargs)


def test_cooldown_makes_it_rearmable_never_armed() -> None:
    settings = _with(market_stress=BreakerSettings(threshold=100, count=2, window_s=60,
                                                   cooldown_s=300))
    b = CircuitBreakers(settings)
    b.on_price_impact(200, T0)
    trip = b.on_price_impact(200, T0)
    assert trip is not None
    assert b.state()["market_stress"].state is BreakerState.COOLDOWN
    assert b.state()["market_stress"].cooldown_until == T0 + timedelta(seconds=300)
    with pytest.raises(InvalidTransition, match="cools down"):
        b.reset("market_stress", "alice", "too early", T0 + timedelta(seconds=299))
    assert b.tick(T0 + timedelta(seconds=299)) == []
    events = b.tick(T0 + timedelta(seconds=300))
    assert [e.name for e in events] == ["market_stress"]
    assert b.state()["market_stress"].state is BreakerState.REARMABLE
    assert b.tripped() == ["market_stress"]  # still blocks resuming until a person re-arms
    b.reset("market_stress", "alice", "calm again", T0 + timedelta(seconds=301))
    assert b.state()["market_stress"].state is BreakerState.ARMED


def test_reducing_action_and_custom_thresholds() -> None:
    settings = _with(high_latency=BreakerSettings(threshold=500, count=2, window_s=10,
                                                  action="REDUCING"))
    b = CircuitBreakers(settings)
    assert b.on_latency(600, T0) is None
    trip = b.on_latency(600, T0 + timedelta(seconds=10))
    assert trip is not None and trip.action is TradingState.REDUCING
    assert b.state()["high_latency"].action is TradingState.REDUCING


def test_disabled_breaker_never_trips() -> None:
    settings = _with(market_stress=BreakerSettings(threshold=100, count=2, window_s=60,
                                                   enabled=False))
    b = CircuitBreakers(settings)
    for _ in range(5):
        assert b.on_price_impact(500, T0) is None


def test_configure_changes_thresholds_and_keeps_state() -> None:
    b = CircuitBreakers()
    b.on_price_impact(150, T0)
    b.configure(_with(market_stress=BreakerSettings(threshold=200, count=2, window_s=60)))
    assert b.on_price_impact(150, T0) is None
    assert b.state()["market_stress"].threshold == 200


def test_state_lists_all_four_with_defaults() -> None:
    status = CircuitBreakers().state()
    assert list(status) == ["high_slippage", "high_rejection", "high_latency", "market_stress"]
    figures = {n: (s.threshold, s.count, s.window_s, s.action) for n, s in status.items()}
    assert figures == {
        "high_slippage": (25.0, 3, 300.0, TradingState.HALTED),
        "high_rejection": (10.0, 5, 120.0, TradingState.HALTED),
        "high_latency": (1000.0, 5, 180.0, TradingState.HALTED),
        "market_stress": (100.0, 2, 60.0, TradingState.HALTED),
    }
    assert all(not s.tripped and s.last_trip_at is None for s in status.values())


def test_snapshot_dict_and_blockers_after_a_trip() -> None:
    b = CircuitBreakers()
    b.on_price_impact(150, T0)
    trip = b.on_price_impact(-180, T0 + timedelta(seconds=5))
    status = b.state()["market_stress"].as_dict()
    assert trip is not None
    assert status["state"] == "TRIPPED" and status["tripped"] is True
    assert status["action"] == "HALTED"
    assert status["last_trip_at"] == (T0 + timedelta(seconds=5)).isoformat()
    assert "MARKET_STRESS: 2 price impacts above 100 bps within 60s (150, 180)" in str(
        status["last_reason"]
    )
    assert b.blocking() == ["market_stress"]
    assert str(trip.observations[0]) == f"{T0.isoformat()} 150"


def test_restore_trip_keeps_a_breaker_tripped_across_a_restart() -> None:
    b = CircuitBreakers()
    b.restore_trip("high_latency", T0, "HIGH_LATENCY: persisted")
    status = b.state()["high_latency"]
    assert status.state is BreakerState.TRIPPED
    assert status.last_reason == "HIGH_LATENCY: persisted"
    assert b.blocking() == ["high_latency"]
    for i in range(10):  # a tripped breaker does not trip again
        assert b.on_latency(5000, T0 + timedelta(seconds=i)) is None


def test_restore_trip_resumes_the_cooldown() -> None:
    settings = _with(high_latency=BreakerSettings(threshold=1000, count=5, window_s=180,
                                                  cooldown_s=60))
    b = CircuitBreakers(settings)
    b.restore_trip("high_latency", T0, "persisted")
    assert b.state()["high_latency"].state is BreakerState.COOLDOWN
    assert [e.name for e in b.tick(T0 + timedelta(seconds=60))] == ["high_latency"]


def test_trip_as_dict() -> None:
    b = CircuitBreakers()
    b.on_price_impact(150, T0)
    trip = b.on_price_impact(120, T0)
    assert trip is not None
    data = trip.as_dict()
    assert data["name"] == "market_stress" and data["action"] == "HALTED"
    assert data["observations"] == [{"at": T0.isoformat(), "value": 150.0},
                                    {"at": T0.isoformat(), "value": 120.0}]
