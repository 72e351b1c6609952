"""VWAP volume forecast: shrunk busy ratio, recent ratio, and the fading remaining forecast."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from algo_fakes import BTC, T0, FakeMarket, make_parent

from oms.algos.base import AlgoContext
from oms.algos.vwap import VwapAlgo
from oms.algos.vwap_forecast import busy_ratio, decayed_remaining, recent_ratio
from oms.model.enums import AlgoName


def test_busy_ratio_is_shrunk_towards_one_by_the_prior() -> None:
    assert busy_ratio(200.0, 100.0, 0.0) == pytest.approx(2.0)
    assert busy_ratio(200.0, 100.0, 100.0) == pytest.approx(1.5)
    assert busy_ratio(0.0, 0.0, 0.0) == 1.0


def test_recent_ratio_is_clamped_and_needs_a_long_enough_span() -> None:
    assert recent_ratio(30.0, 10.0, 1.0, span_s=120) == pytest.approx(3.0)
    assert recent_ratio(100.0, 10.0, 1.0, span_s=120) == pytest.approx(5.0)  # clamp x5
    assert recent_ratio(0.0, 10.0, 1.0, span_s=120) == pytest.approx(0.2)
    assert recent_ratio(30.0, 10.0, 1.2, span_s=10) == 1.2  # too short: the busy ratio
    assert recent_ratio(30.0, 0.0, 1.2, span_s=120) == 1.2


def test_decayed_remaining_fades_from_the_recent_rate_to_the_busy_rate() -> None:
    buckets = [(10.0, 0.5), (10.0, 1.5), (10.0, 100.0)]

    same = decayed_remaining(buckets, 1.0, 1.0, 20.0)
    hot = decayed_remaining(buckets, 1.0, 3.0, 20.0)

    assert same == pytest.approx(30.0)
    expected = sum(10.0 * (1.0 + 2.0 * math.exp(-k / 20.0)) for k in (0.5, 1.5, 100.0))
    assert hot == pytest.approx(expected)
    assert decayed_remaining(buckets, 1.0, 3.0, 0.0) == pytest.approx(30.0)  # no memory


def _share_after_a_burst(recent_s: float) -> float:
    """Target share 20 minutes in, when the last 3 minutes printed 4x the usual volume."""
    burst = T0 + timedelta(minutes=17)

    def volume(t: datetime) -> float:
        return 40.0 if burst <= t < burst + timedelta(minutes=3) else 10.0

    market = FakeMarket(volume_fn=volume)
    parent = make_parent("1", algo=AlgoName.VWAP, duration=60)
    algo = VwapAlgo(parent, seed=1, filters=BTC, recent_s=recent_s)
    market.advance_to(T0)
    ctx = AlgoContext(T0, parent, market.quote("BTCUSDT"), BTC, market)
    algo.on_start(ctx)
    ctx.now = T0 + timedelta(minutes=20)
    market.advance_to(ctx.now)
    return algo.target_share(ctx)


def test_a_recent_burst_raises_the_remaining_forecast_only_with_recent_s() -> None:
    slow = _share_after_a_burst(0.0)
    fast = _share_after_a_burst(120.0)

    # more volume expected for the rest of the window -> less of the parent due by now
    assert fast < slow - 0.02
    assert 0.0 < fast < 1.0
