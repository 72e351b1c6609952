"""Dispatch: the tick's intents through pre-trade risk, committed, then sent.

Cancel intents are applied at once. With several venues (``oms.engine.routing``) each new intent is
routed first: it becomes one child per venue piece, each with its ``ChildRouted`` audit row, or a
child refused with the router's reason when no venue may take it. Each new child is checked (risk
moves its rate and duplicate counters as it approves, so a batch can never pass a limit that the
children checked one by one would not), the approved children's rows are committed BEFORE anything
is sent (client order ids exist in the database before any venue can know them), then each is sent
through the venue, whose base ``submit`` checks the halt gate immediately before the wire.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from oms.algos.base import CancelIntent, ChildIntent
from oms.engine.book import Pending
from oms.engine.lifecycle import OrderLifecycle
from oms.engine.routing import VenueRouting, decision_payload
from oms.errors import (
    OrderStatusUnknown,
    PersistenceError,
    TradingHalted,
    VenueError,
    VenueUnavailable,
)
from oms.journal import Journal
from oms.model import ChildOrder, ParentOrder, ParentState
from oms.model.rejection import Rejection, RejectionSource
from oms.venues.base import Venue

__all__ = ["Dispatcher", "PreTradeGate"]


class PreTradeGate(Protocol):
    """The risk side of dispatch."""

    def begin_batch(self) -> None: ...
    def check(self, child: ChildOrder, now: datetime) -> Rejection | None: ...
    def release(self, child: ChildOrder) -> None: ...
    def on_order_result(self, *, rejected: bool, now: datetime) -> None: ...


class Dispatcher:
    """Turns intents into children at the venue (engine thread only)."""

    def __init__(self, *, lifecycle: OrderLifecycle, journal: Journal, venue: Venue) -> None:
        self.lifecycle = lifecycle
        self.journal = journal
        self.venue = venue
        self.risk: PreTradeGate | None = None  # wired by the core
        self.routing: VenueRouting | None = None  # several venues: wired by the core

    def dispatch(self, intents: list[Pending], now: datetime) -> None:
        """Risk-check new children, commit them, then send them; apply cancel intents."""
        assert self.risk is not None, "the core wires risk before the first tick"
        if not intents:
            return  # most ticks: nothing to check (the next batch takes the state afresh)
        risk = self.risk
        to_send: list[ChildOrder] = []
        risk.begin_batch()
        for parent, intent in intents:
            if isinstance(intent, CancelIntent):
                self.lifecycle.request_cancel(intent.client_order_id, now,
                                              intent.reason or "algo")
                continue
            if parent.state is not ParentState.WORKING:
                continue  # asked for before its parent ended (e.g. a kill in this tick)
            for child in self._children(parent, intent, now):
                rejection = risk.check(child, now)
                if rejection is not None:
                    self.lifecycle.reject(child, rejection, now)
                    continue
                to_send.append(child)
        if not to_send:
            return
        try:
            self.journal.flush()  # client order ids are committed before anything is sent
        except PersistenceError as exc:
            self.lifecycle.abandon(to_send, now, f"not sent: {exc}")
            raise
        for child in to_send:
            self._send(child, risk, now)

    def _children(self, parent: ParentOrder, intent: ChildIntent,
                  now: datetime) -> list[ChildOrder]:
        """The child of ``intent``, or with routing the child of each venue piece (a child
        refused with the router's reason when no venue may take it)."""
        routing = self.routing
        if routing is None:
            return [self.lifecycle.new_child(parent, intent, now)]
        pieces, decision = routing.route(parent, intent, now)
        if not pieces:
            child = self.lifecycle.new_child(parent, intent, now)
            self.journal.audit(now, "ChildRouted", child.client_order_id,
                               decision_payload(decision, ""))
            self.lifecycle.reject(child, Rejection(RejectionSource.VENUE, "NO_VENUE",
                                                   decision.reason), now)
            return []
        children = []
        for piece in pieces:
            child = self.lifecycle.new_child(parent, piece.intent, now, venue=piece.venue)
            self.journal.audit(now, "ChildRouted", child.client_order_id,
                               decision_payload(decision, piece.venue))
            children.append(child)
        return children

    def _send(self, child: ChildOrder, risk: PreTradeGate, now: datetime) -> None:
        try:
            self.venue.submit(child, now)
        except TradingHalted as exc:
            risk.release(child)
            self.lifecycle.reject(child, Rejection(RejectionSource.HALT, "HALTED", str(exc)), now)
            return
        except OrderStatusUnknown as exc:
            # it may be at the venue: it counts as sent, and a cancel must ask the venue
            child.sent_at = now
            child.reason = f"status unknown, reconciling: {exc}"
            self.lifecycle.counters.sent += 1
            self.journal.child_changed(child)
            return
        except VenueUnavailable as exc:  # it never reached the venue: not an order result
            risk.release(child)
            self.lifecycle.reject(
                child, Rejection(RejectionSource.VENUE, "UNAVAILABLE", str(exc)), now)
            return
        except VenueError as exc:
            risk.on_order_result(rejected=True, now=now)
            self.lifecycle.reject(
                child, Rejection(RejectionSource.VENUE, type(exc).__name__, str(exc)), now)
            return
        child.sent_at = now  # on the row; the audit trail records state changes
        self.lifecycle.counters.sent += 1
        self.journal.child_changed(child)
