"""The quoted touch inside a minute: piecewise constant, changing at discrete event times.

A real best bid/ask does not follow the price continuously: it sits still, then jumps. Per bar,
touch events form a Poisson process (rate ``paths.touch_rate[i]`` per second, fitted on the
bookTicker recordings so that P(touch changes within 10 ms of a random instant) matches; see
scripts/calibrate_market.py). At each event the touch is re-quoted around the bar's path mid at
that instant, with a spread drawn from the recorded spread distribution, plus the extra ticks the
previous bars' ranges call for (``paths.spread_ticks[i] - 1``). Some events flicker (the quote
comes back a millisecond later, see ``bar_touch``). Between events nothing changes.

Randomness is a pure function of (seed, symbol, bar start), a PCG64 generator seeded with that
key: a given minute gets the same events whatever slice of the data is replayed.
Nothing here reads the bar's final volume, high or low, except through the path itself.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from oms.market.calibration import MICRO, MICRO_DEFAULT
from oms.market.paths import BarPaths

__all__ = ["FLICKER_S", "BarTouch", "TouchParams", "bar_touch", "bid_ticks", "micro_key",
           "touch_volume_share"]

_MAX_EVENTS = 20_000  # per minute: a guard against absurd rates, ~330 per second
FLICKER_S = 0.001  # how long a flickering quote stands (real bursts undo within microseconds)


def micro_key(seed: int, symbol: str) -> int:
    """The seed key of ``symbol``'s touch events (stable across runs and Python versions)."""
    return (seed * 1_000_003 + sum((i + 1) * 257 * ord(ch) for i, ch in enumerate(symbol))) \
        & 0xFFFF_FFFF


@dataclass(frozen=True, slots=True)
class TouchParams:
    """How one symbol's touch moves: spread shares (1, 2, ... ticks; the last: that many or
    wider) and the share of events that flicker (revert FLICKER_S later)."""

    spread_ticks_shares: tuple[float, ...]
    flicker_share: float = 0.0

    @classmethod
    def calibrated(cls, symbol: str) -> TouchParams:
        """The recorded figures of ``symbol`` (MICRO_DEFAULT for symbols without a recording)."""
        entry = MICRO.get(symbol, MICRO_DEFAULT)
        return cls(tuple(float(p) for p in entry["spread_ticks_shares"]),
                   float(entry.get("flicker_share", 0.0)))


class BarTouch:
    """Touch events of one bar: offsets from the bar start, path mid, spread in ticks and the
    cumulative share of the bar's volume at each event (event 0 is at offset 0)."""

    __slots__ = ("mids", "shares", "times", "widths")

    def __init__(self, times: list[float], mids: list[float], widths: list[float],
                 shares: list[float]) -> None:
        self.times = times
        self.mids = mids
        self.widths = widths
        self.shares = shares

    def index_at(self, offset: float) -> int:
        """The event in force at ``offset`` seconds into the bar."""
        return max(bisect_right(self.times, offset) - 1, 0)

    def __len__(self) -> int:
        return len(self.times)


#: the spread draw's cumulative shares (normalised) and the widest index, by share tuple
_SPREAD_CDF: dict[tuple[float, ...], tuple[npt.NDArray[np.float64], int]] = {}


def _spread_cdf(shares: tuple[float, ...]) -> tuple[npt.NDArray[np.float64], int]:
    cached = _SPREAD_CDF.get(shares)
    if cached is None:
        weights = np.cumsum(np.asarray(shares, dtype=np.float64))
        cached = _SPREAD_CDF[shares] = (weights / weights[-1], weights.size - 1)
    return cached


def bar_touch(paths: BarPaths, i: int, key: int, params: TouchParams) -> BarTouch:
    """The touch events of bar ``i`` of ``paths`` (seeded by ``key`` and the bar start).

    A share ``params.flicker_share`` of the events flicker: the quote they set is withdrawn
    FLICKER_S later and the previous one comes back (real touch changes come in bursts that
    often undo themselves within milliseconds; an order arriving 10 ms later meets the old
    quote). The share is fitted so that P(marketable on arrival) / P(touch change within 10 ms)
    matches the recordings.

    The draws, in stream order: the event count (Poisson), the event offsets (uniform on
    [0, 60) s: 60 times a standard uniform, as ``Generator.uniform`` computes it), one
    uniform per event for its spread and, when events flicker, one per event for that. They
    are taken in one ``random`` call (the same doubles as one call each, in the same order).
    """
    # PCG64 seeded with one integer: a pure function of (key, bar start), cheaper to build
    # than a SeedSequence of a list
    rng = np.random.Generator(np.random.PCG64((key << 34) ^ int(paths.open_s[i])))
    rate = float(paths.touch_rate[i])
    count = min(int(rng.poisson(max(rate, 0.0) * 60.0)), _MAX_EVENTS)
    flickering = params.flicker_share > 0.0 and count > 0
    draws = rng.random(count + (count + 1) * (2 if flickering else 1))
    offsets = np.empty(count + 1)
    offsets[0] = 0.0
    offsets[1:] = np.sort(draws[:count] * 60.0)
    knot_t = paths.knot_t[i]
    mids = np.interp(offsets, knot_t, paths.knot_p[i])
    cdf, widest = _spread_cdf(params.spread_ticks_shares)
    drawn = np.searchsorted(cdf, draws[count:2 * count + 1], side="right")
    widths = np.minimum(drawn, widest) + float(paths.spread_ticks[i])
    if not flickering:
        shares = np.interp(offsets, knot_t, paths.knot_v[i])
        return BarTouch(offsets.tolist(), mids.tolist(), widths.tolist(), shares.tolist())
    times, mids_, widths_ = _with_flickers(offsets.tolist(), mids.tolist(), widths.tolist(),
                                           (draws[2 * count + 1:] < params.flicker_share).tolist())
    return BarTouch(times, mids_, widths_, np.interp(times, knot_t, paths.knot_v[i]).tolist())


def _with_flickers(times: list[float], mids: list[float], widths: list[float],
                   flicker: list[bool]) -> tuple[list[float], list[float], list[float]]:
    """Insert, after each flickering event, the return of the quote before it (the last event
    that did not flicker); an event whose return would not come before the next event does not
    flicker. Event 0 (the bar's opening quote) never does. (A loop: a bar holds a few hundred
    events, fewer than what a dozen numpy calls cost in overhead.)"""
    out_t: list[float] = []
    out_m: list[float] = []
    out_w: list[float] = []
    standing = 0  # the latest event that did not flicker
    last = len(times) - 1
    for k, t in enumerate(times):
        out_t.append(t)
        out_m.append(mids[k])
        out_w.append(widths[k])
        if k and flicker[k]:
            back = t + FLICKER_S
            if back < (times[k + 1] if k < last else 60.0):
                out_t.append(back)
                out_m.append(mids[standing])
                out_w.append(widths[standing])
                continue
        standing = k
    return out_t, out_m, out_w


def bid_ticks(mid: float, width: float, tick: float) -> int:
    """The best bid, in ticks, of a touch ``width`` ticks wide around ``mid``."""
    return math.floor((mid - (width - 1.0) * tick * 0.5) / tick)


def _share_at(offset: float, knot_t: list[float], knot_v: list[float]) -> float:
    for k in range(1, len(knot_t)):
        if offset <= knot_t[k]:
            width = knot_t[k] - knot_t[k - 1]
            if width <= 0:
                return knot_v[k]
            return knot_v[k - 1] + (knot_v[k] - knot_v[k - 1]) * (offset - knot_t[k - 1]) / width
    return knot_v[-1]


def touch_volume_share(touch: BarTouch, lo: float, hi: float,
                       knots: tuple[list[float], list[float]], order: tuple[bool, int],
                       tick: float, scale: float) -> tuple[float, bool]:
    """Share of the bar's volume released in (lo, hi] (offsets into the bar) while a resting
    order (``order`` = (is_buy, price in ticks)) was at or better than the touch, and whether
    the opposite touch reached its price (the level was traded through).

    ``scale`` multiplies the path mid (the impact/shock offset); the volume is released along
    the path (``knots``: knot times and cumulative volume shares), the touch is piecewise
    constant between events.
    """
    buy, price_ticks = order
    knot_t, knot_v = knots
    times, mids, widths = touch.times, touch.mids, touch.widths
    k = touch.index_at(lo)
    share = 0.0
    crossed = False
    n = len(times)
    a = lo
    a_share = _share_at(lo, knot_t, knot_v)
    while a < hi:
        b = times[k + 1] if k + 1 < n and times[k + 1] < hi else hi
        b_share = _share_at(b, knot_t, knot_v)
        width = widths[k]
        bid = bid_ticks(mids[k] * scale, width, tick)
        ask = bid + round(width)
        if buy:
            at_touch, through = bid <= price_ticks, ask <= price_ticks
        else:
            at_touch, through = ask >= price_ticks, bid >= price_ticks
        if at_touch:
            share += b_share - a_share
        crossed = crossed or through
        a, a_share = b, b_share
        k += 1
    return share, crossed
