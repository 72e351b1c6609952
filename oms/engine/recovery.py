"""Start-up recovery: rebuild the account from stored fills, restore a halt and the tripped
breakers, let the venue restore what it keeps in the database (the paper venue), settle orders
that a previous process left open (asking the venue about each one by client order id), follow
the ones the venue still reports on, and give every parent that was working its algorithm back.

What happens to a working parent is ``Settings.recovery`` (``OMS_RECOVERY``):
- ``resume`` (default): its algorithm is rebuilt from the parent row (algorithm, options, seed)
  and, once the engine has quotes, re-plans the rest over the rest of the window
  (``ExecutionAlgo.resume``; see oms/algos/executor.py for the catch-up rule past the window);
- ``drain``: the surviving children are followed to their end, nothing new is sent;
- ``cancel``: the surviving children are canceled and the parent ends.
Each parent gets a ``ParentResumed`` audit row with the mode, the gap in market time since the
previous process last recorded the clock (``gap_s``) and the wall time it was down (``down_s``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from oms.algos.base import ExecutionAlgo
from oms.algos.drain import DrainAlgo
from oms.algos.registry import create_algo
from oms.engine.book import OrderBook
from oms.errors import OmsError
from oms.journal import Journal
from oms.model import (
    Account,
    ChildOrder,
    ChildState,
    ParentOrder,
    TradingState,
    account_balances,
)
from oms.persistence.repository import Repository
from oms.risk.breakers import CircuitBreakers
from oms.risk.halt import HaltGate
from oms.risk.state import TradingStateMachine
from oms.venues.base import Venue

__all__ = ["CLOCK_KEY", "Resume", "last_market_time", "recorded_clock", "recover"]

CLOCK_KEY = "clock"  # engine_state row: the market time the engine last recorded


@dataclass(slots=True)
class Resume:
    """A parent whose rebuilt algorithm re-plans once the engine has its first quotes."""

    parent: ParentOrder
    algo: ExecutionAlgo
    history: list[ChildOrder]


def recorded_clock(repository: Repository) -> tuple[datetime | None, datetime | None]:
    """(market time, wall time) at which the previous process last recorded the clock; Nones
    on a fresh database."""
    for row in repository.state_rows("engine_state"):
        if row["key"] == CLOCK_KEY:
            value = row["value"]
            return _moment(value, "market_time"), _moment(value, "wall_time")
    return None, None


def _moment(value: Any, field: str) -> datetime | None:
    with contextlib.suppress(KeyError, TypeError, ValueError):
        return datetime.fromisoformat(value[field])
    return None


def last_market_time(repository: Repository) -> datetime | None:
    """The market time the previous process last recorded (None on a fresh database)."""
    return recorded_clock(repository)[0]


def recover(*, repository: Repository, journal: Journal, account: Account, book: OrderBook,
            venue: Venue, gate: HaltGate, state: TradingStateMachine,
            breakers: CircuitBreakers, quote_asset: str, mode: str,
            now: datetime) -> list[Resume]:
    """Bring a fresh engine in line with the database and the venue; returns the parents whose
    algorithm the engine resumes once it has quotes."""
    for fill in repository.load_fills():
        account.apply_fill(fill)
    if not venue.restore(repository.state_rows, now):
        # a venue with no stored state of its own starts from what the fills imply
        venue.set_balances(account_balances(account, quote_asset,
                                            lambda symbol: venue.filters(symbol).assets()))
    _restore_trading_state(repository, journal, gate, state, now)
    _restore_breakers(repository, breakers)
    last_seen, last_wall = recorded_clock(repository)
    gap_s = None if last_seen is None else round((now - last_seen).total_seconds(), 3)
    down_s = None if last_wall is None else round(
        (datetime.now(UTC) - last_wall).total_seconds(), 3)
    parents = {p.parent_id: p for p in repository.load_open_parents()}
    resumes: list[Resume] = []
    for parent in parents.values():
        algo = _algorithm(parent, venue, mode)
        book.add_parent(parent, algo)
        parent.resumes += 1
        parent.resumed_at = now
        journal.parent_changed(parent)
        rebuilt = not isinstance(algo, DrainAlgo)
        journal.audit(now, "ParentResumed", parent.parent_id, {
            "mode": mode if rebuilt or mode != "resume" else "drain", "gap_s": gap_s,
            "down_s": down_s, "last_market_time": last_seen, "filled": parent.filled_quantity,
            "remaining": parent.remaining, "algo": parent.algo.value}, actor="recovery")
        if rebuilt:
            resumes.append(Resume(parent, algo, []))
    children = repository.load_open_children()
    adopted = venue.adopt({c.client_order_id: c for c in children})
    for child in children:
        if child.client_order_id in adopted and child.parent_id in parents:
            book.add_child(child, None)
        else:
            _settle(venue, journal, child, now)
    histories = {r.parent.parent_id: r for r in resumes}
    if histories:
        for child in repository.children_of(list(histories)):
            open_child = book.open_children.get(child.client_order_id)
            histories[child.parent_id].history.append(open_child or child)
    journal.flush()
    return resumes


def _algorithm(parent: ParentOrder, venue: Venue, mode: str) -> ExecutionAlgo:
    """The parent's algorithm as ``mode`` says (a DrainAlgo when it cannot be rebuilt)."""
    if mode == "cancel":
        return DrainAlgo(parent, cancel=True,
                         reason="engine restarted (OMS_RECOVERY=cancel): its children canceled")
    if mode == "resume":
        with contextlib.suppress(OmsError):
            return create_algo(parent, seed=parent.seed or 0,
                               filters=venue.filters(parent.symbol), **parent.algo_params)
        return DrainAlgo(parent, reason="engine restarted: its algorithm could not be rebuilt; "
                                        "the surviving children were followed to their end")
    return DrainAlgo(parent)


def _restore_trading_state(repository: Repository, journal: Journal, gate: HaltGate,
                           state: TradingStateMachine, now: datetime) -> None:
    """A halt (or REDUCING) survives a restart: the process stays so until resume(reason)."""
    persisted = repository.latest_trading_state()
    if persisted is None or persisted[0] == TradingState.ACTIVE.value:
        return
    trading, reason = TradingState(persisted[0]), persisted[1]
    change = state.escalate(trading, "recovery", f"restored at start: {reason}", now)
    if trading is TradingState.HALTED:
        gate.halt(f"restored at start: {reason}", now)
    if change is not None:
        journal.audit(now, "TradingStateRestored", "account",
                      {"state": trading.value, "reason": reason}, actor="recovery")


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


def _settle(venue: Venue, journal: Journal, child: ChildOrder, now: datetime) -> None:
    """A child the venue will not report on: cancel it if it still works there, then close it."""
    report = venue.query(child.client_order_id)
    if report is not None and not report.state.is_terminal:
        venue.cancel(child.client_order_id, now)
    child.transition(ChildState.EXPIRED if report is None else ChildState.CANCELED, now,
                     "unknown to the venue after restart" if report is None
                     else "canceled at restart (it was not followed)")
    journal.child_changed(child)
    journal.audit(now, "OrderSettledAtStart", child.client_order_id,
                  {"state": child.state.value, "reason": child.reason}, actor="recovery")
