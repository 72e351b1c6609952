"""VWAP placement: posts behind the touch, crosses only beyond a tolerance, ends ahead."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from algo_fakes import BTC, T0, FakeMarket, execute, make_parent

from oms.algos.base import AlgoContext
from oms.algos.vwap import VwapAlgo
from oms.execution_harness import ExecutionResult
from oms.model.enums import AlgoName, OrderType, Side


def _started(side: Side = Side.BUY, **options: object) -> tuple[VwapAlgo, AlgoContext]:
    market = FakeMarket()
    parent = make_parent("1", algo=AlgoName.VWAP, duration=60, side=side)
    algo = VwapAlgo(parent, seed=1, filters=BTC, **options)  # type: ignore[arg-type]
    market.advance_to(T0)
    ctx = AlgoContext(T0, parent, market.quote("BTCUSDT"), BTC, market)
    algo.on_start(ctx)
    return algo, ctx


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_passive_children_rest_the_offset_behind_the_touch(side: Side) -> None:
    algo, ctx = _started(side, passive_offset_bps=0.5)
    assert ctx.quote is not None

    intent = algo.passive_intent(ctx, Decimal("0.1"), "t")

    assert intent.order_type is OrderType.LIMIT and intent.limit_price is not None
    touch = ctx.quote.bid if side is Side.BUY else ctx.quote.ask
    gap_bps = side.sign * float(touch - intent.limit_price) / float(touch) * 10_000
    assert 0.5 <= gap_bps < 0.5 + 0.01 / 50_000 * 10_000  # offset, then one tick of rounding
    assert intent.limit_price % BTC.tick_size == 0


def test_zero_offset_posts_at_the_touch() -> None:
    algo, ctx = _started(passive_offset_bps=0.0)
    assert ctx.quote is not None

    intent = algo.passive_intent(ctx, Decimal("0.1"), "t")

    assert intent.limit_price == ctx.quote.bid


def _run_unfilled_passive(tolerance: float) -> ExecutionResult:
    """A flat market where resting buys never fill: every passive deadline asks for a cross."""
    return execute(AlgoName.VWAP, "1", market=FakeMarket(volume_per_minute=10.0), duration=60,
                   options={"cross_tolerance": tolerance}, tick=timedelta(seconds=1))


def test_within_the_tolerance_the_rest_is_reposted_not_crossed() -> None:
    crossing = _run_unfilled_passive(0.0)
    tolerant = _run_unfilled_passive(0.15)

    def crosses(result: ExecutionResult) -> list[Decimal]:
        return [c.quantity for c in result.children if c.order_type is OrderType.MARKET]

    assert crossing.parent.filled_quantity == tolerant.parent.filled_quantity == Decimal(1)
    assert len(crosses(tolerant)) < len(crosses(crossing)) / 2
    # the tolerant run crosses in lumps: each cross catches up with more than the tolerance
    assert min(crosses(tolerant)[:-1], default=Decimal(1)) > Decimal("0.05")


def test_tolerance_fades_to_zero_at_the_end_of_the_plan() -> None:
    algo, _ = _started(cross_tolerance=0.2)
    end = algo._end

    early = algo.cross_tolerance_quantity(T0 + timedelta(minutes=5))
    late = algo.cross_tolerance_quantity(end - algo.passive_window / 2)

    assert early == Decimal("0.2")
    assert late == pytest.approx(Decimal("0.1"))
    assert algo.cross_tolerance_quantity(end) == 0


def test_the_last_child_takes_everything_still_due() -> None:
    algo, ctx = _started()
    ctx.now = algo._end - timedelta(seconds=90)  # the next child (120 s) would be too late
    ctx.market.advance_to(ctx.now)

    assert algo.target_quantity(ctx) == Decimal(1)
    ctx.now = algo._end - timedelta(seconds=200)
    assert algo.target_quantity(ctx) < Decimal(1)


def test_short_windows_still_fill_with_two_minute_children() -> None:
    market = FakeMarket(price_fn=lambda t: 50_000 - (t - T0).total_seconds() / 20,
                        volume_per_minute=30.0)

    result = execute(AlgoName.VWAP, "0.4", market=market, duration=20, seed=3)

    assert result.parent.filled_quantity == Decimal("0.4")
    assert all(c.created_at <= T0 + timedelta(minutes=20) for c in result.children)
