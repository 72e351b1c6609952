"""Binance order and trade messages (REST and user stream) -> one update shape -> venue events.

The OrderTracker owns what the venue knows about each child order it sent or resumed, and turns
updates into events so that each acceptance, fill (by trade id) and end is reported once, whatever
path (order response, execution report, REST poll, reconcile) brought it.

Each fill keeps its commission as Binance reported it (``fee_asset``, ``fee_quantity``) and its
value in the quote asset (``fee``, at ``fee_price``): quote asset at 1, base asset at the trade
price, any other asset (BNB) through ``value_fee`` (oms.venues.binance_fees.FeeValuer). A third
asset fee that cannot be valued is logged as an error and booked at 0 with ``fee_price`` None.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from oms.errors import MarketClosed
from oms.market.base import MarketData
from oms.model.assets import split_symbol
from oms.model.enums import ChildState, Liquidity, OrderType, Side
from oms.model.orders import ZERO, ChildOrder, FeePaidIn, Fill
from oms.venues.base import OrderStatusReport
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)
from oms.venues.filters import SymbolFilters

__all__ = [
    "FeeValue",
    "OrderTracker",
    "OrderUpdate",
    "TrackedOrder",
    "TradeUpdate",
    "map_status",
    "order_params",
    "precheck",
    "report_from_update",
    "trade_from_rest",
    "update_from_execution_report",
    "update_from_rest_order",
    "with_market_mid",
]

log = logging.getLogger(__name__)

#: ``value_fee(asset, quantity, quote_asset, ts)``: ``quantity`` of ``asset`` in the quote asset
#: at ``ts``, None when no price is known (oms.venues.binance_fees.FeeValuer)
FeeValue = Callable[[str, Decimal, str, datetime], Decimal | None]

_ONE = Decimal(1)

_STATUS = {
    "NEW": ChildState.NEW,
    "PARTIALLY_FILLED": ChildState.PARTIALLY_FILLED,
    "FILLED": ChildState.FILLED,
    "CANCELED": ChildState.CANCELED,
    "PENDING_CANCEL": ChildState.PENDING_CANCEL,
    "REJECTED": ChildState.REJECTED,
    "EXPIRED": ChildState.EXPIRED,
    "EXPIRED_IN_MATCH": ChildState.EXPIRED,
}


def map_status(status: str) -> ChildState:
    """The OMS state for a Binance order status."""
    return _STATUS.get(status, ChildState.NEW)


def _ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    """One execution of an order (Binance trade id is unique per symbol)."""

    symbol: str
    trade_id: int
    price: Decimal
    quantity: Decimal
    commission: Decimal
    commission_asset: str
    is_maker: bool
    ts: datetime


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """Binance's view of one order at one instant, plus the trade that caused it (if any)."""

    client_order_id: str
    symbol: str
    venue_order_id: str
    status: str
    executed_qty: Decimal
    cumulative_quote: Decimal
    ts: datetime
    reason: str = ""
    trades: tuple[TradeUpdate, ...] = ()

    @property
    def state(self) -> ChildState:
        """The mapped OMS state."""
        return map_status(self.status)


def trade_from_rest(trade: dict[str, Any], symbol: str, ts: datetime | None = None) -> TradeUpdate:
    """A myTrades row or an order-response ``fills`` entry (taker unless ``isMaker``)."""
    when = _ms(trade["time"]) if "time" in trade else (ts or datetime.now(UTC))
    return TradeUpdate(
        symbol=symbol, trade_id=int(trade["tradeId"] if "tradeId" in trade else trade["id"]),
        price=Decimal(str(trade["price"])), quantity=Decimal(str(trade["qty"])),
        commission=Decimal(str(trade.get("commission", "0"))),
        commission_asset=str(trade.get("commissionAsset", "")),
        is_maker=bool(trade.get("isMaker", False)), ts=when,
    )


def update_from_rest_order(order: dict[str, Any]) -> OrderUpdate:
    """An order response / query / openOrders row (``fills`` only on FULL order responses)."""
    ts_raw = order.get("updateTime", order.get("transactTime", order.get("time")))
    ts = _ms(ts_raw) if ts_raw is not None else datetime.now(UTC)
    symbol = str(order["symbol"])
    cid = str(order.get("origClientOrderId") or order["clientOrderId"])
    return OrderUpdate(
        client_order_id=cid, symbol=symbol, venue_order_id=str(order["orderId"]),
        status=str(order["status"]), executed_qty=Decimal(str(order.get("executedQty", "0"))),
        cumulative_quote=Decimal(str(order.get("cummulativeQuoteQty", "0"))), ts=ts,
        trades=tuple(trade_from_rest(f, symbol, ts) for f in order.get("fills", [])),
    )


def update_from_execution_report(msg: dict[str, Any]) -> OrderUpdate:
    """A user-stream ``executionReport`` (for a cancel, ``C`` is the original client order id)."""
    ts = _ms(msg.get("T") or msg.get("E"))
    symbol = str(msg["s"])
    cid = str(msg.get("C") or msg["c"]) if msg.get("x") == "CANCELED" else str(msg["c"])
    trades: tuple[TradeUpdate, ...] = ()
    if msg.get("x") == "TRADE" and int(msg.get("t", -1)) >= 0:
        trades = (TradeUpdate(
            symbol=symbol, trade_id=int(msg["t"]), price=Decimal(str(msg["L"])),
            quantity=Decimal(str(msg["l"])), commission=Decimal(str(msg.get("n", "0"))),
            commission_asset=str(msg.get("N") or ""), is_maker=bool(msg.get("m", False)), ts=ts),)
    reason = str(msg.get("r", "NONE"))
    return OrderUpdate(
        client_order_id=cid, symbol=symbol, venue_order_id=str(msg["i"]), status=str(msg["X"]),
        executed_qty=Decimal(str(msg.get("z", "0"))),
        cumulative_quote=Decimal(str(msg.get("Z", "0"))), ts=ts,
        reason="" if reason == "NONE" else reason, trades=trades,
    )


@dataclass(frozen=True, slots=True)
class _Fee:
    """A trade's commission: its quote value, as reported, its price and where it was paid."""

    value: Decimal
    asset: str
    quantity: Decimal
    price: Decimal | None
    paid_in: FeePaidIn


@dataclass(slots=True)
class TrackedOrder:
    """What the venue knows about one of the OMS's orders."""

    order: ChildOrder
    venue_order_id: str | None = None
    accepted: bool = False
    done: bool = False
    executed: Decimal = ZERO
    fill_ids: set[str] = field(default_factory=set)
    sent_at: datetime | None = None

    @property
    def working(self) -> bool:
        """True until the order ended (filled, canceled, rejected, expired)."""
        return not self.done


class OrderTracker:
    """The venue's order book of the OMS's own orders; turns updates into events, each once."""

    def __init__(
        self, venue_name: str, quote_assets: dict[str, tuple[str, str]] | None = None, *,
        value_fee: FeeValue | None = None,
    ) -> None:
        self.venue_name = venue_name
        self.assets = quote_assets if quote_assets is not None else {}  # symbol -> (base, quote)
        self.value_fee = value_fee  # prices a commission in a third asset (BNB)
        self.orders: dict[str, TrackedOrder] = {}

    def track(self, order: ChildOrder) -> TrackedOrder:
        """Start following ``order`` (idempotent)."""
        tracked = self.orders.get(order.client_order_id)
        if tracked is None:
            tracked = self.orders[order.client_order_id] = TrackedOrder(order)
        return tracked

    def working_ids(self, symbol: str | None = None) -> list[str]:
        """Client order ids still working (of ``symbol``)."""
        return [cid for cid, t in self.orders.items()
                if t.working and (symbol is None or t.order.symbol == symbol)]

    def working_symbols(self) -> list[str]:
        """Symbols with at least one working order, sorted."""
        return sorted({t.order.symbol for t in self.orders.values() if t.working})

    def _assets(self, symbol: str) -> tuple[str, str]:
        """(base, quote) from exchangeInfo, else by the quote suffix."""
        known = self.assets.get(symbol)
        if known is not None:
            return known
        try:
            return split_symbol(symbol)
        except ValueError:
            return "", "USDT"

    def _fee(self, trade: TradeUpdate) -> _Fee:
        """The trade's commission as reported, where it was paid and its value in quote."""
        base, quote = self._assets(trade.symbol)
        asset, quantity = trade.commission_asset or quote, trade.commission
        if asset == quote:
            return _Fee(quantity, asset, quantity, _ONE, FeePaidIn.QUOTE)
        if asset == base:
            return _Fee(quantity * trade.price, asset, quantity, trade.price, FeePaidIn.BASE)
        if quantity == 0:
            return _Fee(ZERO, asset, quantity, None, FeePaidIn.OTHER)
        value = (self.value_fee(asset, quantity, quote, trade.ts)
                 if self.value_fee is not None else None)
        if value is None:
            log.error("%s: fee of %s %s on %s trade %s has no %s price: booked as 0 and marked "
                      "unvalued (fee_price None)", self.venue_name, quantity, asset,
                      trade.symbol, trade.trade_id, quote)
            return _Fee(ZERO, asset, quantity, None, FeePaidIn.OTHER)
        return _Fee(value, asset, quantity, value / quantity, FeePaidIn.OTHER)

    def apply_trade(self, cid: str, trade: TradeUpdate) -> list[VenueEvent]:
        """A fill event unless this trade id was already reported."""
        tracked = self.orders.get(cid)
        if tracked is None:
            return []
        fill_id = f"{trade.symbol}-{trade.trade_id}"
        if fill_id in tracked.fill_ids:
            return []
        tracked.fill_ids.add(fill_id)
        tracked.executed += trade.quantity
        order = tracked.order
        fee = self._fee(trade)
        fill = Fill(
            fill_id=fill_id, client_order_id=cid, parent_id=order.parent_id, symbol=order.symbol,
            side=order.side if isinstance(order.side, Side) else Side(order.side),
            price=trade.price, quantity=trade.quantity, fee=fee.value,
            liquidity=Liquidity.MAKER if trade.is_maker else Liquidity.TAKER, ts=trade.ts,
            venue=self.venue_name, submitted_at=tracked.sent_at or order.sent_at,
            fee_asset=fee.asset, fee_quantity=fee.quantity, fee_price=fee.price,
            fee_paid_in=fee.paid_in,
        )
        return [OrderFilled(fill)]

    def apply(self, update: OrderUpdate) -> list[VenueEvent]:
        """Events for ``update``: acceptance, new fills, then the end (each at most once)."""
        tracked = self.orders.get(update.client_order_id)
        if tracked is None:
            return []
        events: list[VenueEvent] = []
        tracked.venue_order_id = update.venue_order_id or tracked.venue_order_id
        state = update.state
        if state is ChildState.REJECTED:
            if not tracked.done:
                tracked.done = True
                events.append(OrderRejected(update.client_order_id, -2010,
                                            update.reason or "rejected", update.ts))
            return events
        if not tracked.accepted:
            tracked.accepted = True
            events.append(OrderAccepted(update.client_order_id, update.venue_order_id, update.ts))
        for trade in update.trades:
            events.extend(self.apply_trade(update.client_order_id, trade))
        if tracked.done:
            return events
        if state is ChildState.FILLED and tracked.executed >= tracked.order.quantity:
            tracked.done = True
        elif state is ChildState.CANCELED and tracked.executed >= update.executed_qty:
            tracked.done = True
            events.append(OrderCanceled(update.client_order_id, update.ts,
                                        update.reason or "canceled"))
        elif state is ChildState.EXPIRED and tracked.executed >= update.executed_qty:
            tracked.done = True
            events.append(OrderExpired(update.client_order_id, update.ts,
                                       update.reason or "expired"))
        return events

    def missing_quantity(self, update: OrderUpdate) -> Decimal:
        """Executed quantity the venue reports beyond the fills already seen."""
        tracked = self.orders.get(update.client_order_id)
        seen = tracked.executed if tracked is not None else ZERO
        shown = sum((t.quantity for t in update.trades), ZERO)
        return update.executed_qty - seen - shown

    def prune(self, keep_done: int = 10_000) -> None:
        """Forget the oldest finished orders beyond ``keep_done`` (late duplicates of those are
        then ignored as unknown, which is also safe)."""
        done = [cid for cid, t in self.orders.items() if t.done]
        for cid in done[: max(0, len(done) - keep_done)]:
            del self.orders[cid]

    def finish(self, cid: str) -> None:
        """Stop treating ``cid`` as working (it never reached the venue)."""
        tracked = self.orders.get(cid)
        if tracked is not None:
            tracked.done = True


def report_from_update(update: OrderUpdate) -> OrderStatusReport:
    """The OrderStatusReport for a REST order row."""
    avg = update.cumulative_quote / update.executed_qty if update.executed_qty else None
    return OrderStatusReport(update.client_order_id, update.venue_order_id, update.state,
                             update.executed_qty, avg)



def order_params(order: ChildOrder) -> dict[str, Any]:
    """The /api/v3/order parameters for ``order`` (the OMS's id as newClientOrderId)."""
    params: dict[str, Any] = {
        "symbol": order.symbol, "side": str(order.side), "type": str(order.order_type),
        "quantity": format(order.quantity, "f"), "newClientOrderId": order.client_order_id,
        "newOrderRespType": "FULL",
    }
    if order.order_type is not OrderType.MARKET and order.limit_price is not None:
        params["price"] = format(order.limit_price, "f")
    if order.order_type is OrderType.LIMIT:
        params["timeInForce"] = str(order.time_in_force)
    return params


def precheck(order: ChildOrder, flt: SymbolFilters, reference: Decimal, working: int,
             now: datetime, *, avg_price: Decimal | None = None) -> OrderRejected | None:
    """The rejection for an order that cannot pass the filters (it is then not sent), or None.

    ``reference`` is the mid and ``avg_price`` Binance's average price (percent price and
    market notional are checked against it; without either price those checks are left to
    Binance); ``working`` counts the symbol's open orders against MAX_NUM_ORDERS.
    """
    violation = flt.check(order.order_type, order.quantity, order.limit_price, reference,
                          side=order.side, avg_price=avg_price, open_orders=working)
    if violation is None:
        return None
    return OrderRejected(order.client_order_id, violation.code, violation.message, now)


def with_market_mid(event: VenueEvent, market: MarketData | None) -> VenueEvent:
    """A fill with the market mid and half spread at report time (for TCA), when known."""
    if not isinstance(event, OrderFilled) or market is None:
        return event
    try:
        quote = market.quote(event.fill.symbol)
    except (MarketClosed, KeyError):
        return event
    return OrderFilled(replace(event.fill, mid_price=quote.mid,
                               half_spread=(quote.ask - quote.bid) / 2))
