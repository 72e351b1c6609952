"""Start-up recovery: rebuild the account from stored fills, restore a halt and the tripped
breakers, settle orders that a previous process left open (asking the venue about each one by
client order id) and follow the ones the venue still reports on."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from oms.algos.drain import DrainAlgo
from oms.engine.book import OrderBook
from oms.errors import OmsError
from oms.journal import Journal
from oms.model import (
    Account,
    ChildOrder,
    ChildState,
    ParentOrder,
    ParentState,
    TradingState,
    account_balances,
)
from oms.persistence.repository import Repository
from oms.risk.breakers import CircuitBreakers
from oms.risk.halt import HaltGate
from oms.risk.state import TradingStateMachine
from oms.venues.base import Venue

__all__ = ["recover"]


def recover(*, repository: Repository, journal: Journal, account: Account, book: OrderBook,
            venue: Venue, gate: HaltGate, state: TradingStateMachine,
            breakers: CircuitBreakers, quote_asset: str, now: datetime) -> None:
    """Bring a fresh engine in line with the database and the venue."""
    for fill in repository.load_fills():
        account.apply_fill(fill)
    # a paper venue keeps no account across processes: it holds what the fills imply
    venue.set_balances(account_balances(account, quote_asset,
                                        lambda symbol: venue.filters(symbol).assets()))
    persisted = repository.latest_trading_state()
    if persisted is not None and persisted[0] != TradingState.ACTIVE.value:
        trading, reason = TradingState(persisted[0]), persisted[1]
        # a halt survives a restart: the process stays halted until resume(reason)
        change = state.escalate(trading, "recovery", f"restored at start: {reason}", now)
        if trading is TradingState.HALTED:
            gate.halt(f"restored at start: {reason}", now)
        if change is not None:
            journal.audit(now, "TradingStateRestored", "account",
                          {"state": trading.value, "reason": reason}, actor="recovery")
    _restore_breakers(repository, breakers)
    children = repository.load_open_children()
    adopted = venue.adopt({c.client_order_id: c for c in children})
    parents = {p.parent_id: p for p in repository.load_open_parents()}
    for child in children:
        if child.client_order_id in adopted and child.parent_id in parents:
            _follow(book, journal, parents[child.parent_id], child, now)
        else:
            _settle(venue, journal, child, now)
    for parent in parents.values():
        if book.parent(parent.parent_id) is not None:
            continue  # it has children the venue still reports on: followed by a DrainAlgo
        parent.transition(ParentState.FAILED, now,
                          f"engine restarted while working; unfilled {parent.remaining}")
        journal.parent_changed(parent)
        journal.audit(now, "ParentFailed", parent.parent_id,
                      {"reason": parent.end_reason}, actor="recovery")
    journal.flush()


def _restore_breakers(repository: Repository, breakers: CircuitBreakers) -> None:
    """A breaker tripped before the restart and never re-armed stays tripped (it blocks resume)."""
    open_trips: dict[str, dict[str, Any]] = {}
    for event in reversed(repository.risk_events(limit=100_000)):  # oldest first
        if event["kind"] == "BREAKER_TRIP":
            open_trips[event["code"]] = event
        elif event["kind"] == "BREAKER_RESET":
            open_trips.pop(event["code"], None)
    for name, event in open_trips.items():
        with contextlib.suppress(OmsError):  # a breaker no longer configured
            breakers.restore_trip(name, event["ts"], event["message"])


def _follow(book: OrderBook, journal: Journal, parent: ParentOrder, child: ChildOrder,
            now: datetime) -> None:
    """Keep a child the venue still reports on, under its parent, drained (no new children)."""
    if book.parent(parent.parent_id) is None:
        book.add_parent(parent, DrainAlgo(parent))
        journal.audit(now, "ParentResumed", parent.parent_id,
                      {"filled": parent.filled_quantity}, actor="recovery")
    book.add_child(child, None)


def _settle(venue: Venue, journal: Journal, child: ChildOrder, now: datetime) -> None:
    """A child the venue will not report on: cancel it if it still works there, then close it."""
    report = venue.query(child.client_order_id)
    if report is not None and not report.state.is_terminal:
        venue.cancel(child.client_order_id, now)
    child.transition(ChildState.EXPIRED if report is None else ChildState.CANCELED, now,
                     "unknown to the venue after restart" if report is None
                     else "canceled at restart (its algorithm did not survive)")
    journal.child_changed(child)
    journal.audit(now, "OrderSettledAtStart", child.client_order_id,
                  {"state": child.state.value, "reason": child.reason}, actor="recovery")
