"""Per-symbol simulation facts: calibrated constants, or estimates from the data for others."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from oms.market.book import LevelGrid, curve_for_symbol
from oms.market.calibration import CALIBRATION, MICRO, MICRO_DEFAULT
from oms.market.simulated import SymbolSpec

__all__ = ["ACTIVITY_HALFLIFE_BARS", "DEFAULT_TICK", "PastState", "expected_volume", "make_spec",
           "micro_arrays"]

DEFAULT_TICK = Decimal("0.01")  # BTCUSDT, ETHUSDT and SOLUSDT all quote in cents
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_FLAT_PROFILE = (1.0,) * 24
ACTIVITY_HALFLIFE_BARS = 5.0  # how fast depth and touch activity follow volume (minutes)


def make_spec(symbol: str, *, tick: Decimal = DEFAULT_TICK, sigma_1m: float | None = None,
              volume_per_minute: float | None = None,
              quote_volume_per_minute: float | None = None) -> SymbolSpec:
    """The spec of ``symbol``: calibrated values unless given (data estimates for others)."""
    cal = CALIBRATION.get(symbol, {})
    sigma = sigma_1m if sigma_1m is not None else float(cal.get("sigma_1m", 0.001))
    volume = (volume_per_minute if volume_per_minute is not None
              else float(cal.get("volume_per_minute", 1000.0)))
    grid = LevelGrid(curve_for_symbol(symbol, quote_volume_per_minute))
    return SymbolSpec(symbol, float(tick), sigma, volume, grid, tick)


def expected_volume(symbol: str, open_s: IntArray, volume_per_minute: float) -> FloatArray:
    """Volume a bar usually has at its hour of day and minute of hour (calibrated profiles)."""
    cal = CALIBRATION.get(symbol, {})
    hourly = np.asarray(cal.get("volume_profile", _FLAT_PROFILE))
    by_minute = np.asarray(cal.get("minute_profile", (1.0,) * 60))
    return np.asarray(volume_per_minute * hourly[(open_s // 3600) % 24]
                      * by_minute[(open_s // 60) % 60], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class PastState:
    """What the bars before a chunk leave behind for the next: the EWMA of volume / usual volume
    and the last bar's range (bps; None before any bar)."""

    activity: float = 1.0
    range_bps: float | None = None


def micro_arrays(symbol: str, open_: FloatArray, high: FloatArray, low: FloatArray,
                 volume: FloatArray, expected: FloatArray, *, before: PastState = PastState(),
                 median_range_bps: float | None = None
                 ) -> tuple[FloatArray, FloatArray, FloatArray, PastState]:
    """Depth scale, narrowest spread (ticks) and touch event rate per bar, from EARLIER bars.

    Bar i sees only bars < i (and ``before``, the state left by the previous chunk): activity is
    an EWMA (half-life ACTIVITY_HALFLIFE_BARS) of volume / usual volume; depth scales with its
    square root (within [0.3, 3]); the spread is the recorded one, one tick wider per
    3x-usual range of the PREVIOUS bar; the touch event rate is the recorded one (three
    recordings do not tell how it varies with activity, so it does not).
    Returns the arrays and the state after the last bar.
    """
    n = volume.size
    ratio = (volume / np.maximum(expected, 1e-12)).tolist()
    alpha = 1.0 - 0.5 ** (1.0 / ACTIVITY_HALFLIFE_BARS)
    activity = np.empty(n)
    state = before.activity
    for k in range(n):  # a recursion; ~0.1 s for half a year of minutes
        activity[k] = state
        state += alpha * (ratio[k] - state)
    depth = np.asarray(np.clip(np.sqrt(activity), 0.3, 3.0), dtype=np.float64)
    range_bps = (high - low) / np.maximum(open_, 1e-12) * 1e4
    usual = median_range_bps or float(CALIBRATION.get(symbol, {}).get("median_range_bps", 0.0))
    if usual <= 0:
        usual = float(np.median(range_bps)) if range_bps.size else 1.0
    first = usual if before.range_bps is None else before.range_bps
    previous = np.concatenate(([first], range_bps[:-1])) if n else range_bps
    extra = np.floor(previous / (3.0 * max(usual, 1e-9)))
    spread = np.asarray(np.clip(1.0 + extra, 1.0, 5.0), dtype=np.float64)
    entry = MICRO.get(symbol, MICRO_DEFAULT)
    rate = np.full(n, float(entry["touch_events_per_s"]), dtype=np.float64)
    after = PastState(float(state), float(range_bps[-1]) if n else before.range_bps)
    return depth, spread, rate, after
