"""Paper venue (v0): fills market orders at the touch, rests limit orders until the touch crosses.

The simulator issue deepens it (book walking, queue model, impact, latency, faults); the
constructor and the Venue contract stay.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal

from oms.config import PaperVenueSettings
from oms.errors import MarketClosed
from oms.market.base import MarketData
from oms.model.enums import ChildState, Liquidity, OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder, Fill
from oms.risk.halt import HaltGate
from oms.venues.base import OrderStatusReport, Venue
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)
from oms.venues.filters import SymbolFilters

__all__ = ["PaperVenue"]

_BPS = Decimal(10_000)


class PaperVenue(Venue):
    """A simulated exchange over a MarketData source."""

    name = "paper"

    def __init__(
        self,
        gate: HaltGate,
        market: MarketData,
        settings: PaperVenueSettings | None = None,
        filters: dict[str, SymbolFilters] | None = None,
        seed: int = 7,
    ) -> None:
        super().__init__(gate)
        self.market = market
        self.settings = settings or PaperVenueSettings()
        self._filters = filters or {}
        self._events: list[VenueEvent] = []
        self._open: dict[str, ChildOrder] = {}
        self._known: dict[str, OrderStatusReport] = {}
        self._ids = itertools.count(1)
        self.accepted_log: list[tuple[str, datetime]] = []  # what the venue accepted, and when

    def filters(self, symbol: str) -> SymbolFilters:
        """Exchange rules (Binance's defaults for USDT pairs unless given)."""
        flt = self._filters.get(symbol)
        if flt is None:
            flt = self._filters[symbol] = SymbolFilters(symbol)
        return flt

    def _reject(self, order: ChildOrder, code: int, reason: str, now: datetime) -> None:
        self._events.append(OrderRejected(order.client_order_id, code, reason, now))
        self._known[order.client_order_id] = OrderStatusReport(
            order.client_order_id, None, ChildState.REJECTED, Decimal(0), None)

    def _send(self, order: ChildOrder, now: datetime) -> None:
        try:
            quote = self.market.quote(order.symbol)
        except MarketClosed as exc:
            self._reject(order, -1013, f"Market is closed: {exc}", now)
            return
        violation = self.filters(order.symbol).check(
            order.order_type, order.quantity, order.limit_price, quote.mid)
        if violation is not None:
            self._reject(order, violation.code, violation.message, now)
            return
        if order.order_type is OrderType.LIMIT_MAKER and order.limit_price is not None and (
            (order.side is Side.BUY and order.limit_price >= quote.ask)
            or (order.side is Side.SELL and order.limit_price <= quote.bid)
        ):
            self._reject(order, -2010, "Order would immediately match and take.", now)
            return
        venue_id = str(next(self._ids))
        self.accepted_log.append((order.client_order_id, now))
        self._events.append(OrderAccepted(order.client_order_id, venue_id, now))
        self._known[order.client_order_id] = OrderStatusReport(
            order.client_order_id, venue_id, ChildState.NEW, Decimal(0), None)
        touch = quote.touch(order.side)
        marketable = order.order_type is OrderType.MARKET or (
            order.order_type is OrderType.LIMIT and order.limit_price is not None
            and (touch <= order.limit_price if order.side is Side.BUY else touch >= order.limit_price)
        )
        if marketable:
            self._fill(order, order.quantity, touch, Liquidity.TAKER, quote.mid, now)
        elif order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            self._events.append(OrderExpired(order.client_order_id, now, "not marketable"))
        else:
            self._open[order.client_order_id] = order

    def _fill(self, order: ChildOrder, quantity: Decimal, price: Decimal, liquidity: Liquidity,
              mid: Decimal, now: datetime) -> None:
        rate = self.settings.taker_fee_bps if liquidity is Liquidity.TAKER else self.settings.maker_fee_bps
        fill = Fill(
            fill_id=f"{order.client_order_id}:{next(self._ids)}", client_order_id=order.client_order_id,
            parent_id=order.parent_id, symbol=order.symbol, side=order.side, price=price,
            quantity=quantity, fee=price * quantity * rate / _BPS, liquidity=liquidity, ts=now,
            venue=self.name, mid_price=mid,
        )
        self._events.append(OrderFilled(fill))
        self._known[order.client_order_id] = OrderStatusReport(
            order.client_order_id, None, ChildState.FILLED, quantity, price)

    def cancel(self, client_order_id: str, now: datetime) -> None:
        """Cancel a resting order (a no-op for orders no longer open)."""
        if self._open.pop(client_order_id, None) is not None:
            self._events.append(OrderCanceled(client_order_id, now, "canceled by request"))

    def open_order_ids(self, symbol: str | None = None) -> list[str]:
        """Resting orders."""
        return [cid for cid, o in self._open.items() if symbol is None or o.symbol == symbol]

    def poll(self, now: datetime) -> list[VenueEvent]:
        """Fill resting limit orders the touch has crossed, then hand over all events."""
        for cid, order in list(self._open.items()):
            try:
                quote = self.market.quote(order.symbol)
            except MarketClosed:
                continue
            assert order.limit_price is not None
            crossed = (quote.ask <= order.limit_price if order.side is Side.BUY
                       else quote.bid >= order.limit_price)
            if crossed:
                del self._open[cid]
                self._fill(order, order.remaining, order.limit_price, Liquidity.MAKER, quote.mid, now)
        events, self._events = self._events, []
        return events

    def query(self, client_order_id: str) -> OrderStatusReport | None:
        """The venue's last known status of an order."""
        return self._known.get(client_order_id)
