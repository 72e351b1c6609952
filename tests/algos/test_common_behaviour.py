"""Behaviour every algorithm shares: partial fills, rejections, halts and the end of the window."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from algo_fakes import BTC, T0, FakeMarket, ScriptedVenue, make_parent

from oms.algos.registry import create_algo
from oms.algos.simloop import run_parent
from oms.model.enums import AlgoName

ALL = [AlgoName.MARKET, AlgoName.TWAP, AlgoName.VWAP, AlgoName.IS, AlgoName.POV,
       AlgoName.ICEBERG]


def _falling(t: datetime) -> float:
    """A falling price: resting buys at the bid get crossed, so passive children fill."""
    return 50_000 - (t - T0).total_seconds() / 20


@pytest.mark.parametrize("name", ALL)
def test_partial_fills_end_with_exactly_the_parent_quantity(name: AlgoName) -> None:
    market = FakeMarket(price_fn=_falling, volume_per_minute=30.0)
    venue = ScriptedVenue(market, passive_fill_share=Decimal("0.3"))
    parent = make_parent("0.4", algo=name, duration=20)
    algo = create_algo(parent, seed=3, filters=BTC, **(
        {"cross_at_end": True} if name is AlgoName.ICEBERG else {}))

    result = run_parent(algo, parent, market, venue, start=T0)

    assert parent.filled_quantity == Decimal("0.4")
    assert sum(f.quantity for f in result.fills) == Decimal("0.4")
    assert all(c.filled_quantity <= c.quantity for c in result.children)


@pytest.mark.parametrize("name", ALL)
def test_rejections_back_off_and_stop_never_loop(name: AlgoName) -> None:
    market = FakeMarket(volume_per_minute=30.0)
    venue = ScriptedVenue(market, reject=lambda c: (-2010, "New order rejected."))
    parent = make_parent("0.4", algo=name, duration=20)
    algo = create_algo(parent, seed=3, filters=BTC, max_rejects=5)

    result = run_parent(algo, parent, market, venue, start=T0)

    assert len(result.rejects) == 5  # exponential back-off, then a stop with a reason
    assert algo.stop_reason is not None and "rejections" in algo.stop_reason
    assert parent.remaining == Decimal("0.4")


@pytest.mark.parametrize("name", ALL)
def test_halt_stops_new_children_and_the_rest_is_reported(name: AlgoName) -> None:
    market = FakeMarket(price_fn=_falling, volume_per_minute=30.0)
    parent = make_parent("0.4", algo=name, duration=20)
    algo = create_algo(parent, seed=3, filters=BTC)
    halt_at = T0 + timedelta(seconds=1)

    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0,
                        trading_allowed=lambda now: now < halt_at)

    assert all(c.created_at < halt_at for c in result.children)
    assert result.ended_at is not None
    assert parent.filled_quantity + parent.remaining == Decimal("0.4")
    if parent.remaining:
        assert algo.stop_reason is not None and "unfilled" in algo.stop_reason


@pytest.mark.parametrize("name", [AlgoName.VWAP, AlgoName.IS, AlgoName.POV, AlgoName.ICEBERG])
def test_window_end_cancels_what_works_and_reports_the_rest(name: AlgoName) -> None:
    market = FakeMarket(volume_per_minute=0.5)  # thin: caps bind, passive orders never fill
    parent = make_parent("2", algo=name, duration=10)
    algo = create_algo(parent, seed=3, filters=BTC)

    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0)

    assert parent.remaining > 0
    assert result.ended_at is not None
    assert result.ended_at <= T0 + timedelta(minutes=10, seconds=5)
    assert all(c.state.is_terminal for c in result.children)
    assert algo.stop_reason is not None and str(parent.remaining) in algo.stop_reason
