"""Per-symbol simulation facts: calibrated constants, or estimates from the data for others."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from oms.market.book import LevelGrid, curve_for_symbol
from oms.market.calibration import CALIBRATION, SPREADS
from oms.market.simulated import SymbolSpec

__all__ = ["DEFAULT_TICK", "bar_depth_scale", "bar_spread_ticks", "expected_volume", "make_spec"]

DEFAULT_TICK = Decimal("0.01")  # BTCUSDT, ETHUSDT and SOLUSDT all quote in cents
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_FLAT_PROFILE = (1.0,) * 24


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


def bar_depth_scale(volume: FloatArray, expected: FloatArray) -> FloatArray:
    """Depth multiplier per bar: sqrt(volume / usual volume), kept within [0.3, 3]."""
    ratio = volume / np.maximum(expected, 1e-12)
    return np.asarray(np.clip(np.sqrt(ratio), 0.3, 3.0), dtype=np.float64)


def bar_spread_ticks(symbol: str, open_: FloatArray, high: FloatArray, low: FloatArray,
                     median_range_bps: float | None = None) -> FloatArray:
    """Quoted spread per bar in ticks: the usual spread, one tick wider per 3x-usual range."""
    base = float(SPREADS.get(symbol, {}).get("spread_ticks_median", 1.0))
    range_bps = (high - low) / np.maximum(open_, 1e-12) * 1e4
    usual = median_range_bps or float(CALIBRATION.get(symbol, {}).get("median_range_bps", 0.0))
    if usual <= 0:
        usual = float(np.median(range_bps)) if range_bps.size else 1.0
    extra = np.floor(range_bps / (3.0 * max(usual, 1e-9)))
    return np.asarray(np.clip(np.round(base) + extra, 1.0, 5.0), dtype=np.float64)
