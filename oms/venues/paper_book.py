"""The paper venue's view of the market: float top of book, levels to walk, queue volume.

A SimulatedMarket (replay or synthetic) gives the full model: book levels scaled by volume,
impact of our trades, shocks and traded volume along the sub-minute path. Any market with the
same book surface (``DepthMarket``: the L2 replay of oms.market.l2_replay) is walked the same way.
Any other MarketData (e.g. a live stream) is served from its quote alone: one deep level at the
touch, no impact.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol, runtime_checkable

from oms.errors import MarketClosed
from oms.market.base import MarketData
from oms.market.simulated import SimulatedMarket, Top
from oms.model.enums import Side

__all__ = ["DepthMarket", "MarketView", "epoch_to_datetime"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_to_datetime(t: float) -> datetime:
    """Epoch seconds to an aware UTC datetime (microsecond precision)."""
    return _EPOCH + timedelta(microseconds=round(t * 1e6))


@runtime_checkable
class DepthMarket(Protocol):
    """A market with a float book the venue can walk and a queue it can wait in: the
    SimulatedMarket and the L2 replay. (Their docstrings say what each number means.)"""

    def top(self, symbol: str, ts: datetime | float | None = None) -> Top:
        """Float top of book at ``ts`` (epoch seconds); raises MarketClosed."""
        ...

    def levels(self, symbol: str, side: Side, top: Top) -> Iterator[tuple[float, float]]:
        """(price, size) levels a marketable order on ``side`` walks at ``top``, best first."""
        ...

    def volume_through(self, symbol: str, resting_side: Side, price: float, t0: float,
                       t1: float) -> tuple[float, bool]:
        """Volume moving a resting order at ``price`` forward in (t0, t1], and traded through."""
        ...

    def record_own_trade(self, symbol: str, side: Side, quantity: float,
                         ts: datetime | float | None = None, *, passive: bool = False) -> None:
        """Our trade of ``quantity`` at ``ts`` (``passive``: a maker fill)."""
        ...

    def tick_decimal(self, symbol: str) -> Decimal:
        """The price tick of ``symbol``."""
        ...


class MarketView:
    """Adapter the venue uses for prices; fast float paths for depth markets."""

    __slots__ = ("_decimals", "depth", "market", "sim")

    def __init__(self, market: MarketData) -> None:
        self.market = market
        self.sim = market if isinstance(market, SimulatedMarket) else None
        self.depth: DepthMarket | None = market if isinstance(market, DepthMarket) else None
        self._decimals: dict[str, Decimal] = {}

    def top(self, symbol: str, t: float) -> Top:
        """Top of book at epoch second ``t`` (raises MarketClosed)."""
        if self.depth is not None:
            return self.depth.top(symbol, t)
        if not self.market.is_open(symbol):
            raise MarketClosed(f"{symbol}: market is closed")
        quote = self.market.quote(symbol)
        return Top(t, float(quote.bid), float(quote.ask), 1.0, -1)

    def levels(self, symbol: str, side: Side, top: Top) -> Iterator[tuple[float, float]]:
        """Levels a marketable order on ``side`` walks, best first."""
        if self.depth is not None:
            return self.depth.levels(symbol, side, top)
        return iter(((top.ask if side is Side.BUY else top.bid, float("inf")),))

    def touch_quantity(self, symbol: str, side: Side, top: Top) -> float:
        """Displayed quantity at the touch a marketable order on ``side`` meets first."""
        if self.sim is None:
            if self.depth is not None:  # the recorded size at the touch: the other side's
                return self.book_quantity_at(symbol, Side.SELL if side is Side.BUY else Side.BUY,
                                             top.ask if side is Side.BUY else top.bid, top)
            return float("inf")
        price = top.ask if side is Side.BUY else top.bid
        return self.sim.touch_notional(symbol) * top.scale / price

    def record_own_trade(self, symbol: str, side: Side, quantity: float, t: float, *,
                         passive: bool = False) -> None:
        """Feed our trade to the market's impact model (depth markets only; ``passive``: a
        maker fill, which moves the price less)."""
        if self.depth is not None:
            self.depth.record_own_trade(symbol, side, quantity, t, passive=passive)

    def volume_through(self, symbol: str, side: Side, price: float, t0: float,
                       t1: float) -> tuple[float, bool]:
        """Aggressor volume reaching a resting order at ``price`` in (t0, t1], and crossed."""
        if self.depth is not None:
            return self.depth.volume_through(symbol, side, price, t0, t1)
        try:
            top = self.top(symbol, t1)
        except MarketClosed:
            return 0.0, False
        crossed = top.ask <= price if side is Side.BUY else top.bid >= price
        return 0.0, crossed

    def book_quantity_at(self, symbol: str, side: Side, price: float, top: Top) -> float:
        """Displayed quantity at ``price`` on ``side``'s own book side (0 if it improves it)."""
        if self.depth is None:
            return 0.0
        book_side = Side.SELL if side is Side.BUY else Side.BUY  # bids are walked by sells
        for level_price, quantity in self.depth.levels(symbol, book_side, top):
            if abs(level_price - price) < 1e-9:
                return quantity
            if (level_price < price) if side is Side.BUY else (level_price > price):
                return 0.0
        return 0.0

    def tick(self, symbol: str) -> Decimal:
        """Price tick of ``symbol`` (0.01 for markets that do not say)."""
        if self.depth is not None:
            return self.depth.tick_decimal(symbol)
        return Decimal("0.01")
