"""TWAP: exact totals, bounded randomisation, reproducibility and execution behaviour.

The runs go through the real engine (``algo_fakes.execute``: ExecutionEngine + ScriptedVenue +
SQLite + TestClock); halts and denials come from the engine's own risk.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from algo_fakes import BTC, T0, FakeMarket, execute, make_parent, scripted

from oms.algos.base import AlgoContext, ChildIntent
from oms.algos.twap import TwapAlgo
from oms.commands import ResetBreaker, Resume
from oms.config import BreakerSettings, CircuitBreakerSettings
from oms.execution_harness import BACKTEST_LIMITS
from oms.model.enums import AlgoName, ChildState, OrderType, ParentState
from oms.model.orders import ChildOrder

TWAP = AlgoName.TWAP
# a market move above 50 bps between two ticks puts the account in REDUCING: a buy parent may
# send nothing more (the algorithm sees ``trading_allowed`` False) until re-armed and resumed
REDUCE_ON_SHOCK = CircuitBreakerSettings(market_stress=BreakerSettings(
    threshold=50.0, count=1, window_s=60.0, action="REDUCING"))


def _shock_at(at: datetime) -> FakeMarket:
    """A flat market whose price jumps 1% (100 bps) at ``at``."""
    return FakeMarket(price_fn=lambda t: 50_000.0 if t < at else 50_500.0)


def _planned(quantity: str = "0.5", seed: int = 1, **options: object) -> TwapAlgo:
    parent = make_parent(quantity)
    algo = TwapAlgo(parent, seed=seed, filters=BTC, **options)  # type: ignore[arg-type]
    market = FakeMarket()
    market.advance_to(T0)
    algo.on_start(AlgoContext(T0, parent, market.quote("BTCUSDT"), BTC, market))
    return algo


def test_default_schedule_sums_exactly_with_bounded_sizes() -> None:
    algo = _planned("0.51237")

    sizes = [s.quantity for s in algo.slices]

    assert len(sizes) == 15  # 30 minutes // 2
    assert sum(sizes) == Decimal("0.51237")
    nominal = Decimal("0.51237") / 15
    assert all(nominal * Decimal("0.8") - BTC.step_size <= q for q in sizes)
    assert all(q <= nominal * Decimal("1.2") + BTC.step_size for q in sizes)
    assert len(set(sizes)) > 1  # actually randomised


def test_schedule_is_reproducible_for_a_seed_and_differs_across_seeds() -> None:
    first, again, other = _planned(seed=5), _planned(seed=5), _planned(seed=6)

    assert first.slices == again.slices
    assert first.slices != other.slices


def test_slice_count_options_clamp_the_default() -> None:
    assert len(_planned(min_slices=20).slices) == 20
    assert len(_planned(max_slices=4).slices) == 4
    assert len(_planned(slices=7).slices) == 7


def test_tiny_parent_is_merged_not_sent_below_min_notional() -> None:
    algo = _planned("0.00025")  # 12.5 USD: at most two tradable slices

    assert sum(s.quantity for s in algo.slices) == Decimal("0.00025")
    assert all(s.quantity * 50_000 >= 5 for s in algo.slices)


def test_full_run_fills_exactly_the_parent_with_passive_then_cross() -> None:
    market = FakeMarket()  # flat price: passive orders never cross, so every slice crosses

    result = execute(TWAP, "0.5", market=market, duration=10)

    assert result.parent.filled_quantity == Decimal("0.5")
    passive = [c for c in result.children if c.order_type is OrderType.LIMIT]
    crosses = [c for c in result.children if c.order_type is OrderType.MARKET]
    assert len(passive) == 5 and len(crosses) == 5
    assert all(c.state is ChildState.CANCELED for c in passive)
    assert result.ended_at is not None and result.ended_at <= T0 + timedelta(minutes=10)


def test_partial_passive_fills_are_crossed_for_the_rest_only() -> None:
    market = FakeMarket()
    venue = scripted(passive_fill_share=Decimal("0.4"))

    result = execute(TWAP, "0.5", market=market, venue=venue, duration=10)

    assert result.parent.filled_quantity == Decimal("0.5")
    maker = sum(f.quantity for f in result.fills if f.liquidity.value == "maker")
    assert Decimal("0.15") < maker < Decimal("0.25")  # ~40% passive


def test_aggressive_placement_sends_market_children_only() -> None:
    result = execute(TWAP, "0.5", market=FakeMarket(), duration=10,
                     options={"placement": "aggressive"})

    assert all(c.order_type is OrderType.MARKET for c in result.children)
    assert result.parent.filled_quantity == Decimal("0.5")


def test_risk_denial_shrinks_children_and_still_completes() -> None:
    # the engine's pre-trade risk denies children above 3,000 USD; the algorithm is not told
    # the limit (max_child_notional unset), so it learns it from the denials and halves
    limits = BACKTEST_LIMITS.model_copy(update={"max_order_notional_usd": Decimal(3_000)})

    result = execute(TWAP, "0.5", market=FakeMarket(), duration=10, risk=limits,
                     options={"placement": "aggressive", "max_child_notional": None})

    assert result.rejects and all("MAX_ORDER_NOTIONAL" in r for r in result.rejects)
    assert result.parent.filled_quantity == Decimal("0.5")
    filled = [c.quantity for c in result.children if c.state is ChildState.FILLED]
    assert max(filled) * 50_000 <= 3_000


def test_persistent_rejections_stop_the_algo_with_a_reason() -> None:
    venue = scripted(reject=lambda c: (-2010, "Account has insufficient balance"))

    result = execute(TWAP, "0.5", market=FakeMarket(), venue=venue, duration=10,
                     options={"max_rejects": 4})

    assert len(result.rejects) == 4
    assert "stopped after 4 consecutive rejections" in result.end_reason
    assert result.parent.filled_quantity == 0 and result.parent.remaining == Decimal("0.5")


def test_halted_engine_sends_nothing_and_the_rest_is_reported() -> None:
    halt_at = T0 + timedelta(minutes=4)

    result = execute(TWAP, "0.5", market=_shock_at(halt_at), duration=10,
                     breakers=REDUCE_ON_SHOCK, options={"placement": "aggressive"})

    assert all(c.created_at < halt_at for c in result.children)
    assert 0 < result.parent.filled_quantity < Decimal("0.5")
    assert result.parent.state is ParentState.CANCELED
    assert result.end_reason.startswith("window ended with")
    assert "unfilled" in result.end_reason


def test_resume_after_halt_catches_up() -> None:
    halted = (T0 + timedelta(minutes=2), T0 + timedelta(minutes=5))
    rearm = [(halted[1], ResetBreaker(name="market_stress", reason="shock understood")),
             (halted[1], Resume(reason="market calm again"))]

    result = execute(TWAP, "0.5", market=_shock_at(halted[0]), duration=10,
                     breakers=REDUCE_ON_SHOCK, script=rearm,
                     options={"placement": "aggressive"})

    assert result.parent.filled_quantity == Decimal("0.5")
    assert not [c for c in result.children if halted[0] <= c.created_at < halted[1]]
    assert [c for c in result.children if c.created_at >= halted[1]]


def test_market_closed_delays_then_window_end_reports_the_rest() -> None:
    market = FakeMarket(closed=lambda t: t >= T0 + timedelta(minutes=6))

    result = execute(TWAP, "0.5", market=market, duration=10,
                     options={"placement": "aggressive"})

    assert 0 < result.parent.filled_quantity < Decimal("0.5")
    assert result.end_reason.startswith("window ended")


def test_bad_placement_option_is_refused() -> None:
    with pytest.raises(ValueError, match="placement"):
        TwapAlgo(make_parent(), seed=1, filters=BTC, placement="sideways")


def test_on_start_and_first_timer_in_one_tick_do_not_double_send() -> None:
    parent = make_parent("0.5", duration=10)
    market = FakeMarket()
    market.advance_to(T0)
    algo = TwapAlgo(parent, seed=2, filters=BTC, placement="aggressive")
    ctx = AlgoContext(T0, parent, market.quote("BTCUSDT"), BTC, market)

    first = algo.on_start(ctx)
    second = algo.on_timer(ctx)  # the engine has not materialised the first child yet

    assert len(first) == 1 and isinstance(first[0], ChildIntent)
    assert second == []


def test_market_closed_at_start_plans_on_the_first_quote() -> None:
    market = FakeMarket(closed=lambda t: t < T0 + timedelta(minutes=1))

    result = execute(TWAP, "0.5", market=market, duration=10,
                     options={"placement": "aggressive"})

    assert result.parent.filled_quantity == Decimal("0.5")
    # planned at the first quote: the 5 slices of a 10-minute window, one MARKET child each
    assert len(result.children) == 5
    assert min(c.created_at for c in result.children) >= T0 + timedelta(minutes=1)


def test_throttling_waits_and_never_stops_the_algo() -> None:
    # 25 children of 0.02 BTC against the engine's rate limit of 5 orders a minute: the
    # algorithm is throttled (ORDER_RATE) many more times than max_rejects, never stopped
    limits = BACKTEST_LIMITS.model_copy(update={"max_orders_per_minute": 5})

    result = execute(TWAP, "0.5", market=FakeMarket(), duration=10, risk=limits,
                     options={"placement": "aggressive", "max_rejects": 3,
                              "max_child_notional": 1_000})

    assert len(result.rejects) > 3  # more than max_rejects, yet not stopped
    assert all("ORDER_RATE" in r for r in result.rejects)
    assert result.parent.filled_quantity == Decimal("0.5")
    # while throttled (no child sent in between) the waits grow
    for denied in _consecutive_denials(result.children):
        gaps = [b - a for a, b in itertools.pairwise(denied)]
        assert all(later >= earlier for earlier, later in itertools.pairwise(gaps))
    assert max(len(run) for run in _consecutive_denials(result.children)) >= 3


def _consecutive_denials(children: list[ChildOrder]) -> list[list[datetime]]:
    """Creation times of the denied children, in runs not interrupted by a sent child."""
    runs: list[list[datetime]] = [[]]
    for child in children:
        if child.state is ChildState.REJECTED:
            runs[-1].append(child.created_at)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]
