"""Kline replay: real Binance 1-minute bars with a seeded sub-minute path, book and impact.

``KlineReplayMarket("BTCUSDT-1m-2024-01-01_2024-06-25.csv.gz")`` replays the file: prices move
along each bar's path (oms.market.paths; through O, H, L, C), volume is released over the minute,
and a missing minute is a closed market (``is_open`` False, ``quote`` raises MarketClosed), as
in the 80-minute Binance halt of 2023-03-24. ``bars()`` returns the file's bars unchanged.
All per-bar arrays are built once with numpy, so replaying a day costs milliseconds. Bars that
closed more than ``history`` (oms.market.base.HISTORY_HORIZON, two days) before the market's
time are dropped as it advances, a day at a time, so a long replay holds the file's future and
about three days of its past.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeAlias

import numpy as np

from oms.clock import utc
from oms.market.base import HISTORY_HORIZON
from oms.market.calibration import CALIBRATION
from oms.market.klines import KlineArrays, kline_arrays
from oms.market.paths import UNIFORMS_PER_BAR, BarPaths, bar_uniforms, knots_from_ohlc
from oms.market.simulated import SimulatedMarket, SymbolSpec
from oms.market.specs import DEFAULT_TICK, expected_volume, make_spec, micro_arrays

__all__ = ["KlineReplayMarket", "ReplaySource", "paths_from_klines"]

ReplaySource: TypeAlias = (
    str | Path | KlineArrays | Sequence[str | Path | KlineArrays]
    | Mapping[str, str | Path | KlineArrays]
)


def paths_from_klines(bars: KlineArrays, seed: int, spec: SymbolSpec) -> BarPaths:
    """Sub-minute paths for every bar of ``bars``; depth, spread and touch activity from the
    bars before each one (the first bar of the slice sees usual activity)."""
    uniforms = bar_uniforms(bars.open_s, seed, bars.symbol, UNIFORMS_PER_BAR)
    knots = knots_from_ohlc(bars.open, bars.high, bars.low, bars.close, uniforms)
    expected = expected_volume(bars.symbol, bars.open_s, spec.volume_per_minute)
    depth, spread, rate, _ = micro_arrays(bars.symbol, bars.open, bars.high, bars.low,
                                          bars.volume, expected)
    return BarPaths(
        bars.open_s,
        (bars.open, bars.high, bars.low, bars.close, bars.volume, bars.quote_volume),
        bars.trades, bars.taker_buy_volume, knots, depth, spread, rate,
    )


def _load(source: ReplaySource, start: datetime | None,
          end: datetime | None) -> dict[str, KlineArrays]:
    if isinstance(source, KlineArrays):
        return {source.symbol: source}
    if isinstance(source, str | Path):
        arrays = kline_arrays(source, start=start, end=end)
        return {arrays.symbol: arrays}
    if isinstance(source, Mapping):
        out: dict[str, KlineArrays] = {}
        for symbol, item in source.items():
            out[symbol] = (item if isinstance(item, KlineArrays)
                           else kline_arrays(item, symbol=symbol, start=start, end=end))
        return out
    merged: dict[str, KlineArrays] = {}
    for item in source:
        merged.update(_load(item, start, end))
    return merged


class KlineReplayMarket(SimulatedMarket):
    """A MarketData replaying Binance kline files (one per symbol), deterministic for a seed."""

    def __init__(
        self,
        source: ReplaySource,
        *,
        seed: int = 7,
        start: datetime | None = None,
        end: datetime | None = None,
        ticks: Mapping[str, Decimal] | None = None,
        history: timedelta | None = HISTORY_HORIZON,
    ) -> None:
        """``source``: a file, several files, or {symbol: file}; ``start``/``end`` slice bars.

        The market starts at ``start`` (default: the first bar's open time). Bars older than
        ``history`` before the market's time are dropped as it advances (None keeps the file).
        """
        start = utc(start) if start is not None else None
        end = utc(end) if end is not None else None
        loaded = _load(source, start, end)
        if not loaded or any(len(a) == 0 for a in loaded.values()):
            raise ValueError("no kline bars in the replay source (check the file and time range)")
        specs: dict[str, SymbolSpec] = {}
        paths: dict[str, BarPaths] = {}
        for symbol, bars in loaded.items():
            known = symbol in CALIBRATION
            specs[symbol] = make_spec(
                symbol,
                tick=(ticks or {}).get(symbol, DEFAULT_TICK),
                sigma_1m=None if known else _sigma(bars),
                volume_per_minute=None if known else float(bars.volume.mean()),
                quote_volume_per_minute=None if known else float(bars.quote_volume.mean()),
            )
            paths[symbol] = paths_from_klines(bars, seed, specs[symbol])
        self.first_open = min(datetime.fromtimestamp(int(a.open_s[0]), UTC)
                              for a in loaded.values())
        self.last_close = max(datetime.fromtimestamp(int(a.open_s[-1]) + 60, UTC)
                              for a in loaded.values())
        super().__init__(specs, paths, start or self.first_open, history=history, seed=seed)


def _sigma(bars: KlineArrays) -> float:
    if len(bars) < 3:
        return 0.001
    return float(np.std(np.diff(np.log(bars.close))))
