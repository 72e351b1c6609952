"""L2 book model: depth by distance from mid, calibrated on a real Binance depth snapshot.

The shape is a cumulative depth curve D(d): quote-asset notional resting within ``d`` bps of the
mid on one side (``DEPTH`` in calibration.py, from the 2024-08-08 BTCUSDT/ETHUSDT snapshots;
other symbols reuse BTCUSDT's curve scaled by their quote volume). Levels sit on a grid of
distances (0.25 bps apart near the touch, coarser further out), each holding the depth added
since the previous grid point, then rounded to the symbol's tick (levels on the same tick merge).
A ``scale`` multiplies every level: the market sets it from the bar's volume, so depth follows
activity. Prices and sizes are floats here; the venue turns fills into Decimals.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from oms.market.calibration import CALIBRATION, DEPTH

__all__ = ["DepthCurve", "LevelGrid", "curve_for_symbol", "walk_cost_bps"]

_GRID_BPS: tuple[float, ...] = (
    tuple(0.25 * k for k in range(1, 41))  # 0.25 .. 10 bps
    + tuple(float(k) for k in range(11, 31))  # 11 .. 30 bps
    + tuple(float(k) for k in range(35, 101, 5))  # 35 .. 100 bps
    + tuple(float(k) for k in range(120, 501, 20))  # 120 .. 500 bps
)


@dataclass(frozen=True, slots=True)
class DepthCurve:
    """Cumulative one-side depth (quote notional) within ``knots_bps[i]`` bps of the mid."""

    knots_bps: tuple[float, ...]
    cum_notional: tuple[float, ...]
    tail_per_bps: float

    def depth_within(self, distance_bps: float) -> float:
        """Quote notional resting within ``distance_bps`` of the mid (linear between knots)."""
        knots, cum = self.knots_bps, self.cum_notional
        if distance_bps <= knots[0]:
            return cum[0]
        if distance_bps >= knots[-1]:
            return cum[-1] + (distance_bps - knots[-1]) * self.tail_per_bps
        for i in range(1, len(knots)):
            if distance_bps <= knots[i]:
                w = (distance_bps - knots[i - 1]) / (knots[i] - knots[i - 1])
                return cum[i - 1] + w * (cum[i] - cum[i - 1])
        return cum[-1]  # pragma: no cover - loop always returns

    def scaled(self, factor: float) -> DepthCurve:
        """The same shape with every notional multiplied by ``factor``."""
        return DepthCurve(self.knots_bps, tuple(c * factor for c in self.cum_notional),
                          self.tail_per_bps * factor)


def curve_for_symbol(symbol: str, quote_volume_per_minute: float | None = None) -> DepthCurve:
    """The calibrated curve of ``symbol``; else BTCUSDT's scaled by quote volume."""
    entry = DEPTH.get(symbol)
    if entry is not None:
        return DepthCurve(tuple(entry["knots_bps"]), tuple(entry["cum_usd"]),
                          float(entry["tail_usd_per_bps"]))
    base = DEPTH["BTCUSDT"]
    curve = DepthCurve(tuple(base["knots_bps"]), tuple(base["cum_usd"]),
                       float(base["tail_usd_per_bps"]))
    reference = float(CALIBRATION["BTCUSDT"]["quote_volume_per_minute"])
    if quote_volume_per_minute is None:
        cal = CALIBRATION.get(symbol)
        quote_volume_per_minute = float(cal["quote_volume_per_minute"]) if cal else reference / 10
    return curve.scaled(max(quote_volume_per_minute / reference, 1e-6))


class LevelGrid:
    """Pre-computed level increments of a DepthCurve; yields tick-rounded L2 levels."""

    __slots__ = ("_distances", "_increments", "curve", "touch_notional")
    # rounding digits for tick-grid prices (float noise like 61831.450000000004 is removed)
    _DIGITS = 10

    def __init__(self, curve: DepthCurve) -> None:
        self.curve = curve
        self.touch_notional = curve.cum_notional[0]
        previous = curve.cum_notional[0]
        distances: list[float] = []
        increments: list[float] = []
        for distance in _GRID_BPS:
            depth = curve.depth_within(distance)
            distances.append(distance)
            increments.append(max(depth - previous, 0.0))
            previous = depth
        self._distances = tuple(distances)
        self._increments = tuple(increments)

    def levels(
        self, mid: float, touch: float, tick: float, buy_side: bool, scale: float
    ) -> Iterator[tuple[float, float]]:
        """Levels (price, base quantity) best first on the ask side (``buy_side`` False: bids).

        ``touch`` is the best ask (or bid) already on the tick grid; deeper levels are at least
        one tick beyond the previous one.
        """
        sign = 1.0 if buy_side else -1.0
        price = touch
        quantity = self.touch_notional * scale / touch
        for distance, increment in zip(self._distances, self._increments, strict=True):
            raw = mid * (1.0 + sign * distance * 1e-4)
            ticks = math.ceil(raw / tick - 1e-9) if buy_side else math.floor(raw / tick + 1e-9)
            level_price = round(ticks * tick, self._DIGITS)
            if (level_price - price) * sign < tick * 0.5:  # same tick: merge into this level
                quantity += increment * scale / max(price, 1e-12)
                continue
            if quantity > 0:
                yield price, quantity
            price = level_price
            quantity = increment * scale / level_price
        yield price, quantity

    def depth(self, mid: float, bid: float, ask: float, tick: float, scale: float,
              count: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """``count`` bid and ask levels."""
        bids: list[tuple[float, float]] = []
        asks: list[tuple[float, float]] = []
        for level in self.levels(mid, bid, tick, False, scale):
            bids.append(level)
            if len(bids) >= count:
                break
        for level in self.levels(mid, ask, tick, True, scale):
            asks.append(level)
            if len(asks) >= count:
                break
        return bids, asks


def walk_cost_bps(levels: Iterator[tuple[float, float]] | list[tuple[float, float]],
                  quantity: float, mid: float) -> float:
    """Average price paid for ``quantity`` walking ``levels`` (best first), in bps from ``mid``.

    Raises ValueError if the levels do not hold ``quantity``.
    """
    remaining = quantity
    notional = 0.0
    for price, size in levels:
        take = min(size, remaining)
        notional += take * price
        remaining -= take
        if remaining <= 1e-12:
            break
    if remaining > 1e-9:
        raise ValueError(f"levels hold less than {quantity}")
    return abs(notional / quantity / mid - 1.0) * 1e4
