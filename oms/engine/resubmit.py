"""Resubmitting the unfilled rest of a parent that a halt, a cancel or a failure ended.

The new parent goes through the same path as any new parent (SessionDesk.new_parent), so every
pre-trade check and persist-before-send applies to its children. The link is written as an audit
row on both parents (``ParentResubmitted`` on the old one, ``ParentResubmittedFrom`` on the new
one) and in the new session's params; a parent is resubmitted at most once, also when two
commands arrive in one tick (remembered here until their rows are committed) or after a restart
(read back from the audit rows).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from oms.commands import ResubmitRemaining
from oms.engine.book import OrderBook
from oms.engine.sessions import SessionDesk, SubmitResult
from oms.errors import FieldError, NotFound, ValidationError
from oms.journal import Journal
from oms.model import ParentOrder, ParentState

__all__ = ["RESUBMITTABLE", "ParentRecords", "Resubmitter"]

RESUBMITTABLE = frozenset({ParentState.HALTED, ParentState.CANCELED, ParentState.FAILED})
_ENGINE_PARAMS = frozenset({"max_child_notional"})  # set afresh from the settings


class ParentRecords(Protocol):
    """The stored parents (what the repository answers for parents the book retired)."""

    def load_parent(self, parent_id: str) -> ParentOrder | None: ...
    def resubmit_links(self, parent_id: str) -> dict[str, str]: ...


class Resubmitter:
    """Checks that a parent may be resubmitted and starts the new parent for its rest."""

    def __init__(self, *, book: OrderBook, sessions: SessionDesk, journal: Journal,
                 records: ParentRecords) -> None:
        self.book = book
        self.sessions = sessions
        self.journal = journal
        self.records = records
        self._done: dict[str, str] = {}  # old parent -> new parent (this process)

    def resubmit(self, command: ResubmitRemaining, now: datetime) -> SubmitResult:
        """Start a new parent for the rest of ``command.parent_id``; raises NotFound for an
        unknown parent, TradingHalted while HALTED, ValidationError when it is not eligible."""
        old = self._eligible(command.parent_id)
        rest = old.remaining
        duration = (command.duration_minutes if command.duration_minutes is not None
                    else old.duration_minutes)
        options = {k: v for k, v in old.algo_params.items() if k not in _ENGINE_PARAMS}
        session_id = self.sessions.open_session(
            "resubmit", now, command.actor, {},
            {"resubmitted_from": old.parent_id, "symbol": old.symbol, "side": old.side.value,
             "quantity": str(rest), "algo": old.algo.value, "duration_minutes": duration,
             "urgency": old.urgency})
        parent = self.sessions.new_parent(
            session_id, old.symbol, old.side, rest, old.algo, duration, old.urgency, now,
            limit_price=old.limit_price, options=options)
        self._done[old.parent_id] = parent.parent_id
        self.journal.audit(now, "ParentResubmitted", old.parent_id,
                           {"resubmitted_as": parent.parent_id, "quantity": str(rest)},
                           actor=command.actor)
        self.journal.audit(now, "ParentResubmittedFrom", parent.parent_id,
                           {"resubmitted_from": old.parent_id, "quantity": str(rest)},
                           actor=command.actor)
        return SubmitResult(session_id, [parent.parent_id], [],
                            {parent.parent_id: (parent.algo.value, parent.algo_reason)})

    def _eligible(self, parent_id: str) -> ParentOrder:
        live = self.book.parent(parent_id)
        parent = live if live is not None else self.records.load_parent(parent_id)
        if parent is None:
            shown = parent_id if len(parent_id) <= 64 else parent_id[:64] + "..."
            raise NotFound(FieldError("parent_id", f"no parent order {shown!r}"))
        self.sessions.ensure_trading()  # HALTED: resume first
        if parent.state is ParentState.COMPLETED:
            raise _refused(f"{parent_id} is COMPLETED: nothing to resubmit")
        if parent.state not in RESUBMITTABLE:
            raise _refused(f"{parent_id} is still working (it is {parent.state.value}); cancel "
                           "it first")
        if live is not None and self.book.working_count(parent_id):
            raise _refused(f"{parent_id} has {self.book.working_count(parent_id)} children "
                           "still open at the venue; resubmit once their cancels are confirmed")
        if parent.remaining <= 0:
            raise _refused(f"{parent_id} has nothing left to fill")
        already = self._done.get(parent_id) or \
            self.records.resubmit_links(parent_id).get("resubmitted_as")
        if already:
            raise _refused(f"{parent_id} was already resubmitted as {already}")
        return parent


def _refused(message: str) -> ValidationError:
    return ValidationError(FieldError("parent_id", message))
