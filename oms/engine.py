"""ExecutionEngine: the single writer of OMS state.

One ``tick()``: advance the market, drain commands, apply venue events, run the algorithms,
check every new child against pre-trade risk, commit the new children, send them, end finished
parents, write the journal and publish an immutable snapshot. The runtime calls ``tick`` from one
APScheduler job; backtests call it in a plain loop on a TestClock.
"""

from __future__ import annotations

import logging
import queue
from collections import deque
from concurrent.futures import Future
from datetime import datetime
from decimal import Decimal
from typing import Any

from oms.algos.base import AlgoContext, CancelIntent, ChildIntent, ExecutionAlgo, Intent
from oms.algos.registry import create_algo
from oms.clock import Clock
from oms.commands import Command
from oms.config import Settings
from oms.engine_commands import CommandHandler
from oms.engine_reports import ReportBuilder
from oms.engine_risk import RiskGuard
from oms.engine_signals import SignalDesk
from oms.errors import (
    MarketClosed,
    OmsError,
    OrderStatusUnknown,
    PersistenceError,
    TradingHalted,
    VenueError,
    VenueUnavailable,
)
from oms.journal import Journal
from oms.market.base import MarketData
from oms.market.types import Quote
from oms.model import (
    Account,
    ChildOrder,
    ChildState,
    Fill,
    IdGenerator,
    ParentOrder,
    ParentState,
)
from oms.persistence.repository import Repository
from oms.recovery import recover
from oms.risk.halt import HaltGate
from oms.snapshot import EngineSnapshot, ParentView, parent_view
from oms.snapshot_builder import build_snapshot
from oms.venues.base import Venue
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)

__all__ = ["ExecutionEngine"]

log = logging.getLogger(__name__)


class ExecutionEngine:
    """Owns parents, children, algorithms and the account; only ``tick`` mutates them."""

    def __init__(self, *, settings: Settings, clock: Clock, market: MarketData, venue: Venue,
                 repository: Repository, gate: HaltGate, ids: IdGenerator | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.market = market
        self.venue = venue
        self.repository = repository
        self.gate = gate
        self.ids = ids or IdGenerator()
        self.journal = Journal(repository)
        self.account = Account(cash=settings.starting_balance)
        self.parents: dict[str, ParentOrder] = {}  # not yet ended
        self.algos: dict[str, ExecutionAlgo] = {}
        self.open_children: dict[str, ChildOrder] = {}  # may still fill
        self.working: dict[str, dict[str, ChildOrder]] = {}  # parent_id -> open children
        self.child_ref_mid: dict[str, Decimal] = {}  # mid when each open child was created
        self.session_parents: dict[str, set[str]] = {}
        self.targets: dict[str, Decimal] = {}
        self.recent_fills: deque[Fill] = deque(maxlen=100)
        self.finished: deque[ParentView] = deque(maxlen=100)
        self.quotes: dict[str, Quote] = {}
        self.deferred: list[tuple[ParentOrder, Intent]] = []
        self.tick_count = 0
        self.last_error: str | None = None
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.risk = RiskGuard(self)
        self.handler = CommandHandler(self)
        self.reports = ReportBuilder(self)
        self.signals = SignalDesk(self)
        self._snapshot: EngineSnapshot | None = None
        self._started = False

    # -- thread-safe entry points -------------------------------------------------------

    def enqueue(self, command: Command) -> Future[Any]:
        """Queue a command for the next tick; its ``reply`` future carries the answer."""
        self._commands.put(command)
        return command.reply

    @property
    def snapshot(self) -> EngineSnapshot:
        """The latest published snapshot (an immutable object; reading it is thread-safe)."""
        snapshot = self._snapshot
        return snapshot if snapshot is not None else build_snapshot(self, self.clock.now())

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Recover state from the database (positions, halt, orders left by a previous run)."""
        if self._started:
            return
        self._started = True
        recover(self)
        self.market.advance_to(self.clock.now())
        self._refresh_quotes()
        self._snapshot = build_snapshot(self, self.clock.now())

    def tick(self, *, publish: bool = True, at: datetime | None = None) -> EngineSnapshot:
        """Run one engine step at ``at`` (default: the clock's now) and publish its snapshot
        (sub-steps and backtests may skip publishing; the previous snapshot is returned then)."""
        if not self._started:
            self.start()
        now = at or self.clock.now()
        try:
            self.market.advance_to(now)
            self._refresh_quotes()
            self.risk.on_tick(now)
            self._drain_commands(now)
            self.signals.on_tick(now)
            self._apply_events(self.venue.poll(now), now)
            intents = self._run_algos(now)
            self.dispatch(intents, now)
            self._end_finished_parents(now)
            self.journal.flush()
            if self.reports.pending:
                self.reports.build_pending()
                self.journal.flush()
            self.last_error = None
        except OmsError as exc:  # keep running; the snapshot shows the error
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("engine tick failed")
        self.tick_count += 1
        if publish or self._snapshot is None:
            self._snapshot = build_snapshot(self, now)
        return self._snapshot

    # -- steps --------------------------------------------------------------------------

    def _refresh_quotes(self) -> None:
        for symbol in self.market.symbols:
            try:
                self.quotes[symbol] = self.market.quote(symbol)
            except MarketClosed:
                self.quotes.pop(symbol, None)

    def mid(self, symbol: str) -> Decimal | None:
        """Mid price of ``symbol`` this tick, or None when its market is closed."""
        quote = self.quotes.get(symbol)
        return quote.mid if quote else None

    def _drain_commands(self, now: datetime) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            self.handler.handle(command, now)

    def context(self, parent: ParentOrder, now: datetime) -> AlgoContext:
        """The AlgoContext of ``parent`` at ``now``."""
        return AlgoContext(
            now=now, parent=parent, quote=self.quotes.get(parent.symbol),
            filters=self.venue.filters(parent.symbol), market=self.market,
            working_children=list(self.working.get(parent.parent_id, {}).values()),
            trading_allowed=self.risk.allows_new_orders(parent),
        )

    def start_parent(self, parent: ParentOrder, now: datetime, seed: int) -> None:
        """Create the parent's algorithm and start it (called by the command handler)."""
        self.parents[parent.parent_id] = parent
        self.working[parent.parent_id] = {}
        self.session_parents.setdefault(parent.session_id, set()).add(parent.parent_id)
        self.journal.parent_created(parent)
        self.journal.audit(now, "ParentOrderCreated", parent.parent_id, {
            "symbol": parent.symbol, "side": parent.side.value, "quantity": parent.quantity,
            "algo": parent.algo.value, "reason": parent.algo_reason})
        algo = create_algo(parent, seed=seed, filters=self.venue.filters(parent.symbol),
                           **parent.algo_params)
        self.algos[parent.parent_id] = algo
        parent.arrival_price = self.mid(parent.symbol)
        parent.transition(ParentState.WORKING, now)
        self.journal.audit(now, "ParentOrderStarted", parent.parent_id,
                           {"arrival_price": parent.arrival_price})
        for intent in algo.on_start(self.context(parent, now)):
            self.deferred.append((parent, intent))

    def _run_algos(self, now: datetime) -> list[tuple[ParentOrder, Intent]]:
        intents, self.deferred = self.deferred, []
        for parent_id, algo in self.algos.items():
            parent = self.parents[parent_id]
            if parent.state is not ParentState.WORKING:
                continue
            ctx = self.context(parent, now)
            for intent in algo.on_market_data(ctx) + algo.on_timer(ctx):
                intents.append((parent, intent))
        return intents

    def dispatch(self, intents: list[tuple[ParentOrder, Intent]], now: datetime) -> None:
        """Risk-check new children, commit them, then send them; apply cancel intents."""
        to_send: list[ChildOrder] = []
        for parent, intent in intents:
            if isinstance(intent, CancelIntent):
                self.request_cancel(intent.client_order_id, now, intent.reason or "algo")
                continue
            if parent.state is not ParentState.WORKING:
                continue  # asked for before its parent ended (e.g. a kill in this tick)
            child = self._new_child(parent, intent, now)
            violation = self.risk.check(child, now)
            if violation is not None:
                self._close_child(child, ChildState.REJECTED, now, str(violation), denied=True)
                continue
            to_send.append(child)
        if not to_send:
            return
        try:
            self.journal.flush()  # client order ids are committed before anything is sent
        except PersistenceError as exc:
            self._abandon(to_send, now, f"not sent: {exc}")
            raise
        for child in to_send:
            self._send(child, now)

    def _abandon(self, children: list[ChildOrder], now: datetime, reason: str) -> None:
        """Children whose rows could not be committed never leave the process: they vanish
        from the journal and the books, and their algorithms hear a rejection (and retry)."""
        for child in children:
            self.journal.discard_child(child.client_order_id)
            self._forget(child)
            parent = self.parents.get(child.parent_id)
            if parent is None:
                continue
            parent.child_ids.remove(child.client_order_id)
            child.transition(ChildState.REJECTED, now, reason)
            algo = self.algos.get(parent.parent_id)
            if algo is not None:
                follow = algo.on_reject(self.context(parent, now), child, reason)
                self.deferred.extend((parent, intent) for intent in follow)

    def _new_child(self, parent: ParentOrder, intent: ChildIntent, now: datetime) -> ChildOrder:
        child = ChildOrder(
            client_order_id=self.ids.next("dm"), parent_id=parent.parent_id,
            symbol=parent.symbol, side=parent.side, quantity=intent.quantity,
            order_type=intent.order_type, created_at=now, venue=self.venue.name,
            limit_price=intent.limit_price, time_in_force=intent.time_in_force, updated_at=now)
        parent.child_ids.append(child.client_order_id)
        self.open_children[child.client_order_id] = child
        self.working[parent.parent_id][child.client_order_id] = child
        mid = self.mid(parent.symbol)
        if mid is not None:
            self.child_ref_mid[child.client_order_id] = mid
        self.journal.child_created(child, intent.tag)
        self.journal.audit(now, "OrderCreated", child.client_order_id, {
            "parent_id": parent.parent_id, "quantity": child.quantity,
            "type": child.order_type.value, "limit_price": child.limit_price, "tag": intent.tag})
        return child

    def _send(self, child: ChildOrder, now: datetime) -> None:
        try:
            self.venue.submit(child, now)
        except TradingHalted as exc:
            self._close_child(child, ChildState.REJECTED, now, f"HALTED: {exc}", denied=True)
            return
        except OrderStatusUnknown as exc:
            child.reason = f"status unknown, reconciling: {exc}"
            self.journal.child_changed(child)
            return
        except VenueError as exc:
            self.risk.on_order_result(rejected=not isinstance(exc, VenueUnavailable), now=now)
            self._close_child(child, ChildState.REJECTED, now, str(exc))
            return
        child.sent_at = now  # on the row; the audit trail records state changes
        self.risk.record_sent(child, now)
        self.journal.child_changed(child)

    def request_cancel(self, client_order_id: str, now: datetime, reason: str) -> None:
        """Ask the venue to cancel an open child (PENDING_CANCEL until confirmed)."""
        child = self.open_children.get(client_order_id)
        if child is None or child.state is ChildState.PENDING_CANCEL:
            return
        if child.sent_at is None:  # never left the process
            self._close_child(child, ChildState.CANCELED, now, reason)
            return
        child.transition(ChildState.PENDING_CANCEL, now)
        self.journal.child_changed(child)
        self.journal.audit(now, "OrderCancelRequested", client_order_id, {"reason": reason})
        try:
            self.venue.cancel(client_order_id, now)
        except VenueError as exc:
            self.journal.audit(now, "OrderCancelFailed", client_order_id, {"error": str(exc)})

    def _apply_events(self, events: list[VenueEvent], now: datetime) -> None:
        for event in events:
            child = self.open_children.get(event.client_order_id)
            if child is None:
                self.journal.audit(now, "UnknownOrderEvent", event.client_order_id,
                                   {"event": type(event).__name__})
                continue
            try:
                self._apply_event(child, event, now)
            except OmsError as exc:  # an impossible event changes nothing and is recorded
                self.journal.audit(now, "EventRefused", child.client_order_id,
                                   {"event": type(event).__name__, "error": str(exc)})

    def _apply_event(self, child: ChildOrder, event: VenueEvent, now: datetime) -> None:
        if isinstance(event, OrderFilled):
            self._apply_fill(child, event.fill, now)
        elif isinstance(event, OrderAccepted):
            child.venue_order_id = event.venue_order_id
            child.acked_at = event.ts
            if child.state is ChildState.PENDING_NEW:
                child.transition(ChildState.NEW, event.ts)
            self.journal.child_changed(child)
            self.journal.audit(event.ts, "OrderAccepted", child.client_order_id,
                               {"venue_order_id": event.venue_order_id})
            self.risk.on_order_result(rejected=False, now=now)
            if child.sent_at is not None:
                # round trip ~ twice the one-way time to the venue's own timestamp: independent
                # of how often the engine polls (ticks of 1 s or 1 min in backtests)
                one_way = (event.ts - child.sent_at).total_seconds() * 1000
                self.risk.on_latency(max(one_way, 0.0) * 2, now)
        elif isinstance(event, OrderRejected):
            self.risk.on_order_result(rejected=True, now=now)
            self._close_child(child, ChildState.REJECTED, event.ts, f"{event.code} {event.reason}")
        elif isinstance(event, OrderCanceled):
            self._close_child(child, ChildState.CANCELED, event.ts, event.reason or "canceled")
        elif isinstance(event, OrderExpired):
            self._close_child(child, ChildState.EXPIRED, event.ts, event.reason or "expired")

    def _apply_fill(self, child: ChildOrder, fill: Fill, now: datetime) -> None:
        if not child.apply_fill(fill):
            return  # a fill seen twice is applied once
        parent = self._parent(child.parent_id)
        if parent is not None:
            parent.record_fill(fill)
            self.journal.parent_changed(parent)
        self.account.apply_fill(fill)
        self.signals.on_fill(child.parent_id, fill.quantity, fill.ts)
        self.recent_fills.append(fill)
        self.journal.fill(fill)
        self.journal.child_changed(child)
        self.journal.audit(fill.ts, "OrderFilled", child.client_order_id, {
            "fill_id": fill.fill_id, "price": fill.price, "quantity": fill.quantity,
            "fee": fill.fee, "liquidity": fill.liquidity.value, "state": child.state.value})
        self.risk.on_fill(child, fill, self.child_ref_mid.get(child.client_order_id), now)
        if child.state.is_terminal:
            self._forget(child)
        algo = self.algos.get(child.parent_id)
        if algo is not None and parent is not None and parent.state is ParentState.WORKING:
            for intent in algo.on_fill(self.context(parent, now), child, fill):
                self.deferred.append((parent, intent))

    def _close_child(self, child: ChildOrder, state: ChildState, ts: datetime, reason: str,
                     *, denied: bool = False) -> None:
        child.transition(state, ts, reason)
        self.journal.child_changed(child)
        event = {ChildState.REJECTED: "OrderDenied" if denied else "OrderRejected",
                 ChildState.CANCELED: "OrderCanceled", ChildState.EXPIRED: "OrderExpired"}[state]
        self.journal.audit(ts, event, child.client_order_id, {"reason": reason})
        if denied and not reason.startswith("HALTED"):
            self.journal.risk_event(ts, "VIOLATION", reason.split(":", 1)[0], reason,
                                    symbol=child.symbol, entity_id=child.client_order_id)
        self._forget(child)
        parent = self._parent(child.parent_id)
        algo = self.algos.get(child.parent_id)
        if algo is None or parent is None or parent.state is not ParentState.WORKING:
            return
        ctx = self.context(parent, ts)
        follow = algo.on_reject(ctx, child, reason) if state is ChildState.REJECTED \
            else algo.on_cancel(ctx, child)
        self.deferred.extend((parent, intent) for intent in follow)

    def _forget(self, child: ChildOrder) -> None:
        self.open_children.pop(child.client_order_id, None)
        self.child_ref_mid.pop(child.client_order_id, None)
        self.working.get(child.parent_id, {}).pop(child.client_order_id, None)

    def _parent(self, parent_id: str) -> ParentOrder | None:
        return self.parents.get(parent_id)

    def _end_finished_parents(self, now: datetime) -> None:
        for parent_id in list(self.parents):
            parent = self.parents[parent_id]
            working = self.working.get(parent_id, {})
            if parent.state.is_terminal:
                if not working:
                    self._retire(parent, now)
                continue
            algo = self.algos[parent_id]
            filled = parent.filled_quantity >= parent.quantity
            if not filled and not algo.is_finished(self.context(parent, now)):
                continue
            if working:
                for cid in list(working):
                    self.request_cancel(cid, now, "parent finished")
                continue
            if filled:
                self.end_parent(parent, ParentState.COMPLETED, now, "filled")
            else:
                why = algo.stop_reason or "window ended"
                self.end_parent(parent, ParentState.CANCELED, now,
                                f"{why}; unfilled {parent.remaining} {parent.symbol}")

    def end_parent(self, parent: ParentOrder, state: ParentState, now: datetime,
                   reason: str) -> None:
        """Move a parent to a terminal state and record why."""
        parent.end_price = self.mid(parent.symbol)
        parent.transition(state, now, reason)
        self.signals.on_parent_ended(parent.parent_id)
        self.journal.parent_changed(parent)
        self.journal.audit(now, f"Parent{state.value.title()}", parent.parent_id, {
            "reason": reason, "filled": parent.filled_quantity, "quantity": parent.quantity})

    def _retire(self, parent: ParentOrder, now: datetime) -> None:
        del self.parents[parent.parent_id]
        self.algos.pop(parent.parent_id, None)
        self.working.pop(parent.parent_id, None)
        self.finished.append(parent_view(parent, now, 0, None))
        members = self.session_parents.get(parent.session_id)
        if members is not None:
            members.discard(parent.parent_id)
            if not members:
                del self.session_parents[parent.session_id]
                self.handler.session_finished(parent.session_id, now)
