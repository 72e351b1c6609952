"""Reconcile at start: the database's working orders against Binance's open orders.

- open at Binance and known to the database: resumed (tracked again, fills since then reported);
- open at Binance but unknown to the database: reported, never touched;
- working in the database but not open at Binance: resolved by query (fills and end reported),
  or, if Binance has no record at all, reported as never placed (an OrderRejected event).

The venue calls ``reconcile`` with its parts (order tracker, REST gateway, and callables that
apply a REST view and queue an event): this module never imports the venue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from oms.errors import VenueError
from oms.model.orders import ChildOrder
from oms.venues.base import OrderStatusReport
from oms.venues.binance_errors import CODE_ORDER_NOT_FOUND
from oms.venues.binance_orders import (
    OrderTracker,
    OrderUpdate,
    report_from_update,
    update_from_rest_order,
)
from oms.venues.binance_rest import RestGateway
from oms.venues.events import OrderRejected, VenueEvent

__all__ = ["ForeignOrder", "ReconcileResult", "reconcile"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ForeignOrder:
    """An order open at Binance that the OMS did not place (manual, another program)."""

    symbol: str
    client_order_id: str
    venue_order_id: str
    side: str
    quantity: Decimal
    price: Decimal


@dataclass(slots=True)
class ReconcileResult:
    """What reconciliation found; the venue's ``poll`` then reports the resulting events."""

    resumed: list[str] = field(default_factory=list)
    foreign: list[ForeignOrder] = field(default_factory=list)
    resolved: dict[str, OrderStatusReport] = field(default_factory=dict)
    not_found: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the log and the dashboard."""
        return (f"resumed={len(self.resumed)} foreign={len(self.foreign)} "
                f"resolved={len(self.resolved)} not_found={len(self.not_found)} "
                f"unresolved={len(self.unresolved)}")


def reconcile(
    known_working: dict[str, ChildOrder],
    *,
    tracker: OrderTracker,
    rest: RestGateway,
    apply_rest: Callable[[OrderUpdate], None],
    emit: Callable[[VenueEvent], None],
    now: Callable[[], datetime],
    defer: Callable[[ChildOrder], bool] = lambda order: False,
) -> ReconcileResult:
    """Compare ``known_working`` (client order id -> child, from the database) with Binance.

    ``apply_rest`` applies a REST view of an order (fetching its trades), ``emit`` queues an
    event for the venue's next ``poll``, ``now`` is the venue's clock. ``defer(order)`` takes an
    order Binance does not show into the venue's unknown-outcome resolution and returns True
    when it is too recent to be declared never placed (a send just before the crash may not be
    visible yet).
    """
    result = ReconcileResult()
    for order in known_working.values():
        tracked = tracker.track(order)
        tracked.venue_order_id = order.venue_order_id
        tracked.accepted = order.venue_order_id is not None or order.acked_at is not None
        tracked.executed = order.filled_quantity
        tracked.fill_ids |= set(order.fill_ids)
    rows = rest.call("get_open_orders", weight=80)  # all symbols at once
    open_ids: set[str] = set()
    for row in rows:
        update = update_from_rest_order(row)
        open_ids.add(update.client_order_id)
        if update.client_order_id in known_working:
            apply_rest(update)
            result.resumed.append(update.client_order_id)
        else:
            result.foreign.append(ForeignOrder(
                update.symbol, update.client_order_id, update.venue_order_id, str(row["side"]),
                Decimal(str(row["origQty"])), Decimal(str(row["price"]))))
    for cid, order in known_working.items():
        if cid in open_ids:
            continue
        try:
            row = rest.call("get_order", symbol=order.symbol, origClientOrderId=cid)
        except VenueError as exc:
            if exc.code == CODE_ORDER_NOT_FOUND and defer(order):
                result.unresolved.append(cid)
            elif exc.code == CODE_ORDER_NOT_FOUND:
                tracker.finish(cid)
                emit(OrderRejected(
                    cid, CODE_ORDER_NOT_FOUND, "Order does not exist at Binance (never placed)",
                    now()))
                result.not_found.append(cid)
            else:
                log.warning("reconcile: %s unresolved: %s", cid, exc)
                result.unresolved.append(cid)
            continue
        update = update_from_rest_order(row)
        apply_rest(update)
        result.resolved[cid] = report_from_update(update)
    for foreign in result.foreign:
        log.warning("reconcile: open order not placed by the OMS left untouched: %s %s %s",
                    foreign.symbol, foreign.client_order_id, foreign.side)
    log.info("reconcile: %s", result.summary())
    return result
