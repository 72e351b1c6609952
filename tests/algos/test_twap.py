"""TWAP: exact totals, bounded randomisation, reproducibility and execution behaviour."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from algo_fakes import BTC, T0, FakeMarket, ScriptedVenue, make_parent

from oms.algos.base import AlgoContext, ChildIntent
from oms.algos.simloop import run_parent
from oms.algos.twap import TwapAlgo
from oms.model.enums import ChildState, OrderType
from oms.model.orders import ChildOrder


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
    parent = make_parent("0.5", duration=10)
    market = FakeMarket()  # flat price: passive orders never cross, so every slice crosses
    venue = ScriptedVenue(market)

    result = run_parent(TwapAlgo(parent, seed=2, filters=BTC), parent, market, venue, start=T0)

    assert parent.filled_quantity == Decimal("0.5")
    passive = [c for c in result.children if c.order_type is OrderType.LIMIT]
    crosses = [c for c in result.children if c.order_type is OrderType.MARKET]
    assert len(passive) == 5 and len(crosses) == 5
    assert all(c.state is ChildState.CANCELED for c in passive)
    assert result.ended_at is not None and result.ended_at <= T0 + timedelta(minutes=10)


def test_partial_passive_fills_are_crossed_for_the_rest_only() -> None:
    parent = make_parent("0.5", duration=10)
    market = FakeMarket()
    venue = ScriptedVenue(market, passive_fill_share=Decimal("0.4"))

    result = run_parent(TwapAlgo(parent, seed=2, filters=BTC), parent, market, venue, start=T0)

    assert parent.filled_quantity == Decimal("0.5")
    maker = sum(f.quantity for f in result.fills if f.liquidity.value == "maker")
    assert Decimal("0.15") < maker < Decimal("0.25")  # ~40% passive


def test_aggressive_placement_sends_market_children_only() -> None:
    parent = make_parent("0.5", duration=10)
    market = FakeMarket()
    algo = TwapAlgo(parent, seed=2, filters=BTC, placement="aggressive")

    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0)

    assert all(c.order_type is OrderType.MARKET for c in result.children)
    assert parent.filled_quantity == Decimal("0.5")


def test_risk_denial_shrinks_children_and_still_completes() -> None:
    parent = make_parent("0.5", duration=10)
    market = FakeMarket()

    def deny(child: ChildOrder, now: object) -> str | None:
        if child.quantity * 50_000 > 3_000:
            return f"ORDER_NOTIONAL: notional={child.quantity * 50_000}, max=3000"
        return None

    algo = TwapAlgo(parent, seed=2, filters=BTC, placement="aggressive")
    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0, deny=deny)

    assert result.rejects and parent.filled_quantity == Decimal("0.5")
    filled = [c.quantity for c in result.children if c.state is ChildState.FILLED]
    assert max(filled) * 50_000 <= 3_000


def test_persistent_rejections_stop_the_algo_with_a_reason() -> None:
    parent = make_parent("0.5", duration=10)
    market = FakeMarket()
    venue = ScriptedVenue(market, reject=lambda c: (-2010, "Account has insufficient balance"))
    algo = TwapAlgo(parent, seed=2, filters=BTC, max_rejects=4)

    result = run_parent(algo, parent, market, venue, start=T0)

    assert len(result.rejects) == 4
    assert algo.stop_reason is not None and "4 consecutive" in algo.stop_reason
    assert parent.filled_quantity == 0 and parent.remaining == Decimal("0.5")


def test_halted_engine_sends_nothing_and_the_rest_is_reported() -> None:
    parent = make_parent("0.5", duration=10)
    market = FakeMarket()
    halt_at = T0 + timedelta(minutes=4)
    algo = TwapAlgo(parent, seed=2, filters=BTC, placement="aggressive")

    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0,
                        trading_allowed=lambda now: now < halt_at)

    assert all(c.created_at < halt_at for c in result.children)
    assert 0 < parent.filled_quantity < Decimal("0.5")
    assert algo.stop_reason is not None and "unfilled" in algo.stop_reason


def test_resume_after_halt_catches_up() -> None:
    parent = make_parent("0.5", duration=10)
    market = FakeMarket()
    algo = TwapAlgo(parent, seed=2, filters=BTC, placement="aggressive")
    halted = (T0 + timedelta(minutes=2), T0 + timedelta(minutes=5))

    run_parent(algo, parent, market, ScriptedVenue(market), start=T0,
               trading_allowed=lambda now: not halted[0] <= now < halted[1])

    assert parent.filled_quantity == Decimal("0.5")


def test_market_closed_delays_then_window_end_reports_the_rest() -> None:
    parent = make_parent("0.5", duration=10)
    market = FakeMarket(closed=lambda t: t >= T0 + timedelta(minutes=6))
    algo = TwapAlgo(parent, seed=2, filters=BTC, placement="aggressive")

    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0)

    assert 0 < parent.filled_quantity < Decimal("0.5")
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
    parent = make_parent("0.5", duration=10)
    market = FakeMarket(closed=lambda t: t < T0 + timedelta(minutes=1))
    algo = TwapAlgo(parent, seed=2, filters=BTC, placement="aggressive")

    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0)

    assert parent.filled_quantity == Decimal("0.5")
    assert len(algo.slices) == 5
    assert min(c.created_at for c in result.children) >= T0 + timedelta(minutes=1)


def test_throttling_waits_and_never_stops_the_algo() -> None:
    parent = make_parent("0.5", duration=10)
    market = FakeMarket()
    throttled_until = T0 + timedelta(minutes=3)

    def deny(child: ChildOrder, now: datetime) -> str | None:
        return "ORDER_RATE: orders=21, max=20 per minute" if now < throttled_until else None

    algo = TwapAlgo(parent, seed=2, filters=BTC, placement="aggressive", max_rejects=3)
    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0, deny=deny)

    assert len(result.rejects) > 3  # more than max_rejects, yet not stopped
    assert parent.filled_quantity == Decimal("0.5")
    denied_at = [c.created_at for c in result.children if c.state is ChildState.REJECTED]
    gaps = [b - a for a, b in itertools.pairwise(denied_at)]
    assert all(later >= earlier for earlier, later in itertools.pairwise(gaps))
