"""Market benchmarks over a parent's window from 1-minute bars: interval VWAP, TWAP and volume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from oms.market.base import MarketData
from oms.market.types import Bar

__all__ = ["MarketWindow", "interval_twap", "interval_volume", "interval_vwap"]


def interval_vwap(bars: Sequence[Bar]) -> float | None:
    """Volume-weighted average price: sum(quote_volume) / sum(volume); None if nothing traded."""
    if not bars:
        return None
    volume = float(np.fromiter((b.volume for b in bars), dtype=np.float64, count=len(bars)).sum())
    if volume <= 0:
        return None
    quote = np.fromiter((b.quote_volume for b in bars), dtype=np.float64, count=len(bars))
    return float(quote.sum()) / volume


def interval_twap(bars: Sequence[Bar]) -> float | None:
    """Time-weighted average price: mean over bars of (open + high + low + close) / 4.

    Each 1-minute bar covers the same time, so the plain mean is time-weighted; OHLC/4 is a less
    noisy estimate of a bar's average price than its close alone. None for no bars.
    """
    if not bars:
        return None
    ohlc = np.array([(b.open, b.high, b.low, b.close) for b in bars], dtype=np.float64)
    return float(ohlc.mean())


def interval_volume(bars: Sequence[Bar]) -> float:
    """Market volume (base asset) traded over the bars."""
    return float(sum(b.volume for b in bars))


@dataclass(frozen=True, slots=True)
class MarketWindow:
    """What the market did over a parent's window: VWAP, TWAP and base-asset volume."""

    vwap: Decimal | float | None = None
    twap: Decimal | float | None = None
    volume: Decimal | float | None = None

    @classmethod
    def from_bars(cls, bars: Sequence[Bar]) -> MarketWindow:
        """Benchmarks computed from the 1-minute bars covering the window."""
        return cls(vwap=interval_vwap(bars), twap=interval_twap(bars), volume=interval_volume(bars))

    @classmethod
    def from_market(
        cls, market: MarketData, symbol: str, start: datetime, end: datetime
    ) -> MarketWindow:
        """Benchmarks over [start, end) asked of a MarketData: its sub-minute VWAP and volume,
        and the TWAP of the 1-minute bars that opened in the window (from the minute of
        ``start``); the bars' VWAP stands in when the market reports none."""
        bars = market.bars(symbol, start.replace(second=0, microsecond=0), end)
        vwap = market.vwap(symbol, start, end)
        return cls(
            vwap=vwap if vwap is not None else interval_vwap(bars),
            twap=interval_twap(bars),
            volume=market.traded_volume(symbol, start, end),
        )
