"""The paper venue's view of the market: float top of book, levels to walk, queue volume.

A SimulatedMarket (replay or synthetic) gives the full model: book levels scaled by volume,
impact of our trades, shocks and traded volume along the sub-minute path. Any market with the
same book surface (``DepthMarket``: the L2 replay of oms.market.l2_replay) is walked the same way.
Any other MarketData (e.g. a live stream) is served from its quote alone: one deep level at the
touch, no impact.

A ``shape`` (oms.venues.venue_shape) makes the view one venue's among several over the same
reference market: prices it returns are the reference's x (1 + basis(t)) on the venue's tick,
sizes x depth_scale, and prices given to it are divided back. Without one nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from oms.errors import MarketClosed
from oms.market.base import MarketData
from oms.market.simulated import SimulatedMarket, Top
from oms.model.enums import Side
from oms.venues.venue_shape import ShapedTop, VenueShape

if TYPE_CHECKING:
    from oms.market.types import Quote

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


MAX_BOOK_LEVELS = 2_000  # the deepest a router's view of a book goes


def _walked(levels: Iterator[tuple[float, float]], depth: int,
            quantity: float) -> list[tuple[float, float]]:
    shown: list[tuple[float, float]] = []
    held = 0.0
    for level in levels:
        shown.append(level)
        held += level[1]
        if (len(shown) >= depth and held >= quantity) or len(shown) >= MAX_BOOK_LEVELS:
            break
    return shown


class MarketView:
    """Adapter the venue uses for prices; fast float paths for depth markets."""

    __slots__ = ("_decimals", "depth", "market", "shape", "sim")

    def __init__(self, market: MarketData, shape: VenueShape | None = None) -> None:
        self.market = market
        self.sim = market if isinstance(market, SimulatedMarket) else None
        self.depth: DepthMarket | None = market if isinstance(market, DepthMarket) else None
        self._decimals: dict[str, Decimal] = {}
        self.shape = shape
        if shape is not None:
            shape.bind(self._market_tick)

    def top(self, symbol: str, t: float) -> Top:
        """Top of book at epoch second ``t`` (raises MarketClosed)."""
        if self.shape is None:
            return self._reference_top(symbol, t)
        return self.shape.top(symbol, self._reference_top(symbol, t))

    def _reference_top(self, symbol: str, t: float) -> Top:
        if self.depth is not None:
            return self.depth.top(symbol, t)
        if not self.market.is_open(symbol):
            raise MarketClosed(f"{symbol}: market is closed")
        quote = self.market.quote(symbol)
        return Top(t, float(quote.bid), float(quote.ask), 1.0, -1)

    def levels(self, symbol: str, side: Side, top: Top) -> Iterator[tuple[float, float]]:
        """Levels a marketable order on ``side`` walks, best first."""
        if self.shape is not None and isinstance(top, ShapedTop):
            ref = top.ref
            return self.shape.levels(symbol, side is Side.BUY, top,
                                     self._reference_levels(symbol, side, ref))
        return self._reference_levels(symbol, side, top)

    def _reference_levels(self, symbol: str, side: Side,
                          top: Top) -> Iterator[tuple[float, float]]:
        if self.depth is not None:
            return self.depth.levels(symbol, side, top)
        return iter(((top.ask if side is Side.BUY else top.bid, float("inf")),))

    def book(self, symbol: str, t: float, depth: int, quantity: float = 0.0
             ) -> tuple[float, float, list[tuple[float, float]], list[tuple[float, float]]] | None:
        """(bid, ask, the levels a buy walks, those a sell walks) at ``t`` as this venue shows
        them: at least ``depth`` levels a side, and on until they hold ``quantity`` (at most
        MAX_BOOK_LEVELS); None while the market is closed (the router's view)."""
        try:
            top = self.top(symbol, t)
        except MarketClosed:
            return None
        return (top.bid, top.ask, _walked(self.levels(symbol, Side.BUY, top), depth, quantity),
                _walked(self.levels(symbol, Side.SELL, top), depth, quantity))

    def quote(self, quote: Quote, t: float) -> Quote:
        """A quote of the reference market as this venue shows it at ``t``."""
        return quote if self.shape is None else self.shape.quote(quote, t)

    def touch_quantity(self, symbol: str, side: Side, top: Top) -> float:
        """Displayed quantity at the touch a marketable order on ``side`` meets first."""
        if self.shape is not None and isinstance(top, ShapedTop):
            return self._reference_touch(symbol, side, top.ref) * self.shape.depth_scale
        return self._reference_touch(symbol, side, top)

    def _reference_touch(self, symbol: str, side: Side, top: Top) -> float:
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
        if self.shape is not None:
            factor = self.shape.factor(symbol, t1)  # moves by ~1e-6 in a poll interval
            volume, crossed = self._reference_volume(symbol, side, price / factor, t0, t1)
            return volume * self.shape.depth_scale, crossed
        return self._reference_volume(symbol, side, price, t0, t1)

    def _reference_volume(self, symbol: str, side: Side, price: float, t0: float,
                          t1: float) -> tuple[float, bool]:
        if self.depth is not None:
            return self.depth.volume_through(symbol, side, price, t0, t1)
        try:
            top = self._reference_top(symbol, t1)
        except MarketClosed:
            return 0.0, False
        crossed = top.ask <= price if side is Side.BUY else top.bid >= price
        return 0.0, crossed

    def book_quantity_at(self, symbol: str, side: Side, price: float, top: Top) -> float:
        """Displayed quantity at ``price`` on ``side``'s own book side (0 if it improves it)."""
        if self.depth is None:
            return 0.0
        book_side = Side.SELL if side is Side.BUY else Side.BUY  # bids are walked by sells
        # a shaped top gives the venue's levels: ``price`` is compared on the venue's grid
        for level_price, quantity in self.levels(symbol, book_side, top):
            if abs(level_price - price) < 1e-9:
                return quantity
            if (level_price < price) if side is Side.BUY else (level_price > price):
                return 0.0
        return 0.0

    def tick(self, symbol: str) -> Decimal:
        """Price tick of ``symbol`` at this venue (0.01 for markets that do not say)."""
        if self.shape is not None:
            return self.shape.tick(symbol)
        return self._market_tick(symbol)

    def _market_tick(self, symbol: str) -> Decimal:
        if self.depth is not None:
            return self.depth.tick_decimal(symbol)
        return Decimal("0.01")
