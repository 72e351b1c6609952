"""The signal entries still owed an automatic exit, read back from the database at start-up, so
that a restart does not forget the 180-minute maximum holding period of an open position.

Replays the signal sessions in the order they were created (their ``SessionStarted`` audit rows):
an entry session registers its parent; a trader's exit signal closes every entry on its symbol
registered before it; an automatic exit (actor ``auto-exit``) closes the entry it names. What is
left, with its fills so far (first fill time, quantity), is what the engine's SignalBook held; an
entry that ended without a fill owes nothing and is dropped.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.model import ParentState, Side
from oms.persistence.tables import AuditRow, FillRow, ParentOrderRow, SessionRow
from oms.signals import AUTO_EXIT_ACTOR, OpenEntry

__all__ = ["open_signal_entries"]

_TERMINAL = {s.value for s in ParentState if s.is_terminal}


def _signal_sessions(s: Session) -> list[SessionRow]:
    """Signal sessions in creation order (the audit row's id; ids and times can tie)."""
    order = dict(s.execute(select(AuditRow.entity_id, AuditRow.id)
                           .where(AuditRow.event == "SessionStarted")).all())
    rows = list(s.scalars(select(SessionRow).where(SessionRow.kind == "signal")))
    return sorted(rows, key=lambda r: (order.get(r.session_id, 0), r.created_at))


def open_signal_entries(s: Session) -> list[OpenEntry]:
    """Entries registered and neither exited nor ended unfilled (module doc)."""
    open_parents: dict[str, ParentOrderRow] = {}
    for session in _signal_sessions(s):
        params = session.params or {}
        if params.get("kind") == "entry":
            for parent in s.scalars(select(ParentOrderRow)
                                    .where(ParentOrderRow.session_id == session.session_id)):
                open_parents[parent.parent_id] = parent
        elif session.actor == AUTO_EXIT_ACTOR:
            open_parents.pop(str(params.get("entry_parent_id")), None)
        elif params.get("kind") == "exit":
            symbol = params.get("symbol")
            for parent_id in [p for p, row in open_parents.items() if row.symbol == symbol]:
                del open_parents[parent_id]
    if not open_parents:
        return []
    fills: dict[str, tuple[datetime, Decimal]] = {}
    for parent_id, ts, quantity in s.execute(
            select(FillRow.parent_id, FillRow.ts, FillRow.quantity)
            .where(FillRow.parent_id.in_(list(open_parents))).order_by(FillRow.ts)):
        first, total = fills.get(parent_id, (ts, Decimal(0)))
        fills[parent_id] = (first, total + Decimal(quantity))
    entries: list[OpenEntry] = []
    for parent_id, row in open_parents.items():
        first_fill, quantity = fills.get(parent_id, (None, Decimal(0)))
        if first_fill is None and row.state in _TERMINAL:
            continue  # ended without a fill: no position to close
        entries.append(OpenEntry(parent_id, row.symbol, Side(row.side), quantity, first_fill))
    return entries
