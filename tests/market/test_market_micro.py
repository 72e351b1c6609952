"""Intra-minute microstructure: a piecewise-constant touch, and no look-ahead inside the minute."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime

import numpy as np
import pytest

from oms.market.klines import KlineArrays
from oms.market.replay import KlineReplayMarket
from oms.model.enums import Side

START = datetime(2024, 5, 1, 12, tzinfo=UTC)
T0 = START.timestamp()
BARS = 12
PROBE = 6  # the bar whose minute the look-ahead tests watch


def _bars(seed: int = 1) -> KlineArrays:
    rng = np.random.default_rng(seed)
    close = 60_000.0 * np.exp(np.cumsum(rng.normal(0.0, 8e-4, BARS)))
    open_ = np.concatenate(([60_000.0], close[:-1]))
    spread = np.abs(rng.normal(0.0, 4e-4, BARS)) * close + 5.0
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    volume = rng.uniform(10.0, 60.0, BARS)
    return KlineArrays("BTCUSDT", int(T0) + 60 * np.arange(BARS, dtype=np.int64), open_,
                       high, low, close, volume, volume * close,
                       np.full(BARS, 1000, dtype=np.int64), volume * 0.5)


def _changed(bars: KlineArrays, index: int, *, volume: float = 1.0, widen: float = 0.0,
             shift: float = 0.0) -> KlineArrays:
    """``bars`` with bar ``index`` given ``volume`` x its volume, ``widen`` added to its high
    and taken from its low, and all its prices moved by ``shift``."""
    arrays = {f.name: getattr(bars, f.name) for f in dataclasses.fields(bars)}
    for name in ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume"):
        arrays[name] = arrays[name].copy()
    for name in ("open", "high", "low", "close"):
        arrays[name][index] += shift
    arrays["high"][index] += widen
    arrays["low"][index] -= widen
    for name in ("volume", "quote_volume", "taker_buy_volume"):
        arrays[name][index] *= volume
    return KlineArrays(**arrays)


def _probe_times(bar: int) -> list[float]:
    """Instants up to the end of ``bar``: every 0.25 s in it, and a few before."""
    start = T0 + 60.0 * bar
    return [T0 + 7.3 * k for k in range(int(60 * bar / 7.3))] + \
        [start + 0.25 * k + 0.013 for k in range(240)]


def _seen(market: KlineReplayMarket, times: list[float]) -> list[tuple[object, ...]]:
    """What the market shows at each instant: the touch, depth and book (as floats)."""
    seen: list[tuple[object, ...]] = []
    for t in times:
        top = market.top("BTCUSDT", t)
        walk = list(zip(range(5), market.levels("BTCUSDT", Side.BUY, top), strict=False))
        seen.append((top.bid, top.ask, top.scale, tuple(level for _, level in walk)))
    return seen


def _resting(market: KlineReplayMarket, times: list[float]) -> list[tuple[float, bool]]:
    """volume_through for a buy and a sell resting at the touch of the probe bar's start."""
    top = market.top("BTCUSDT", times[0])
    return [market.volume_through("BTCUSDT", side, price, a, b)
            for side, price in ((Side.BUY, top.bid), (Side.SELL, top.ask))
            for a, b in itertools.pairwise(times)]


def test_the_touch_changes_only_at_its_events_and_rarely_within_10_ms() -> None:
    market = KlineReplayMarket(_bars(), seed=4)
    start = T0 + 60.0 * PROBE
    events = market.touch_events("BTCUSDT", start, start + 60.0)
    grid = [start + 0.001 * k for k in range(60_000)]

    quotes = [(top.bid, top.ask) for top in (market.top("BTCUSDT", t) for t in grid)]

    changes = [grid[k] for k in range(1, len(grid)) if quotes[k] != quotes[k - 1]]
    assert 60 < len(events) < 400  # ~3 a second, fitted on the bookTicker recordings
    assert len(changes) <= len(events)
    assert all(min(abs(c - e) for e in events) < 0.001 + 1e-6 for c in changes)
    within_10ms = sum(1 for k in range(0, len(grid) - 10, 10) if quotes[k] != quotes[k + 10])
    assert within_10ms / (len(grid) // 10) < 0.06  # was 0.89 with a quote following the path


def test_a_minute_gets_the_same_touch_whatever_slice_is_replayed() -> None:
    bars = _bars()
    whole = KlineReplayMarket(bars, seed=4)
    later = KlineReplayMarket(KlineArrays(*(getattr(bars, f.name)[3:] if f.name != "symbol"
                                            else bars.symbol
                                            for f in dataclasses.fields(bars))), seed=4)
    start = T0 + 60.0 * PROBE
    times = [start + 0.1 * k for k in range(600)]

    assert whole.touch_events("BTCUSDT", start, start + 60) == \
        later.touch_events("BTCUSDT", start, start + 60)
    assert [(whole.top("BTCUSDT", t).bid, whole.top("BTCUSDT", t).ask) for t in times] == \
        [(later.top("BTCUSDT", t).bid, later.top("BTCUSDT", t).ask) for t in times]


def test_later_bars_change_nothing_shown_before_them() -> None:
    bars = _bars()
    changed = _changed(_changed(bars, PROBE + 1, volume=6.0, widen=80.0, shift=-300.0),
                       PROBE + 2, volume=0.1)
    times = _probe_times(PROBE)
    probe = [t for t in times if t >= T0 + 60.0 * PROBE]

    base, other = KlineReplayMarket(bars, seed=4), KlineReplayMarket(changed, seed=4)

    assert _seen(other, times) == _seen(base, times)
    assert _resting(other, probe) == _resting(base, probe)
    assert _seen(other, [T0 + 60.0 * (PROBE + 1) + 30]) != _seen(base, [T0 + 60.0 * (PROBE + 1)
                                                                        + 30])


def test_a_minutes_own_volume_changes_neither_its_book_nor_its_touch() -> None:
    bars = _bars()
    times = _probe_times(PROBE)
    probe = [t for t in times if t >= T0 + 60.0 * PROBE]
    base = KlineReplayMarket(bars, seed=4)
    busy = KlineReplayMarket(_changed(bars, PROBE, volume=8.0), seed=4)

    assert _seen(busy, times) == _seen(base, times)
    # the replayed tape carries 8x the volume, at the same levels and the same moments
    for (v_busy, x_busy), (v_base, x_base) in zip(_resting(busy, probe), _resting(base, probe),
                                                  strict=True):
        assert v_busy == pytest.approx(8.0 * v_base, rel=1e-9, abs=1e-12)
        assert x_busy == x_base


def test_a_minutes_own_range_changes_neither_its_spread_nor_its_depth() -> None:
    bars = _bars()
    times = [T0 + 60.0 * PROBE + 0.25 * k + 0.013 for k in range(240)]
    base = KlineReplayMarket(bars, seed=4)
    wild = KlineReplayMarket(_changed(bars, PROBE, widen=400.0), seed=4)  # ~13x its range

    def spread_and_depth(market: KlineReplayMarket) -> list[tuple[int, float, float]]:
        out = []
        for t in times:
            top = market.top("BTCUSDT", t)
            price, size = next(iter(market.levels("BTCUSDT", Side.SELL, top)))
            out.append((round((top.ask - top.bid) / 0.01), top.scale, round(price * size, 6)))
        return out

    assert spread_and_depth(wild) == spread_and_depth(base)
    # the path itself is the replayed one: it does go through the wider range
    assert max(wild.path_mid("BTCUSDT", datetime.fromtimestamp(t, UTC)) for t in times) > \
        max(base.path_mid("BTCUSDT", datetime.fromtimestamp(t, UTC)) for t in times)


def test_depth_follows_the_volume_of_earlier_minutes() -> None:
    bars = _bars()
    quiet = KlineReplayMarket(_changed(_changed(bars, PROBE - 1, volume=0.05), PROBE - 2,
                                       volume=0.05), seed=4)
    busy = KlineReplayMarket(_changed(_changed(bars, PROBE - 1, volume=8.0), PROBE - 2,
                                      volume=8.0), seed=4)
    t = T0 + 60.0 * PROBE + 1.0

    assert quiet.top("BTCUSDT", t).scale < busy.top("BTCUSDT", t).scale


def test_quotes_report_their_event_time_not_the_path_in_between() -> None:
    market = KlineReplayMarket(_bars(), seed=4)
    start = T0 + 60.0 * PROBE
    events = market.touch_events("BTCUSDT", start, start + 60.0)
    a, b = events[10], events[11]
    when = [datetime.fromtimestamp(a + (b - a) * x, UTC) for x in (0.1, 0.5, 0.9)]

    quoted = [market.path_mid("BTCUSDT", w, quoted=True) for w in when]
    path = [market.path_mid("BTCUSDT", w) for w in when]

    assert quoted[0] == quoted[1] == quoted[2]
    assert len(set(path)) == 3
