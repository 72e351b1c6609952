"""OrderLifecycle: every state change of parents and children, applied in the engine tick.

Starting a parent, creating a child, asking for a cancel, applying a venue event (accept, fill,
reject, cancel, expiry), closing a child, ending and retiring parents, and the halt. Each change
goes to the journal (rows and audit trail) and to the parent's algorithm, whose follow-up intents
are deferred to the next dispatch. The order state itself lives in the OrderBook.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from oms.algos.base import AlgoContext, ChildIntent, ExecutionAlgo, Intent
from oms.engine.book import OrderBook
from oms.engine.counters import ExecutionCounters
from oms.engine.quotes import QuoteBoard
from oms.errors import OmsError, VenueError
from oms.journal import Journal
from oms.market.base import MarketData
from oms.model import Account, ChildOrder, ChildState, Fill, IdGenerator, ParentOrder, ParentState
from oms.model.rejection import Rejection, RejectionSource
from oms.venues.base import Venue
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)

__all__ = ["OrderLifecycle", "RiskFeed"]


class RiskFeed(Protocol):
    """What the lifecycle tells risk, and asks of it."""

    def allows_new_orders(self, parent: ParentOrder) -> bool: ...
    def on_order_result(self, *, rejected: bool, now: datetime) -> None: ...
    def on_latency(self, ms: float, now: datetime) -> None: ...
    def on_child_done(self, child: ChildOrder, ref_mid: Decimal | None, now: datetime) -> None: ...
    def release(self, child: ChildOrder) -> None: ...


FillListener = Callable[[str, Decimal, datetime], None]
ParentEndListener = Callable[[str], None]

CANCEL_RETRY_FIRST_S = 0.5  # a cancel the venue could not take: again after 0.5, 1, 2 ... s
CANCEL_RETRY_CAP_S = 30.0

_CLOSE_EVENTS = {ChildState.CANCELED: "OrderCanceled", ChildState.EXPIRED: "OrderExpired"}


class OrderLifecycle:
    """Applies order state changes to the book and records them."""

    def __init__(self, *, book: OrderBook, journal: Journal, venue: Venue, quotes: QuoteBoard,
                 market: MarketData, account: Account, ids: IdGenerator) -> None:
        self.book = book
        self.journal = journal
        self.venue = venue
        self.quotes = quotes
        self.market = market
        self.account = account
        self.ids = ids
        self.risk: RiskFeed | None = None  # wired by the core
        self.fill_listeners: list[FillListener] = []
        self.fill_taps: list[Callable[[Fill], None]] = []  # every fill, whole (routing)
        self.parent_end_listeners: list[ParentEndListener] = []
        self.counters = ExecutionCounters()  # sent / filled / rejected, for /metrics
        # cancels the venue refused to take (outage, ban): cid -> (attempts, next try)
        self._cancel_retries: dict[str, tuple[int, datetime]] = {}

    def _risk(self) -> RiskFeed:
        assert self.risk is not None, "the core wires risk before the first tick"
        return self.risk

    # -- algorithms -------------------------------------------------------------------------

    def context(self, parent: ParentOrder, now: datetime) -> AlgoContext:
        """The AlgoContext of ``parent`` at ``now``."""
        return AlgoContext(
            now=now, parent=parent, quote=self.quotes.quote(parent.symbol),
            filters=self.venue.filters(parent.symbol), market=self.market,
            working_children=self.book.working_children(parent.parent_id),
            trading_allowed=self._risk().allows_new_orders(parent))

    def start_parent(self, parent: ParentOrder, algo: ExecutionAlgo, now: datetime) -> None:
        """Record a new parent, start its algorithm and defer its first intents."""
        self.book.add_parent(parent, algo)
        self.journal.parent_created(parent)
        self.journal.audit(now, "ParentOrderCreated", parent.parent_id, {
            "symbol": parent.symbol, "side": parent.side.value, "quantity": parent.quantity,
            "algo": parent.algo.value, "reason": parent.algo_reason})
        parent.arrival_price = self.quotes.mid(parent.symbol)
        parent.transition(ParentState.WORKING, now)
        self.journal.audit(now, "ParentOrderStarted", parent.parent_id,
                           {"arrival_price": parent.arrival_price})
        self.book.defer(parent, algo.on_start(self.context(parent, now)))

    def _follow_up(self, parent: ParentOrder | None, now: datetime,
                   call: Callable[[ExecutionAlgo, AlgoContext], list[Intent]]) -> None:
        if parent is None or parent.state is not ParentState.WORKING:
            return
        algo = self.book.algo(parent.parent_id)
        if algo is not None:
            self.book.defer(parent, call(algo, self.context(parent, now)))

    # -- children ---------------------------------------------------------------------------

    def new_child(self, parent: ParentOrder, intent: ChildIntent, now: datetime, *,
                  venue: str | None = None) -> ChildOrder:
        """Create (and journal) the child an intent asks for; it is not sent yet. ``venue``:
        the venue of a set the router chose (default: the engine's one venue)."""
        child = ChildOrder(
            client_order_id=self.ids.next("dm"), parent_id=parent.parent_id,
            symbol=parent.symbol, side=parent.side, quantity=intent.quantity,
            order_type=intent.order_type, created_at=now, venue=venue or self.venue.name,
            limit_price=intent.limit_price, time_in_force=intent.time_in_force, updated_at=now,
            intent_id=intent.intent_id)
        self.book.add_child(child, self.quotes.mid(parent.symbol))
        self.journal.child_created(child, intent.tag)
        self.journal.audit(now, "OrderCreated", child.client_order_id, {
            "parent_id": parent.parent_id, "quantity": child.quantity,
            "type": child.order_type.value, "limit_price": child.limit_price, "tag": intent.tag})
        return child

    def abandon(self, children: list[ChildOrder], now: datetime, reason: str) -> None:
        """Children whose rows could not be committed never leave the process: they vanish
        from the journal and the book, and their algorithms hear a rejection (and retry)."""
        for child in children:
            self.journal.discard_child(child.client_order_id)
            self.book.discard_child(child)
            self._risk().release(child)
            child.transition(ChildState.REJECTED, now, reason)
            self._rejected(child, reason, now)

    def request_cancel(self, client_order_id: str, now: datetime, reason: str) -> None:
        """Ask the venue to cancel an open child (PENDING_CANCEL until confirmed)."""
        child = self.book.open_children.get(client_order_id)
        if child is None or child.state is ChildState.PENDING_CANCEL or child.state.is_terminal:
            return
        if child.sent_at is None and child.acked_at is None:  # never left the process
            self._risk().release(child)
            self.close_child(child, ChildState.CANCELED, now, reason)
            return
        self._mark_canceling(child, now, reason)
        self._send_cancel(client_order_id, now)

    def _mark_canceling(self, child: ChildOrder, now: datetime, reason: str) -> None:
        child.transition(ChildState.PENDING_CANCEL, now)
        self.journal.child_changed(child)
        self.journal.audit(now, "OrderCancelRequested", child.client_order_id, {"reason": reason})

    def _send_cancel(self, client_order_id: str, now: datetime) -> None:
        """Ask the venue; a cancel it could not take is retried with back-off (retry_cancels)
        until it is, so a child never sits in PENDING_CANCEL unasked."""
        try:
            self.venue.cancel(client_order_id, now)
        except VenueError as exc:
            attempts = self._cancel_retries.get(client_order_id, (0, now))[0] + 1
            wait = min(CANCEL_RETRY_CAP_S, CANCEL_RETRY_FIRST_S * 2 ** (attempts - 1))
            self._cancel_retries[client_order_id] = (attempts, now + timedelta(seconds=wait))
            self.journal.audit(now, "OrderCancelFailed", client_order_id,
                               {"error": str(exc), "attempt": attempts, "retry_in_s": wait})
        else:
            self._cancel_retries.pop(client_order_id, None)

    def retry_cancels(self, now: datetime) -> None:
        """Send again the cancels the venue could not take (engine tick)."""
        if not self._cancel_retries:
            return
        for cid, (_, due) in list(self._cancel_retries.items()):
            child = self.book.open_children.get(cid)
            if child is None or child.state is not ChildState.PENDING_CANCEL:
                del self._cancel_retries[cid]
            elif now >= due:
                self._send_cancel(cid, now)

    def reject(self, child: ChildOrder, rejection: Rejection, ts: datetime) -> None:
        """Close a child as REJECTED (denied by risk or the halt, or refused by the venue)."""
        text = str(rejection)
        child.transition(ChildState.REJECTED, ts, text)
        self.counters.rejected[rejection.code] += 1
        self.journal.child_changed(child)
        denied = rejection.source is not RejectionSource.VENUE
        self.journal.audit(ts, "OrderDenied" if denied else "OrderRejected",
                           child.client_order_id,
                           {"reason": text, "source": rejection.source.value,
                            "code": rejection.code})
        if rejection.source is RejectionSource.RISK:
            self.journal.risk_event(ts, "VIOLATION", rejection.code, text, symbol=child.symbol,
                                    entity_id=child.client_order_id)
        self._closed(child, ts)
        self._rejected(child, text, ts)

    def _rejected(self, child: ChildOrder, reason: str, now: datetime) -> None:
        self._follow_up(self.book.parent(child.parent_id), now,
                        lambda algo, ctx: algo.on_reject(ctx, child, reason))

    def close_child(self, child: ChildOrder, state: ChildState, ts: datetime,
                    reason: str) -> None:
        """Close a child as CANCELED or EXPIRED."""
        child.transition(state, ts, reason)
        self.journal.child_changed(child)
        self.journal.audit(ts, _CLOSE_EVENTS[state], child.client_order_id, {"reason": reason})
        self._closed(child, ts)
        self._follow_up(self.book.parent(child.parent_id), ts,
                        lambda algo, ctx: algo.on_cancel(ctx, child))

    def _closed(self, child: ChildOrder, ts: datetime) -> None:
        if child.filled_quantity > 0:
            self._risk().on_child_done(child, self.book.ref_mid(child.client_order_id), ts)
        self.book.close_child(child)

    # -- venue events -----------------------------------------------------------------------

    def apply_events(self, events: list[VenueEvent], now: datetime) -> None:
        """Apply the venue's events; an impossible event changes nothing and is recorded."""
        for event in events:
            child = self.book.open_children.get(event.client_order_id)
            if child is None:
                self.journal.audit(now, "UnknownOrderEvent", event.client_order_id,
                                   {"event": type(event).__name__})
                continue
            try:
                self._apply(child, event, now)
            except OmsError as exc:
                self.journal.audit(now, "EventRefused", child.client_order_id,
                                   {"event": type(event).__name__, "error": str(exc)})

    def _apply(self, child: ChildOrder, event: VenueEvent, now: datetime) -> None:
        if isinstance(event, OrderFilled):
            self._apply_fill(child, event.fill, now)
        elif isinstance(event, OrderAccepted):
            self._accepted(child, event, now)
        elif isinstance(event, OrderRejected):
            self._risk().on_order_result(rejected=True, now=now)
            self.reject(child, Rejection(RejectionSource.VENUE, str(event.code), event.reason),
                        event.ts)
        elif isinstance(event, OrderCanceled):
            self.close_child(child, ChildState.CANCELED, event.ts, event.reason or "canceled")
        elif isinstance(event, OrderExpired):
            self.close_child(child, ChildState.EXPIRED, event.ts, event.reason or "expired")

    def _accepted(self, child: ChildOrder, event: OrderAccepted, now: datetime) -> None:
        child.venue_order_id = event.venue_order_id
        child.acked_at = event.ts
        if child.sent_at is None:  # a send whose outcome was unknown: the venue has it
            child.sent_at = event.ts
        if child.state is ChildState.PENDING_NEW:
            child.transition(ChildState.NEW, event.ts)
        self.journal.child_changed(child)
        self.journal.audit(event.ts, "OrderAccepted", child.client_order_id,
                           {"venue_order_id": event.venue_order_id})
        risk = self._risk()
        risk.on_order_result(rejected=False, now=now)
        # round trip ~ twice the one-way time to the venue's own timestamp: independent of how
        # often the engine polls (ticks of 1 s or 1 min in backtests)
        one_way = (event.ts - child.sent_at).total_seconds() * 1000
        risk.on_latency(max(one_way, 0.0) * 2, now)
        self.counters.on_latency(max(one_way, 0.0) * 2)

    def _apply_fill(self, child: ChildOrder, fill: Fill, now: datetime) -> None:
        if not child.apply_fill(fill):
            return  # a fill seen twice is applied once
        parent = self.book.parent(child.parent_id)
        if parent is not None:
            parent.record_fill(fill)
            self.journal.parent_changed(parent)
        self.account.apply_fill(fill)
        for listener in self.fill_listeners:
            listener(child.parent_id, fill.quantity, fill.ts)
        for tap in self.fill_taps:
            tap(fill)
        self.book.record_fill(fill)
        self.journal.fill(fill)
        self.journal.child_changed(child)
        payload = {"fill_id": fill.fill_id, "price": fill.price, "quantity": fill.quantity,
                   "fee": fill.fee, "liquidity": fill.liquidity.value,
                   "state": child.state.value}
        if fill.fee_asset is not None:  # paid in another asset than the quote (Binance: BNB)
            payload |= {"fee_asset": fill.fee_asset, "fee_quantity": fill.fee_quantity,
                        "fee_price": fill.fee_price, "fee_valued": fill.fee_valued}
        self.journal.audit(fill.ts, "OrderFilled", child.client_order_id, payload)
        self.counters.fills += 1
        if child.state is ChildState.FILLED:
            self.counters.filled += 1
        if child.state.is_terminal:
            self._closed(child, now)
        self._follow_up(parent, now, lambda algo, ctx: algo.on_fill(ctx, child, fill))

    # -- parents ----------------------------------------------------------------------------

    def end_parent(self, parent: ParentOrder, state: ParentState, now: datetime,
                   reason: str) -> None:
        """Move a parent to a terminal state and record why."""
        parent.end_price = self.quotes.mid(parent.symbol)
        parent.transition(state, now, reason)
        for listener in self.parent_end_listeners:
            listener(parent.parent_id)
        self.journal.parent_changed(parent)
        self.journal.audit(now, f"Parent{state.value.title()}", parent.parent_id, {
            "reason": reason, "filled": parent.filled_quantity, "quantity": parent.quantity})

    def cancel_parent(self, parent: ParentOrder, now: datetime, reason: str,
                      state: ParentState = ParentState.CANCELED) -> None:
        """Cancel every open child of ``parent`` and end it."""
        for child in self.book.working_children(parent.parent_id):
            self.request_cancel(child.client_order_id, now, reason)
        if not parent.state.is_terminal:
            self.end_parent(parent, state, now, reason)

    def end_finished_parents(self, now: datetime) -> list[str]:
        """End the parents that filled or whose algorithm finished, retire the ended ones
        whose children are all closed; returns the sessions that have no parent left."""
        ended_sessions: list[str] = []
        for parent in list(self.book.parents.values()):
            working = self.book.working_count(parent.parent_id)
            if parent.state.is_terminal:
                if not working and self.book.retire(parent, now):
                    ended_sessions.append(parent.session_id)
                continue
            algo = self.book.algo(parent.parent_id)
            filled = parent.filled_quantity >= parent.quantity
            if not filled and algo is not None and (
                    (algo.wake_at is not None and now < algo.wake_at)  # asleep: not finished
                    or not algo.is_finished(self.context(parent, now))):
                continue
            if working:
                for child in self.book.working_children(parent.parent_id):
                    self.request_cancel(child.client_order_id, now, "parent finished")
                continue
            if filled:
                self.end_parent(parent, ParentState.COMPLETED, now, "filled")
            else:
                why = (algo.stop_reason if algo is not None else None) or "window ended"
                self.end_parent(parent, ParentState.CANCELED, now,
                                f"{why}; unfilled {parent.remaining} {parent.symbol}")
        return ended_sessions

    def halt_orders(self, reason: str, now: datetime) -> int:
        """Cancel every open child at the venue and halt every working parent; returns the
        number of cancels requested (terminal and already-canceling children are left alone)."""
        canceled = 0
        at_venue: list[str] = []
        for child in list(self.book.open_children.values()):
            if child.state is ChildState.PENDING_CANCEL or child.state.is_terminal:
                continue
            canceled += 1
            if child.sent_at is None and child.acked_at is None:  # never left the process
                self.request_cancel(child.client_order_id, now, f"halt: {reason}")
                continue
            self._mark_canceling(child, now, f"halt: {reason}")
            at_venue.append(child.client_order_id)
        if at_venue:
            # one cancel-all per symbol where the venue has one; each order not covered by it
            # (or all of them, if it failed) is canceled on its own
            asked: set[str] = set()
            try:
                asked = set(self.venue.cancel_all(now))
            except VenueError as exc:
                self.journal.audit(now, "CancelAllFailed", "account", {"error": str(exc)})
            for cid in at_venue:
                if cid not in asked:
                    self._send_cancel(cid, now)
        for parent in list(self.book.parents.values()):
            if not parent.state.is_terminal:
                self.end_parent(parent, ParentState.HALTED, now, f"halted: {reason}")
        return canceled
