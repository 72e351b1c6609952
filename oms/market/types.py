"""Market data value types shared by the simulator, the Binance feed, algorithms, risk and TCA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from oms.model.enums import Side

__all__ = ["Bar", "Book", "BookLevel", "Quote", "Trade"]


@dataclass(frozen=True, slots=True)
class Quote:
    """Best bid and ask at ``ts``."""

    symbol: str
    ts: datetime
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal

    @property
    def mid(self) -> Decimal:
        """(bid + ask) / 2."""
        return (self.bid + self.ask) / 2

    @property
    def spread_bps(self) -> float:
        """Spread in basis points of the mid."""
        return float((self.ask - self.bid) / self.mid * 10_000)

    def touch(self, side: Side) -> Decimal:
        """The price a marketable order on ``side`` meets first (ask for a buy, bid for a sell)."""
        return self.ask if side is Side.BUY else self.bid


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar (Binance kline fields); ``open_time`` is the bar's start, UTC."""

    symbol: str
    open_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float  # base asset
    quote_volume: float  # quote asset
    trades: int = 0


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level of an L2 book."""

    price: Decimal
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Book:
    """An L2 order book snapshot: bids best first (descending), asks best first (ascending)."""

    symbol: str
    ts: datetime
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]


@dataclass(frozen=True, slots=True)
class Trade:
    """A market trade print; ``aggressor`` is the side that crossed the spread."""

    symbol: str
    ts: datetime
    price: Decimal
    quantity: Decimal
    aggressor: Side
