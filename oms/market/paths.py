"""Sub-minute price paths and volume release inside 1-minute bars (vectorised, seeded).

Each bar gets ``KNOTS`` = 7 knots (time offset in seconds, price, cumulative share of the bar's
volume); the price is linear between knots. For a real bar the knots are::

    open -> wiggle -> first extreme -> wiggle -> second extreme -> wiggle -> close

The first extreme is the high with probability ((O - L) + (H - C)) / (2 (H - L)): an open near
the high or a close near the low makes "high first" likely, the opposite makes "low first" likely,
a doji is 50/50. Leg durations are proportional to the distance travelled (randomised), wiggles
stay inside [low, high], so the path passes through O, H, L and C and never leaves the bar's range.
Volume is released along the path in proportion to time and to price movement.

Randomness comes from ``bar_uniforms``: a counter-based hash (splitmix64) of (seed, symbol, bar
start), so a given minute gets the same path whatever slice of the file is replayed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["KNOTS", "BarPaths", "bar_uniforms", "knots_from_ohlc", "volume_shares"]

KNOTS = 7
_PER_BAR = ("open_s", "open", "high", "low", "close", "volume", "quote_volume", "trades",
            "taker_buy", "knot_t", "knot_p", "knot_v", "depth_scale", "spread_ticks",
            "touch_rate")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class BarPaths:
    """Per-bar arrays of one symbol: OHLCV, knots and derived prefix sums (appended at the end,
    dropped from the start).

    ``depth_scale``, ``spread_ticks`` (the narrowest spread the bar quotes) and ``touch_rate``
    (touch events per second, oms.market.touch) are set from earlier bars only: what the market
    shows during a minute never depends on that minute's final volume or range.
    """

    __slots__ = ("close", "cum_quote", "cum_volume", "depth_scale", "high", "knot_p", "knot_t",
                 "knot_v", "low", "open", "open_s", "quote_volume", "spread_ticks", "taker_buy",
                 "touch_rate", "trades", "volume")

    def __init__(self, open_s: IntArray, ohlcv: tuple[FloatArray, FloatArray, FloatArray,
                                                        FloatArray, FloatArray, FloatArray],
                 trades: IntArray, taker_buy: FloatArray,
                 knots: tuple[FloatArray, FloatArray, FloatArray],
                 depth_scale: FloatArray, spread_ticks: FloatArray,
                 touch_rate: FloatArray | None = None) -> None:
        self.open_s = open_s
        self.open, self.high, self.low, self.close, self.volume, self.quote_volume = ohlcv
        self.trades = trades
        self.taker_buy = taker_buy
        self.knot_t, self.knot_p, self.knot_v = knots
        self.depth_scale = depth_scale
        self.spread_ticks = spread_ticks
        self.touch_rate = (np.full(open_s.size, 2.0) if touch_rate is None
                           else np.asarray(touch_rate, dtype=np.float64))
        self.cum_volume = np.concatenate(([0.0], np.cumsum(self.volume)))
        self.cum_quote = np.concatenate(([0.0], np.cumsum(self.quote_volume)))

    def __len__(self) -> int:
        return int(self.open_s.size)

    def extend(self, other: BarPaths) -> None:
        """Append ``other``'s bars (which must start after this one's last bar)."""
        for name in _PER_BAR:
            setattr(self, name, np.concatenate((getattr(self, name), getattr(other, name))))
        self.cum_volume = np.concatenate(
            (self.cum_volume, self.cum_volume[-1] + np.cumsum(other.volume)))
        self.cum_quote = np.concatenate(
            (self.cum_quote, self.cum_quote[-1] + np.cumsum(other.quote_volume)))

    def cumulative(self, t: float, quote: bool) -> float:
        """Volume (``quote``: quote volume) traded before epoch second ``t``, counted from the
        first bar ever held, released along each bar's knots."""
        i = int(np.searchsorted(self.open_s, t, side="right")) - 1
        cum = self.cum_quote if quote else self.cum_volume
        if i < 0:
            return float(cum[0])  # before the first bar held: the volume before it
        total = self.quote_volume if quote else self.volume
        offset = t - float(self.open_s[i])
        if offset >= 60.0:
            return float(cum[i + 1])
        share = float(np.interp(offset, self.knot_t[i], self.knot_v[i]))
        return float(cum[i]) + float(total[i]) * share

    def rows(self, lo: int, hi: int) -> list[tuple[int, float, float, float, float, float, float,
                                                   int]]:
        """(open_s, open, high, low, close, volume, quote_volume, trades) of bars lo..hi-1."""
        sl = slice(lo, hi)
        return list(zip(self.open_s[sl].tolist(), self.open[sl].tolist(),
                        self.high[sl].tolist(), self.low[sl].tolist(), self.close[sl].tolist(),
                        self.volume[sl].tolist(), self.quote_volume[sl].tolist(),
                        self.trades[sl].tolist(), strict=True))

    def drop_first(self, count: int) -> None:
        """Forget the first ``count`` bars. The prefix sums keep their values (differences of
        them, the traded volume of a window, are unchanged to the last bit); every array is
        copied, so the dropped part is freed rather than kept alive under a view."""
        if count <= 0:
            return
        for name in _PER_BAR:
            setattr(self, name, getattr(self, name)[count:].copy())
        self.cum_volume = self.cum_volume[count:].copy()
        self.cum_quote = self.cum_quote[count:].copy()


def volume_shares(knot_t: FloatArray, knot_p: FloatArray) -> FloatArray:
    """Cumulative share of a bar's volume at each knot: half by time, half by price travel."""
    dt = np.diff(knot_t, axis=1)
    dp = np.abs(np.diff(knot_p, axis=1))
    travel = dp.sum(axis=1, keepdims=True)
    by_time = dt / np.maximum(dt.sum(axis=1, keepdims=True), 1e-12)
    by_move = np.where(travel > 0, dp / np.where(travel > 0, travel, 1.0), by_time)
    weights = 0.5 * by_time + 0.5 * by_move
    cum = np.concatenate((np.zeros((knot_t.shape[0], 1)), np.cumsum(weights, axis=1)), axis=1)
    cum[:, -1] = 1.0
    return np.asarray(cum, dtype=np.float64)


_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
UNIFORMS_PER_BAR = 13


def bar_uniforms(open_s: IntArray, seed: int, salt: str, count: int) -> FloatArray:
    """Uniforms in [0, 1), shape (n, count), a pure function of (seed, salt, bar start, k)."""
    mix = (seed * _GOLDEN + sum((i + 1) * 131 ** (i % 7) * ord(ch) for i, ch in enumerate(salt)))
    keys = (open_s.astype(np.uint64)[:, None] * np.uint64(count)
            + np.arange(count, dtype=np.uint64)[None, :])
    z = (keys ^ np.uint64(mix & _MASK)) + np.uint64(_GOLDEN)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.asarray((z >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53), dtype=np.float64)


def knots_from_ohlc(
    o: FloatArray, h: FloatArray, low: FloatArray, c: FloatArray, uniforms: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Knot times, prices and volume shares (each shape (n, 7)) for bars with these OHLC.

    ``uniforms`` has shape (n, UNIFORMS_PER_BAR) (see ``bar_uniforms``).
    """
    n = o.size
    u = uniforms
    span = np.maximum(h - low, 0.0)
    safe = np.where(span > 0, span, 1.0)
    p_high_first = np.where(span > 0, ((o - low) + (h - c)) / (2 * safe), 0.5)
    high_first = u[:, 0] < p_high_first
    first = np.where(high_first, h, low)
    second = np.where(high_first, low, h)
    legs = np.stack((np.abs(first - o), np.abs(second - first), np.abs(c - second)), axis=1)
    legs = (legs + 0.15 * span[:, None] + 1e-12) * (0.6 + 0.8 * u[:, 1:4])
    ends = np.cumsum(legs, axis=1)
    ends = 60.0 * ends / ends[:, -1:]
    starts = np.concatenate((np.zeros((n, 1)), ends[:, :2]), axis=1)
    anchors = np.stack((o, first, second, c), axis=1)
    mid_share = 0.3 + 0.4 * u[:, 4:7]
    mid_t = starts + mid_share * (ends - starts)
    linear = anchors[:, :3] + mid_share * (anchors[:, 1:] - anchors[:, :3])
    normal = np.sqrt(-2.0 * np.log1p(-u[:, 7:10])) * np.cos(2.0 * np.pi * u[:, 10:13])
    wiggle = 0.2 * normal * span[:, None]
    mid_p = np.clip(linear + wiggle, low[:, None], h[:, None])
    knot_t = np.empty((n, KNOTS))
    knot_p = np.empty((n, KNOTS))
    knot_t[:, 0] = 0.0
    knot_t[:, 1::2] = mid_t
    knot_t[:, 2::2] = ends
    knot_t[:, -1] = 60.0
    knot_p[:, 0::2] = anchors
    knot_p[:, 1::2] = mid_p
    return knot_t, knot_p, volume_shares(knot_t, knot_p)
