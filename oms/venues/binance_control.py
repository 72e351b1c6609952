"""OrderControl: the Binance venue's hold on orders Binance has not settled yet.

- A send of unknown outcome stays live (it may exist) and is queried by client order id with
  back-off until Binance shows it, or until the AbsenceRule proves it never placed.
- A cancel is retried until Binance shows the order closed; the kill switch's cancel-all per
  symbol is verified with openOrders and what is left is canceled one by one.

The venue gives it its parts (tracker, REST gateway, and callables that query one order, apply a
REST view and queue an event): this module never imports the venue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from oms.errors import VenueError
from oms.model.orders import ChildOrder
from oms.venues.binance_errors import CODE_ORDER_NOT_FOUND, is_not_open
from oms.venues.binance_orders import OrderTracker, OrderUpdate, update_from_rest_order
from oms.venues.binance_pending import AbsenceRule, Retry, RetryBook
from oms.venues.binance_rest import RestGateway
from oms.venues.events import OrderRejected, VenueEvent

__all__ = ["OrderControl"]

log = logging.getLogger(__name__)

Query = Callable[[str], OrderUpdate | None]
Apply = Callable[[OrderUpdate, float | None], None]  # a REST view; the epoch a report is owed


class OrderControl:
    """Unknown sends and unconfirmed cancels, each retried with back-off until settled."""

    def __init__(self, *, tracker: OrderTracker, rest: RestGateway, absence: AbsenceRule,
                 query: Query, apply: Apply, emit: Callable[[VenueEvent], None],
                 now: Callable[[], datetime], symbol_of: Callable[[str], str | None]) -> None:
        self.tracker = tracker
        self.rest = rest
        self.absence = absence
        self._query = query
        self._apply = apply
        self._emit = emit
        self._now = now
        self._symbol_of = symbol_of  # symbol of an order this process did not send
        self.unknown = RetryBook()  # sends whose outcome is unknown
        self.cancels = RetryBook()  # cancels not yet confirmed

    def _epoch(self) -> float:
        return self._now().timestamp()

    # -- unknown outcomes -----------------------------------------------------------------------

    def send_unknown(self, cid: str, sent_epoch: float) -> None:
        """A send of ``cid`` ended without an answer: it may exist. Query it once at once."""
        self.unknown.add(cid, sent_epoch)
        self.resolve(cid)

    def known(self, cid: str) -> None:
        """Binance reported the order (REST or stream): its outcome is known."""
        self.unknown.done(cid)

    def defer_unseen(self, order: ChildOrder) -> bool:
        """An order Binance did not show at start-up: still resolvable if sent recently (a
        send just before the crash may not be visible yet); False when old enough to be
        declared never placed at once."""
        sent = (order.sent_at or order.created_at).timestamp()
        epoch = self._epoch()
        if epoch - sent >= self.absence.after_s:
            return False
        self.unknown.add(order.client_order_id, sent, first_try_at=epoch).misses = 1
        return True

    def resolve(self, cid: str) -> None:
        """Query an order of unknown outcome; settle it when Binance knows it, or when it is
        provably absent (AbsenceRule); else try again later."""
        retry = self.unknown.get(cid)
        tracked = self.tracker.orders.get(cid)
        if retry is None or tracked is None or tracked.done:
            self.unknown.done(cid)
            return
        epoch = self._epoch()
        try:
            found = self._query(cid)
        except VenueError as exc:
            retry.failed(epoch, str(exc))
            return
        if found is not None:
            self.unknown.done(cid)
            self._apply(found, None)
            return
        retry.misses += 1
        if not self.absence.absent(retry, epoch):
            retry.failed(epoch, "not visible at Binance yet")
            return
        self.unknown.done(cid)
        self.cancels.done(cid)
        self.tracker.finish(cid)
        waited = epoch - retry.since
        log.warning("order %s: not at Binance %d queries and %.0f s after its send; taken as "
                    "never placed", cid, retry.misses, waited)
        self._emit(OrderRejected(cid, CODE_ORDER_NOT_FOUND, "never placed: Binance did not have "
                                 f"the order {waited:.0f} s after its send ({retry.misses} "
                                 "queries)", self._now()))

    # -- cancels ----------------------------------------------------------------------------

    def cancel(self, cid: str) -> None:
        """Cancel ``cid`` until Binance confirms it closed (never raises for a failure)."""
        self.cancels.add(cid, self._epoch())
        self._try_cancel(cid)

    def _try_cancel(self, cid: str) -> None:
        retry = self.cancels.get(cid)
        tracked = self.tracker.orders.get(cid)
        if retry is None:
            return
        symbol = tracked.order.symbol if tracked is not None else self._symbol_of(cid)
        if (tracked is not None and tracked.done) or symbol is None:
            self.cancels.done(cid)  # closed, or forgotten since (a finished order pruned)
            return
        epoch = self._epoch()
        try:
            response = self.rest.call("cancel_order", priority=True, symbol=symbol,
                                      origClientOrderId=cid)
        except VenueError as exc:
            if is_not_open(exc):
                self._learn_end(cid, retry, epoch)
                return
            retry.failed(epoch, str(exc))
            log.warning("cancel %s failed (attempt %d, again in %.1f s): %s", cid,
                        retry.attempts, retry.next_at - epoch, exc)
            return
        self._apply(update_from_rest_order(response), epoch)
        self._settle(cid, retry, epoch)

    def _learn_end(self, cid: str, retry: Retry, epoch: float) -> None:
        """A cancel found the order not open: learn how it ended, or, if Binance does not show
        it (yet), keep the cancel pending: an order of unknown outcome may still appear."""
        if cid in self.unknown:
            self.resolve(cid)  # a miss counts towards proving it absent
        else:
            try:
                found = self._query(cid)
            except VenueError as exc:
                retry.failed(epoch, str(exc))
                return
            if found is not None:
                self._apply(found, None)
        self._settle(cid, retry, epoch)

    def _settle(self, cid: str, retry: Retry, epoch: float) -> None:
        tracked = self.tracker.orders.get(cid)
        if tracked is None or tracked.done:
            self.cancels.done(cid)
        else:
            retry.failed(epoch, "not confirmed closed yet")

    def cancel_all(self, symbols: list[str]) -> list[str]:
        """The kill switch's cancel: cancel-all per symbol, verified with openOrders; what is
        not confirmed closed stays pending and is retried one by one. The ids asked."""
        asked: list[str] = []
        epoch = self._epoch()
        for sym in symbols:
            ids = self.tracker.working_ids(sym)
            asked.extend(ids)
            for cid in ids:
                self.cancels.add(cid, epoch, first_try_at=epoch + 1.0)
            try:
                rows = self.rest.call("cancel_all_open_orders", priority=True, symbol=sym)
            except VenueError as exc:
                if not is_not_open(exc):  # -2011 "Unknown order sent.": nothing was open
                    log.error("cancel-all %s: %s; canceling order by order", sym, exc)
                rows = []
            for row in rows or []:
                if "orderId" in row and "status" in row:
                    self._apply(update_from_rest_order(row), epoch)
            try:
                self._verify_closed(sym)
            except VenueError as exc:
                log.warning("cancel-all %s not verified yet: %s", sym, exc)
        for cid in self.cancels.ids():
            tracked = self.tracker.orders.get(cid)
            if tracked is None or tracked.done:
                self.cancels.done(cid)
        return asked

    def _verify_closed(self, symbol: str) -> None:
        """openOrders after a cancel-all: what is still open is canceled one by one."""
        still = {update_from_rest_order(r).client_order_id
                 for r in self.rest.call("get_open_orders", priority=True, symbol=symbol)}
        epoch = self._epoch()
        for cid in self.tracker.working_ids(symbol):
            retry = self.cancels.add(cid, epoch)
            if cid in still or cid in self.unknown:
                retry.next_at = epoch  # in the next poll
            else:
                self._learn_end(cid, retry, epoch)

    # -- the venue's poll -----------------------------------------------------------------------

    def retry_due(self, epoch: float) -> None:
        """Cancels first (they may use the whole rate limit), then unknown sends."""
        for cid in self.cancels.due(epoch):
            self._try_cancel(cid)
        for cid in self.unknown.due(epoch):
            self.resolve(cid)
