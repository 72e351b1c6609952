"""``bar_touch`` draws its random numbers in one call and inserts flickers in a loop: the events
must be exactly (bit for bit) those of the one-call-per-draw numpy version it replaced, kept
here as the reference, for every bar, with and without flickers and for odd spread shares."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pytest

from oms.market.klines import KlineArrays
from oms.market.paths import BarPaths
from oms.market.replay import KlineReplayMarket
from oms.market.touch import _MAX_EVENTS, FLICKER_S, BarTouch, TouchParams, bar_touch

START = datetime(2024, 5, 1, 12, tzinfo=UTC)
BARS = 240
FloatArray = npt.NDArray[np.float64]


def _reference_flickers(times: FloatArray, mids: FloatArray, widths: FloatArray,
                        flicker: npt.NDArray[np.bool_]) -> tuple[FloatArray, ...]:
    n = times.size
    back = times + FLICKER_S
    following = np.append(times[1:], 60.0)
    flickers = flicker & (back < following)
    flickers[0] = False
    standing = np.where(~flickers, np.arange(n), 0)
    previous = np.maximum.accumulate(standing)
    returns = np.flatnonzero(flickers)
    restore = previous[returns - 1]
    slot = np.arange(n) + np.concatenate(([0], np.cumsum(flickers)[:-1]))
    size = n + returns.size
    out_t, out_m, out_w = np.empty(size), np.empty(size), np.empty(size)
    out_t[slot], out_m[slot], out_w[slot] = times, mids, widths
    back_slot = slot[returns] + 1
    out_t[back_slot], out_m[back_slot], out_w[back_slot] = (back[returns], mids[restore],
                                                            widths[restore])
    return out_t, out_m, out_w


def _reference_touch(paths: BarPaths, i: int, key: int, params: TouchParams) -> BarTouch:
    """The previous implementation, verbatim."""
    rng = np.random.Generator(np.random.PCG64((key << 34) ^ int(paths.open_s[i])))
    rate = float(paths.touch_rate[i])
    count = min(int(rng.poisson(max(rate, 0.0) * 60.0)), _MAX_EVENTS)
    offsets = np.concatenate(([0.0], np.sort(rng.uniform(0.0, 60.0, count))))
    knot_t = paths.knot_t[i]
    mids = np.interp(offsets, knot_t, paths.knot_p[i])
    weights = np.cumsum(np.asarray(params.spread_ticks_shares, dtype=np.float64))
    drawn = np.searchsorted(weights / weights[-1], rng.random(count + 1), side="right")
    widths = np.minimum(drawn, weights.size - 1) + float(paths.spread_ticks[i])
    times = offsets
    if params.flicker_share > 0.0 and count:
        flicker = rng.random(count + 1) < params.flicker_share
        times, mids, widths = _reference_flickers(times, mids, widths, flicker)
    shares = np.interp(times, knot_t, paths.knot_v[i])
    return BarTouch(times.tolist(), mids.tolist(), widths.tolist(), shares.tolist())


def _market() -> KlineReplayMarket:
    rng = np.random.default_rng(3)
    close = 60_000.0 * np.exp(np.cumsum(rng.normal(0.0, 8e-4, BARS)))
    open_ = np.concatenate(([60_000.0], close[:-1]))
    spread = np.abs(rng.normal(0.0, 4e-4, BARS)) * close + 5.0
    # some quiet minutes (few or no touch events) among busy ones
    volume = np.where(np.arange(BARS) % 17 == 0, 1e-6, rng.uniform(10.0, 600.0, BARS))
    t0 = int(START.timestamp())
    return KlineReplayMarket(KlineArrays(
        "BTCUSDT", t0 + 60 * np.arange(BARS, dtype=np.int64), open_,
        np.maximum(open_, close) + spread, np.minimum(open_, close) - spread, close, volume,
        volume * close, np.full(BARS, 1000, dtype=np.int64), volume * 0.5), start=START)


@pytest.mark.parametrize("params", [
    TouchParams.calibrated("BTCUSDT"),
    TouchParams.calibrated("ETHUSDT"),
    TouchParams((0.99, 0.01), 0.0),  # no flickers
    TouchParams((0.5, 0.3, 0.2), 0.95),  # most events flicker
    TouchParams((1.0,), 1.0),  # every event tries to
])
def test_the_events_are_those_of_the_reference_draws(params: TouchParams) -> None:
    # Arrange
    market = _market()
    paths = market._paths["BTCUSDT"]
    key = market._keys["BTCUSDT"]
    rates = [0.0, 0.02, 2.7, 40.0]
    paths.touch_rate = np.asarray([rates[i % 4] for i in range(len(paths))])
    # Act / Assert
    for i in range(len(paths)):
        fast, reference = bar_touch(paths, i, key, params), _reference_touch(paths, i, key, params)
        assert fast.times == reference.times, i
        assert fast.mids == reference.mids, i
        assert fast.widths == reference.widths, i
        assert fast.shares == reference.shares, i
    assert len(bar_touch(paths, 2, key, params)) > 1  # busy bars were compared
