"""Walking the paper venue's book: the taker fills a marketable order gets, in exchange decimals.

Planning is apart from filling so that a market buy can be checked against what it would spend
(Binance refuses it, -2010, when the free quote balance does not cover it) before it trades.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from oms.market.simulated import Top
from oms.model.enums import Side
from oms.venues.filters import SymbolFilters
from oms.venues.paper_book import MarketView
from oms.venues.paper_state import WorkingOrder

__all__ = ["BookWalk", "TakePlan"]

_ZERO = Decimal(0)

TakePlan = list[tuple[Decimal, Decimal]]  # (quantity, price) of each taker fill, best first


class BookWalk:
    """Taker fills of marketable orders over a MarketView; float book, Decimal fills."""

    __slots__ = ("_filters", "_steps", "_ticks", "_view")

    def __init__(self, view: MarketView, filters: Callable[[str], SymbolFilters]) -> None:
        self._view = view
        self._filters = filters
        self._ticks: dict[str, tuple[float, Decimal]] = {}
        self._steps: dict[str, tuple[float, Decimal]] = {}

    def plan(self, w: WorkingOrder, top: Top, limit: float | None, *,
             fill_or_kill: bool) -> TakePlan:
        """The fills ``w`` would get walking the book at ``top`` (up to ``limit``); empty for a
        fill-or-kill order the book cannot fill completely. Fills are rounded down to the step;
        the last level of a complete walk takes the rest."""
        order = w.order
        buy = order.side is Side.BUY
        need = w.remaining_f
        if need <= self._view.touch_quantity(order.symbol, order.side, top):
            price = top.ask if buy else top.bid
            if limit is None or (price <= limit + 1e-9 if buy else price >= limit - 1e-9):
                return [(w.remaining, self.price(order.symbol, price))]  # the touch holds it all
        taken: list[tuple[float, float]] = []
        for price, size in self._view.levels(order.symbol, order.side, top):
            if limit is not None and (price > limit + 1e-9 if buy else price < limit - 1e-9):
                break
            take = size if size < need else need
            taken.append((price, take))
            need -= take
            if need <= 1e-12:
                break
        complete = need <= 1e-12
        if fill_or_kill and not complete:
            return []
        step_f, step = self.step(order.symbol)
        plan: TakePlan = []
        planned = _ZERO
        for k, (price, take) in enumerate(taken):
            if complete and k == len(taken) - 1:
                quantity = w.remaining - planned
            else:
                quantity = Decimal(int(take / step_f + 1e-9)) * step
            if quantity > 0:
                plan.append((quantity, self.price(order.symbol, price)))
                planned += quantity
        return plan

    def step(self, symbol: str) -> tuple[float, Decimal]:
        """The symbol's step size, as a float and as a Decimal."""
        cached = self._steps.get(symbol)
        if cached is None:
            step = self._filters(symbol).step_size
            cached = self._steps[symbol] = (float(step), step)
        return cached

    def _tick(self, symbol: str) -> tuple[float, Decimal]:
        cached = self._ticks.get(symbol)
        if cached is None:
            tick = self._view.tick(symbol)
            cached = self._ticks[symbol] = (float(tick), tick)
        return cached

    def price(self, symbol: str, price: float) -> Decimal:
        """A float book price on the symbol's tick grid."""
        tick_f, tick = self._tick(symbol)
        return Decimal(round(price / tick_f)) * tick

    def mid_half(self, symbol: str, top: Top) -> tuple[Decimal, Decimal]:
        """(mid, half spread) of ``top`` in tick decimals."""
        bid = self.price(symbol, top.bid)
        ask = self.price(symbol, top.ask)
        return (bid + ask) / 2, (ask - bid) / 2
