"""Start-up recovery: rebuild the account from stored fills, restore a halt, settle orders that a
previous process left open (asking the venue about each one by client order id)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from oms.algos.drain import DrainAlgo
from oms.errors import OmsError
from oms.model import ChildOrder, ChildState, ParentOrder, ParentState, TradingState

if TYPE_CHECKING:
    from oms.engine import ExecutionEngine

__all__ = ["recover"]


def recover(engine: ExecutionEngine) -> None:
    """Bring a fresh engine in line with the database and the venue."""
    repo = engine.repository
    now = engine.clock.now()
    for fill in repo.load_fills():
        engine.account.apply_fill(fill)
    persisted = repo.latest_trading_state()
    if persisted is not None and persisted[0] != TradingState.ACTIVE.value:
        state, reason = TradingState(persisted[0]), persisted[1]
        # a halt survives a restart: the process stays halted until resume(reason)
        change = engine.risk.state.escalate(state, "recovery", f"restored at start: {reason}", now)
        if state is TradingState.HALTED:
            engine.gate.halt(f"restored at start: {reason}", now)
        if change is not None:
            engine.journal.audit(now, "TradingStateRestored", "account",
                                 {"state": state.value, "reason": reason}, actor="recovery")
    _restore_breakers(engine)
    children = repo.load_open_children()
    adopted = engine.venue.adopt({c.client_order_id: c for c in children})
    parents = {p.parent_id: p for p in repo.load_open_parents()}
    for child in children:
        if child.client_order_id in adopted and child.parent_id in parents:
            _follow(engine, parents[child.parent_id], child)
        else:
            _settle(engine, child, now)
    for parent in parents.values():
        if parent.parent_id in engine.parents:
            continue  # it has children the venue still reports on: followed by a DrainAlgo
        parent.transition(ParentState.FAILED, now,
                          f"engine restarted while working; unfilled {parent.remaining}")
        engine.journal.parent_changed(parent)
        engine.journal.audit(now, "ParentFailed", parent.parent_id,
                             {"reason": parent.end_reason}, actor="recovery")
    engine.journal.flush()


def _restore_breakers(engine: ExecutionEngine) -> None:
    """A breaker tripped before the restart and never re-armed stays tripped (it blocks resume)."""
    open_trips: dict[str, dict[str, Any]] = {}
    for event in reversed(engine.repository.risk_events(limit=100_000)):  # oldest first
        if event["kind"] == "BREAKER_TRIP":
            open_trips[event["code"]] = event
        elif event["kind"] == "BREAKER_RESET":
            open_trips.pop(event["code"], None)
    for name, event in open_trips.items():
        with contextlib.suppress(OmsError):  # a breaker no longer configured
            engine.risk.breakers.restore_trip(name, event["ts"], event["message"])


def _follow(engine: ExecutionEngine, parent: ParentOrder, child: ChildOrder) -> None:
    """Keep a child the venue still reports on, under its parent, drained (no new children)."""
    if parent.parent_id not in engine.parents:
        engine.parents[parent.parent_id] = parent
        engine.working[parent.parent_id] = {}
        engine.algos[parent.parent_id] = DrainAlgo(parent)
        engine.session_parents.setdefault(parent.session_id, set()).add(parent.parent_id)
        engine.journal.audit(engine.clock.now(), "ParentResumed", parent.parent_id,
                             {"filled": parent.filled_quantity}, actor="recovery")
    parent.child_ids.append(child.client_order_id)
    engine.open_children[child.client_order_id] = child
    engine.working[parent.parent_id][child.client_order_id] = child


def _settle(engine: ExecutionEngine, child: ChildOrder, now: datetime) -> None:
    """A child the venue will not report on: cancel it if it still works there, then close it."""
    report = engine.venue.query(child.client_order_id)
    if report is not None and not report.state.is_terminal:
        engine.venue.cancel(child.client_order_id, now)
    child.transition(ChildState.EXPIRED if report is None else ChildState.CANCELED, now,
                     "unknown to the venue after restart" if report is None
                     else "canceled at restart (its algorithm did not survive)")
    engine.journal.child_changed(child)
    engine.journal.audit(now, "OrderSettledAtStart", child.client_order_id,
                         {"state": child.state.value, "reason": child.reason}, actor="recovery")

