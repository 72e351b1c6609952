"""VWAP: weights follow the learned profile; realised volume corrects the schedule."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from algo_fakes import BTC, T0, FakeMarket, execute, make_parent

from oms.algos.base import AlgoContext
from oms.algos.vwap import VwapAlgo, profile_weights
from oms.algos.vwap_profile import HOUR_WEIGHT, MINUTE_WEIGHT
from oms.model.enums import AlgoName


def _started(market: FakeMarket, **options: object) -> tuple[VwapAlgo, AlgoContext]:
    parent = make_parent("1", algo=AlgoName.VWAP, duration=60)
    algo = VwapAlgo(parent, seed=1, filters=BTC, **options)  # type: ignore[arg-type]
    market.advance_to(T0)
    ctx = AlgoContext(T0, parent, market.quote("BTCUSDT"), BTC, market)
    algo.on_start(ctx)
    return algo, ctx


def test_profile_weights_are_hour_times_minute_weights() -> None:
    weights = profile_weights("BTCUSDT", T0, T0 + timedelta(minutes=60))

    assert len(weights) == 60
    assert weights[0] == pytest.approx(HOUR_WEIGHT["BTCUSDT"][10] * MINUTE_WEIGHT["BTCUSDT"][0])
    assert weights[59] == pytest.approx(HOUR_WEIGHT["BTCUSDT"][10] * MINUTE_WEIGHT["BTCUSDT"][59])


def test_partial_minutes_get_a_share_of_their_weight() -> None:
    weights = profile_weights("BTCUSDT", T0 + timedelta(seconds=30), T0 + timedelta(minutes=2))

    full = HOUR_WEIGHT["BTCUSDT"][10] * MINUTE_WEIGHT["BTCUSDT"][0]
    assert weights[0] == pytest.approx(0.5 * full)
    assert len(weights) == 2


def test_profile_has_the_known_top_of_hour_volume_peak() -> None:
    minutes = MINUTE_WEIGHT["BTCUSDT"]

    assert minutes[0] == max(minutes)
    assert sum(minutes) == pytest.approx(60, rel=1e-3)
    assert sum(HOUR_WEIGHT["BTCUSDT"]) == pytest.approx(24, rel=1e-3)


def test_static_schedule_follows_the_profile_share() -> None:
    market = FakeMarket()
    algo, ctx = _started(market, follow_realised=False)
    half = T0 + timedelta(minutes=30)
    market.advance_to(half)
    ctx.now = half

    share = algo.target_share(ctx)

    minutes = MINUTE_WEIGHT["BTCUSDT"]
    # the plan ends 3 minutes early (5% of the window) so the last children fit in the window
    assert share == pytest.approx(sum(minutes[:30]) / sum(minutes[:57]), rel=1e-6)


def test_realised_volume_above_the_profile_pulls_the_schedule_forward() -> None:
    def busy_early(t: datetime) -> float:
        return 40.0 if T0 <= t < T0 + timedelta(minutes=20) else 10.0

    market = FakeMarket(volume_fn=busy_early)
    algo, ctx = _started(market)
    static, static_ctx = _started(FakeMarket(volume_fn=busy_early), follow_realised=False)
    at = T0 + timedelta(minutes=20)
    market.advance_to(at)
    ctx.now = static_ctx.now = at

    assert algo.target_share(ctx) > static.target_share(static_ctx) + 0.03


def _market_vwap(market: FakeMarket, start: datetime, end: datetime) -> float:
    volume = notional = 0.0
    t = start
    while t < end:
        v = market._rate(t) / 4  # 15 s of volume
        notional += v * (market.price_fn(t) + market.spread / 2)  # what a buyer pays at the ask
        volume += v
        t += timedelta(seconds=15)
    return notional / volume


def test_following_realised_volume_tracks_interval_vwap_better_than_the_static_plan() -> None:
    # volume bursts the profile does not know about, and a trending price
    def volume(t: datetime) -> float:  # the hour-of-day profile times bursts
        minute = int((t - T0).total_seconds() // 60)
        return HOUR_WEIGHT["BTCUSDT"][t.hour] * (60.0 if minute % 10 in (3, 4) else 5.0)

    def price(t: datetime) -> float:
        minutes = (t - T0).total_seconds() / 60
        return 50_000 * math.exp(0.0004 * minutes)

    errors = {}
    for follow in (True, False):
        market = FakeMarket(price_fn=price, volume_fn=volume)
        result = execute(AlgoName.VWAP, "1", market=market, duration=60, options={
            "follow_realised": follow, "placement": "aggressive", "child_interval_s": 10,
            "participation_cap": 0.5})
        parent = result.parent
        assert parent.filled_quantity == Decimal(1)
        benchmark = _market_vwap(market, T0, T0 + timedelta(minutes=60))
        assert parent.avg_price is not None
        errors[follow] = abs(float(parent.avg_price) / benchmark - 1) * 10_000

    assert errors[True] < 1.5
    assert errors[True] < errors[False] / 1.5


def test_participation_cap_leaves_the_rest_unfilled_in_a_thin_market() -> None:
    market = FakeMarket(volume_per_minute=0.1)  # 6 BTC an hour; cap 0.25 -> ~1.5 BTC at most

    result = execute(AlgoName.VWAP, "3", market=market, duration=60,
                     options={"placement": "aggressive"})

    assert Decimal("1.2") < result.parent.filled_quantity < Decimal("1.8")
    assert result.end_reason.startswith("window ended")
