"""MismatchResolver: an operator's action on a reconciliation mismatch, applied in the tick.

- adopt: the OMS takes the venue's view.
  - An unknown order is followed: it becomes a child of a new parent (a session of kind
    "reconcile", algorithm ``auto`` never resolved, run by a DrainAlgo: nothing new is ever sent
    for it, not even after a restart) once the venue agrees to report its events. An order with
    fills the OMS never saw is refused (cancel it at the venue, then adopt the balance
    difference): the OMS cannot take over executions it has no record of.
  - A missing order is closed as the venue reports it (CANCELED, otherwise EXPIRED); fills the
    OMS never saw then show as a balance difference.
  - A balance difference becomes the new baseline of its asset.
- cancel: cancel an unknown order at the venue (its events are not the OMS's).
- ignore: close the mismatch with a reason; the same difference is not reported again while it
  lasts unchanged (a balance difference that changes, or an order gone and back, is).

Every action is checked whole before anything changes (a refusal is a ValidationError naming
the field, nothing applied), is audited (``ReconcileMismatchResolved``) and logged as a risk
event (kind ``RECONCILE_RESOLVED``). Resolving never loosens the trading state: trading stays
REDUCING or HALTED until resumed with a reason, and open mismatches block that resume.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from oms.algos.drain import DrainAlgo
from oms.commands import ResolveMismatch
from oms.engine.book import OrderBook
from oms.engine.lifecycle import OrderLifecycle
from oms.engine.reconcile import Mismatch, Reconciler
from oms.engine.sessions import SessionDesk
from oms.errors import FieldError, ValidationError
from oms.journal import Journal
from oms.model import AlgoName, ChildOrder, ChildState, IdGenerator, ParentOrder
from oms.persistence.repository import Repository
from oms.reconciliation import ACTIONS, MismatchKind, ResolveAction
from oms.venues.base import OrderStatusReport, Venue

__all__ = ["ADOPTED_REASON", "MismatchResolver"]

ADOPTED_REASON = "adopted from the venue by reconciliation: followed to its end, nothing sent"
_CHILD_CREATED = frozenset({"OrderCreated", "OrderAdopted"})  # the audit rows of a child row


def _refuse(message: str, field: str = "action") -> ValidationError:
    return ValidationError(FieldError(field, message))


class MismatchResolver:
    """Applies ResolveMismatch commands (engine thread only)."""

    def __init__(self, *, reconciler: Reconciler, book: OrderBook, lifecycle: OrderLifecycle,
                 sessions: SessionDesk, venue: Venue, journal: Journal, ids: IdGenerator,
                 repository: Repository, symbols: Sequence[str]) -> None:
        self.reconciler = reconciler
        self.repository = repository
        self.book = book
        self.lifecycle = lifecycle
        self.sessions = sessions
        self.venue = venue
        self.journal = journal
        self.ids = ids
        self.symbols = list(symbols)

    def blockers(self) -> list[str]:
        """Open mismatches (they block a resume)."""
        return self.reconciler.blockers()

    def resolve(self, command: ResolveMismatch, now: datetime) -> dict[str, Any]:
        """Apply the action; returns what was done. ValidationError (nothing changed) when the
        action does not apply to this mismatch or to what the venue holds now."""
        mismatch = self.reconciler.open_mismatch(command.mismatch_id)
        seen = mismatch.seen
        action = command.action
        allowed = ACTIONS[seen.kind]
        if action not in allowed:
            raise _refuse(f"{action.value} does not apply to {seen.kind.value}; use one of "
                          f"{', '.join(a.value for a in allowed)}")
        reason = command.reason.strip()
        if action is ResolveAction.IGNORE and not reason:
            raise _refuse("ignoring a mismatch needs a reason", "reason")
        if action is not ResolveAction.IGNORE and not mismatch.present:
            raise _refuse(f"{mismatch.mismatch_id} is no longer seen by reconciliation; ignore "
                          "it with a reason")
        view = mismatch.view()
        result = self._apply(mismatch, action, reason, command.actor, now)
        self.reconciler.close(mismatch, action)
        payload = {"kind": seen.kind.value, "subject": seen.subject, "action": action.value,
                   "reason": reason, "oms_view": seen.oms_view, "venue_view": seen.venue_view,
                   "difference": seen.difference, "result": result,
                   "reported_at": view.reported_at}
        self.journal.audit(now, "ReconcileMismatchResolved", mismatch.mismatch_id, payload,
                           actor=command.actor)
        self.journal.risk_event(now, "RECONCILE_RESOLVED", seen.kind.value,
                                f"{mismatch.mismatch_id} {action.value}: {result}",
                                symbol=seen.symbol, entity_id=seen.subject, actor=command.actor,
                                payload=payload)
        return {"mismatch_id": mismatch.mismatch_id, "kind": seen.kind.value,
                "subject": seen.subject, "action": action.value, "result": result}

    def _apply(self, mismatch: Mismatch, action: ResolveAction, reason: str, actor: str,
               now: datetime) -> str:
        kind = mismatch.seen.kind
        if action is ResolveAction.IGNORE:
            return f"ignored: {reason}"
        if kind is MismatchKind.BALANCE:
            before, after = self.reconciler.adopt_balance(mismatch)
            return f"baseline of {mismatch.seen.subject} {before} -> {after} (the venue's view)"
        if kind is MismatchKind.MISSING_ORDER:
            return self._close_missing(mismatch, now)
        self._traded(mismatch)
        if action is ResolveAction.CANCEL:
            self._still_open(mismatch)
            self.venue.cancel(mismatch.seen.subject, now)
            return "cancel requested at the venue"
        return self._follow(mismatch, actor, now)

    def _traded(self, mismatch: Mismatch) -> None:
        """An order of a symbol this OMS does not trade is out of its reach (the venue is only
        asked about its own symbols)."""
        symbol = mismatch.seen.symbol
        if symbol not in self.symbols:
            raise _refuse(f"{symbol} is not traded by this OMS; handle {mismatch.seen.subject} "
                          "at the venue directly, then ignore the mismatch with a reason")

    def _still_open(self, mismatch: Mismatch) -> OrderStatusReport:
        """The venue's report of the mismatch's order; refused unless it is still open."""
        report = self.venue.query(mismatch.seen.subject)
        if report is None or report.state.is_terminal:
            state = "unknown to the venue" if report is None else report.state.value
            raise _refuse(f"{mismatch.seen.subject} is no longer open at the venue ({state}); "
                          "ignore the mismatch with a reason")
        return report

    def _follow(self, mismatch: Mismatch, actor: str, now: datetime) -> str:
        """An unknown order becomes the child of a new, drained parent (see the module)."""
        order = mismatch.seen.order
        cid = mismatch.seen.subject
        if order is None:  # pragma: no cover - unknown orders always carry the venue's order
            raise _refuse(f"{cid}: the venue's order details are missing; cancel or ignore it")
        if self._known_to_oms(cid):
            raise _refuse(f"{cid} is an order of this OMS that it already closed (its id cannot "
                          "be used twice): cancel it at the venue, or ignore it")
        report = self._still_open(mismatch)
        if report.filled_quantity > 0:
            raise _refuse(f"{cid} has fills at the venue ({report.filled_quantity} of "
                          f"{order.quantity}) that the OMS never saw: cancel it at the venue, "
                          "then adopt the balance difference")
        parent_id = self.ids.next("p")
        child = ChildOrder(
            client_order_id=cid, parent_id=parent_id, symbol=order.symbol, side=order.side,
            quantity=order.quantity, order_type=order.order_type, created_at=now,
            venue=self.venue.name, limit_price=order.limit_price,
            time_in_force=order.time_in_force, state=ChildState.NEW,
            venue_order_id=order.venue_order_id, sent_at=now, acked_at=now, updated_at=now)
        if not self.venue.follow(child):
            raise _refuse(f"{self.venue.name} cannot report on {cid}; cancel it or ignore it")
        session_id = self.sessions.open_session(
            "reconcile", now, actor, {}, {"client_order_id": cid,
                                          "mismatch_id": mismatch.mismatch_id})
        parent = ParentOrder(
            parent_id=parent_id, session_id=session_id, symbol=order.symbol, side=order.side,
            quantity=order.quantity, algo=AlgoName.AUTO, created_at=now, duration_minutes=0.0,
            algo_reason=ADOPTED_REASON, limit_price=order.limit_price)
        drain = DrainAlgo(parent)
        drain.stop_reason = ADOPTED_REASON
        self.lifecycle.start_parent(parent, drain, now)
        self.book.add_child(child, self.lifecycle.quotes.mid(order.symbol))
        self.journal.child_created(child, "adopted")
        self.journal.audit(now, "OrderAdopted", cid, {
            "parent_id": parent_id, "session_id": session_id, "symbol": order.symbol,
            "side": order.side.value, "quantity": order.quantity,
            "limit_price": order.limit_price, "venue_order_id": order.venue_order_id},
            actor=actor)
        return f"followed as a child of parent {parent_id} (session {session_id})"

    def _known_to_oms(self, cid: str) -> bool:
        """True if the database holds a child order with this client order id."""
        return any(row["event"] in _CHILD_CREATED
                   for row in self.repository.audit(entity_id=cid, limit=10_000))

    def _close_missing(self, mismatch: Mismatch, now: datetime) -> str:
        """Close a child the venue does not hold open, as the venue reports it."""
        cid = mismatch.seen.subject
        child = self.book.open_children.get(cid)
        if child is None:
            return "already closed in the OMS"
        report = self.venue.query(cid)
        if report is not None and not report.state.is_terminal:
            raise _refuse(f"the venue reports {cid} open now ({report.state.value}): it is no "
                          "longer missing; ignore the mismatch with a reason")
        state = (ChildState.CANCELED if report is not None
                 and report.state is ChildState.CANCELED else ChildState.EXPIRED)
        why = ("unknown to the venue" if report is None
               else f"the venue reports {report.state.value}, filled {report.filled_quantity}")
        if report is not None and report.filled_quantity > child.filled_quantity:
            why += "; fills the OMS never saw show as a balance difference"
        self.lifecycle.close_child(child, state, now, f"closed by reconciliation: {why}")
        return f"closed as {state.value} ({why})"
