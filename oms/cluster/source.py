"""Command rows as an engine command source: each tick takes its account's pending commands
``FOR UPDATE SKIP LOCKED`` in the engine's write transaction, applies them through the same
CommandHandler as the in-process queue, and marks each done (or failed) with its reply as a
state row of that same transaction, so a command is applied exactly once: a crash before the
commit leaves it pending and its effects unwritten. The commit NOTIFYs the waiting web workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from oms.cluster.codec import decode_command, encode_error, encode_reply
from oms.commands import Command
from oms.errors import OmsError
from oms.journal import Journal
from oms.model import TradingState
from oms.persistence.cluster_tables import CommandRow
from oms.persistence.repository import Repository, WriteBatch
from oms.persistence.tables import RiskEventRow

__all__ = ["DONE_CHANNEL", "NEW_CHANNEL", "RowCommandSource"]

log = logging.getLogger(__name__)

DONE_CHANNEL = "oms_command_done"  # payload: the account whose commands were committed
NEW_CHANNEL = "oms_command_new"  # payload: the account a command was queued for
_TABLE: Table = CommandRow.__table__  # type: ignore[assignment]
_RISK: Table = RiskEventRow.__table__  # type: ignore[assignment]
_COLUMNS = [c.key for c in _TABLE.columns]


class RowCommandSource:
    """The ``commands`` rows of one account, for ``ExecutionEngine.command_sources``."""

    def __init__(self, repository: Repository, journal: Journal, account: str, *,
                 batch_size: int = 500) -> None:
        self.repository = repository
        self.journal = journal
        self.account = account
        self.batch_size = batch_size
        # id(command) -> (the command, its row) until handled, in the order taken (the command
        # is kept alive: its id cannot be reused by another command meanwhile)
        self._taken: dict[int, tuple[Command, dict[str, Any]]] = {}
        self._in_flight: set[int] = set()  # row ids marked in the journal, not yet committed
        self.applied = 0
        self._halt: Callable[..., Any] | None = None
        self._trading_state: Callable[[], TradingState] = lambda: TradingState.ACTIVE

    def attach(self, engine: Any) -> None:
        """Wire this source into an engine: its tick, its handler, its journal, its writes."""
        self._halt = engine.handler.halt
        self._trading_state = lambda: engine.risk.trading_state
        engine.command_sources.append(self)
        engine.handler.listeners.append(self.on_handled)
        self.journal.taps.append(self.committed)
        self.repository.write_checks.append(self.notify)

    def take(self, now: datetime) -> list[Command]:
        """Pending commands of the account, oldest first, locked in the write transaction."""
        session = self.repository.writer_session()
        self._check_durable_halt(session, now)
        table = _TABLE
        stmt = (select(*table.columns)
                .where(table.c.account == self.account, table.c.status == "pending")
                .order_by(table.c.id).limit(self.batch_size).with_for_update(skip_locked=True))
        if self._in_flight:
            stmt = stmt.where(table.c.id.notin_(sorted(self._in_flight)))
        rows = [dict(zip(_COLUMNS, r, strict=True)) for r in session.execute(stmt)]
        if not rows and not self._in_flight and not self._taken:
            session.commit()  # end the read: no idle transaction between ticks
            return []
        commands = self._leftovers(now)
        for row in rows:
            self._in_flight.add(row["id"])
            try:
                command = decode_command(row["kind"], row["payload"], row["actor"])
            except OmsError as exc:  # a malformed row fails alone, in this transaction
                self._mark(row, None, exc, now)
                continue
            self._taken[id(command)] = (command, row)
            commands.append(command)
        return commands

    def _leftovers(self, now: datetime) -> list[Command]:
        """Commands taken by a tick that failed before handling them all: the first may have
        been half applied when the tick failed, so it is marked failed, not applied again; the
        others were not touched and are handled now."""
        leftover = list(self._taken.values())
        if not leftover:
            return []
        self._taken.clear()
        _, row = leftover[0]
        log.error("command %s: the engine's tick failed while applying it; marked failed",
                  row["id"])
        self._mark(row, None, OmsError("the engine's tick failed while this command was being "
                                       "applied (see the engine's log); it is not retried"), now)
        for command, taken in leftover[1:]:
            self._taken[id(command)] = (command, taken)
        return [command for command, _ in leftover[1:]]

    def _check_durable_halt(self, session: Session, now: datetime) -> None:
        """A kill committed by a web worker halts the engine at its next tick even if the
        notification and the KillSwitch command were both lost (the latest recorded trading
        state is HALTED while the engine trades)."""
        risk = _RISK
        row = session.execute(select(risk.c.code, risk.c.message, risk.c.actor)
                              .where(risk.c.kind == "TRADING_STATE")
                              .order_by(risk.c.id.desc()).limit(1)).first()
        if (row is not None and row[0] == TradingState.HALTED.value and self._halt is not None
                and self._trading_state() is not TradingState.HALTED):
            self._halt(str(row[1]), str(row[2]), now, durable=True)

    def on_handled(self, command: Command, result: Any, error: OmsError | None) -> None:
        """Record the reply of one of this source's commands in the tick's transaction."""
        entry = self._taken.get(id(command))
        if entry is not None and entry[0] is command:
            del self._taken[id(command)]
            self._mark(entry[1], result, error, datetime.now(UTC))

    def _mark(self, row: dict[str, Any], result: Any, error: OmsError | None,
              now: datetime) -> None:
        try:
            reply = encode_reply(result) if error is None else encode_error(error)
        except OmsError as exc:
            error, reply = exc, encode_error(exc)
        done = {**row, "status": "done" if error is None else "failed", "reply": reply,
                "error": None if error is None else str(error), "applied_at": now}
        self.journal.state("commands", str(row["id"]), done)

    def committed(self, batch: WriteBatch) -> None:
        """Journal tap: the marked commands of ``batch`` are committed."""
        done = batch.state.get("commands")
        if done:
            before = len(self._in_flight)
            self._in_flight.difference_update(int(key) for key in done)
            self.applied += before - len(self._in_flight)

    def notify(self, session: Session, batch: WriteBatch) -> None:
        """Write check: a batch that marks commands NOTIFYs at its commit (never before)."""
        if batch.state.get("commands"):
            session.execute(text("SELECT pg_notify(:channel, :account)"),
                            {"channel": DONE_CHANNEL, "account": self.account})
