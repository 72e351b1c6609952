"""Behaviour every algorithm shares, through the real engine: partial fills, rejections, halts
and the end of the window."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from algo_fakes import T0, FakeMarket, execute, scripted

from oms.commands import KillSwitch
from oms.model.enums import AlgoName, ParentState

ALL = [AlgoName.MARKET, AlgoName.TWAP, AlgoName.VWAP, AlgoName.IS, AlgoName.POV,
       AlgoName.ICEBERG]


def _falling(t: datetime) -> float:
    """A falling price: resting buys at the bid get crossed, so passive children fill."""
    return 50_000 - (t - T0).total_seconds() / 20


@pytest.mark.parametrize("name", ALL)
def test_partial_fills_end_with_exactly_the_parent_quantity(name: AlgoName) -> None:
    market = FakeMarket(price_fn=_falling, volume_per_minute=30.0)
    venue = scripted(passive_fill_share=Decimal("0.3"))
    options = {"cross_at_end": True} if name is AlgoName.ICEBERG else {}

    result = execute(name, "0.4", market=market, venue=venue, duration=20, seed=3,
                     options=options)

    assert result.parent.filled_quantity == Decimal("0.4")
    assert sum(f.quantity for f in result.fills) == Decimal("0.4")
    assert all(c.filled_quantity <= c.quantity for c in result.children)


@pytest.mark.parametrize("name", ALL)
def test_rejections_back_off_and_stop_never_loop(name: AlgoName) -> None:
    market = FakeMarket(volume_per_minute=30.0)
    venue = scripted(reject=lambda c: (-2010, "New order rejected."))

    # four rejections: the account's rejection breaker (5 in 2 minutes) would halt at the fifth
    result = execute(name, "0.4", market=market, venue=venue, duration=20, seed=3,
                     options={"max_rejects": 4})

    assert len(result.rejects) == 4  # exponential back-off, then a stop with a reason
    assert "stopped after 4 consecutive rejections" in result.end_reason
    assert result.parent.state is ParentState.CANCELED
    assert result.parent.remaining == Decimal("0.4")


@pytest.mark.parametrize("name", ALL)
def test_halt_stops_new_children_and_the_rest_is_reported(name: AlgoName) -> None:
    market = FakeMarket(price_fn=_falling, volume_per_minute=30.0)
    halt_at = T0 + timedelta(seconds=1)

    result = execute(name, "0.4", market=market, duration=20, seed=3,
                     script=[(halt_at, KillSwitch(reason="desk kill"))])

    assert all(c.created_at < halt_at for c in result.children)
    assert all(c.state.is_terminal for c in result.children)
    assert result.ended_at is not None
    parent = result.parent
    assert parent.filled_quantity + parent.remaining == Decimal("0.4")
    if parent.remaining:
        assert parent.state is ParentState.HALTED and "desk kill" in result.end_reason


@pytest.mark.parametrize("name", [AlgoName.VWAP, AlgoName.IS, AlgoName.POV, AlgoName.ICEBERG])
def test_window_end_cancels_what_works_and_reports_the_rest(name: AlgoName) -> None:
    market = FakeMarket(volume_per_minute=0.5)  # thin: caps bind, passive orders never fill

    result = execute(name, "2", market=market, duration=10, seed=3, tick=timedelta(seconds=1))

    assert result.parent.remaining > 0
    assert result.ended_at is not None
    assert result.ended_at <= T0 + timedelta(minutes=10, seconds=5)
    assert all(c.state.is_terminal for c in result.children)
    assert str(result.parent.remaining) in result.end_reason
    assert result.end_reason.startswith("window ended")
