"""Repository: batched writes from the engine thread, read-only queries from any thread, and the
kill switch's halt, committed from the caller's thread before the kill is acknowledged."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Select, Table, bindparam, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from oms.errors import FieldError, OmsError, PersistenceError, ValidationError
from oms.model import ChildOrder, ChildState, Fill, ParentOrder, ParentState
from oms.persistence.cluster_tables import CommandRow
from oms.persistence.database import Database
from oms.persistence.estimates import ESTIMATE_TABLE
from oms.persistence.history import (
    EQUITY_TABLE,
    EquityPrune,
    EquitySample,
    HistoryRange,
    equity_history,
    prune_equity,
)
from oms.persistence.routing_reads import routing_decisions
from oms.persistence.rows import (
    JsonText,
    child_from_row,
    fill_from_row,
    parent_from_row,
)
from oms.persistence.signal_entries import open_signal_entries
from oms.persistence.sqlite_fast import SqliteWriter, driver_connection
from oms.persistence.tables import (
    AuditRow,
    ChildOrderRow,
    EngineStateRow,
    ExecutionReportRow,
    FillRow,
    PaperOrderRow,
    PaperStateRow,
    ParentOrderRow,
    RiskEventRow,
    SessionRow,
)
from oms.persistence.types import Money
from oms.signals import OpenEntry

__all__ = ["RESUBMIT_EVENTS", "STATE_TABLES", "Page", "Repository", "WriteBatch", "halt_rows"]

_OPEN_CHILD = [s.value for s in ChildState if not s.is_terminal]
_OPEN_PARENT = [s.value for s in ParentState if not s.is_terminal]
# audit event -> the payload key naming the other parent of a resubmit
RESUBMIT_EVENTS = {"ParentResubmitted": "resubmitted_as",
                   "ParentResubmittedFrom": "resubmitted_from"}


@dataclass(slots=True)
class WriteBatch:
    """Everything one engine step writes, in one transaction (order of tables respects FKs).

    A JSON column's value is a plain value or the ``JsonText`` the journal encoded it to once.
    """

    sessions: list[dict[str, Any]] = field(default_factory=list)
    session_updates: list[dict[str, Any]] = field(default_factory=list)
    parents: list[dict[str, Any]] = field(default_factory=list)
    parent_updates: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    child_updates: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    risk_events: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    equity_samples: list[dict[str, Any]] = field(default_factory=list)
    parent_estimates: list[dict[str, Any]] = field(default_factory=list)  # after the parents
    equity_prune: EquityPrune | None = None  # a thinning of equity_samples (after the inserts)
    # keyed state tables (engine_state, paper_orders, paper_state): table -> key -> the whole
    # row to store (replacing any row of that key), or None to delete it
    state: dict[str, dict[str, dict[str, Any] | None]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any((self.sessions, self.session_updates, self.parents, self.parent_updates,
                    self.children, self.child_updates, self.fills, self.audit,
                    self.risk_events, self.reports, self.equity_samples,
                    self.parent_estimates, self.state, self.equity_prune))


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows plus the total row count of the query."""

    rows: list[dict[str, Any]]
    total: int


_KEY = "_key"
Rows = list[dict[str, Any]]


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


class _Tables:
    """The write order that respects foreign keys: new rows, updates, then dependent rows."""

    session, parent, child = _table(SessionRow), _table(ParentOrderRow), _table(ChildOrderRow)
    fill, audit = _table(FillRow), _table(AuditRow)
    risk, report = _table(RiskEventRow), _table(ExecutionReportRow)
    equity, estimate = EQUITY_TABLE, ESTIMATE_TABLE

    def inserts_first(self, b: WriteBatch) -> list[tuple[Table, Rows]]:
        return [(t, r) for t, r in ((self.session, b.sessions), (self.parent, b.parents),
                                    (self.child, b.children)) if r]

    def updates(self, b: WriteBatch) -> list[tuple[Table, Rows]]:
        return [(t, r) for t, r in ((self.session, b.session_updates),
                                    (self.parent, b.parent_updates),
                                    (self.child, b.child_updates)) if r]

    def inserts_last(self, b: WriteBatch) -> list[tuple[Table, Rows]]:
        return [(t, r) for t, r in ((self.fill, b.fills), (self.audit, b.audit),
                                    (self.risk, b.risk_events), (self.report, b.reports),
                                    (self.equity, b.equity_samples),
                                    (self.estimate, b.parent_estimates)) if r]


_tables = _Tables()

#: the keyed state tables a WriteBatch may replace rows of, by name (``commands``: the split
#: deployment's engine marks the commands it applied done in the transaction of their effects)
STATE_TABLES: dict[str, Table] = {
    model.__tablename__: _table(model)
    for model in (EngineStateRow, PaperOrderRow, PaperStateRow, CommandRow)
}


def _state_table(name: str) -> Table:
    table = STATE_TABLES.get(name)
    if table is None:
        raise PersistenceError(f"{name!r} is not a state table")
    return table


def _write_state_sqlite(connection: sqlite3.Connection,
                        state: dict[str, dict[str, dict[str, Any] | None]],
                        fast: SqliteWriter) -> None:
    """``_write_state`` with SQLite's prepared statements on the sqlite3 connection."""
    for name, rows in state.items():
        table = _state_table(name)
        gone = [key for key, row in rows.items() if row is None]
        new = [row for row in rows.values() if row is not None]
        if gone:
            fast.delete(connection, table, gone)
        if new:
            fast.replace(connection, table, new)


def _write_batch_sqlite(connection: sqlite3.Connection, batch: WriteBatch,
                        fast: SqliteWriter) -> None:
    """The batch's rows (its equity prune excepted) through SQLite's prepared statements."""
    tables = _tables
    for table, rows in tables.inserts_first(batch):
        fast.insert(connection, table, rows)
    for table, rows in tables.updates(batch):
        fast.update(connection, table, rows)
    for table, rows in tables.inserts_last(batch):
        fast.insert(connection, table, rows)
    if batch.state:
        _write_state_sqlite(connection, batch.state, fast)


def _write_state(session: Session, state: dict[str, dict[str, dict[str, Any] | None]]) -> None:
    """Replace the rows of keyed state tables (an upsert by primary key) and delete the keys
    given None with Core statements: PostgreSQL's ON CONFLICT, or a delete-then-insert
    elsewhere (SQLite's prepared statements: ``_write_state_sqlite``)."""
    dialect = session.get_bind().dialect.name
    for name, rows in state.items():
        table = _state_table(name)
        pk = table.primary_key.columns.values()[0]
        gone = [key for key, row in rows.items() if row is None]
        new = [row for row in rows.values() if row is not None]
        if dialect != "postgresql":
            gone = list(rows)  # replaced rows are deleted first, then inserted
        for start in range(0, len(gone), 500):
            session.execute(table.delete().where(pk.in_(gone[start:start + 500])))
        if not new:
            continue
        if dialect == "postgresql":
            upsert = postgresql_insert(table)
            session.execute(upsert.on_conflict_do_update(
                index_elements=[pk], set_={c.key: upsert.excluded[c.key] for c in table.columns
                                           if c.key != pk.key}), new)
        else:
            session.execute(insert(table), new)


def _update_by_key(table: Table, sample: dict[str, Any]) -> Any:
    """A Core executemany UPDATE ... WHERE <primary key> = :_key over the sample's columns."""
    pk = table.primary_key.columns.values()[0]
    columns: dict[str, Any] = {name: bindparam(name) for name in sample if name != pk.key}
    return update(table).where(pk == bindparam(_KEY)).values(**columns)


def _keyed(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    pk = table.primary_key.columns.values()[0].key
    out = dict(row)
    out[_KEY] = out.pop(pk)
    return out


def _decoded(table: Table, rows: Rows) -> Rows:
    """``rows`` with their ``JsonText`` values decoded, for the Core statements (whose JSON
    type encodes the value itself); SQLite's fast path stores the text as it is."""
    names = [c.key for c in table.columns if isinstance(c.type, JSON)]
    if not names:
        return rows
    out = []
    for row in rows:
        decoded = {n: v.value() for n in names if type(v := row.get(n)) is JsonText}
        out.append({**row, **decoded} if decoded else row)
    return out


def _filtered(model: Any, **equal: str | None) -> Select[Any]:
    """SELECT the model's rows whose columns equal every given (non-empty) value."""
    stmt: Select[Any] = select(model)
    for name, value in equal.items():
        if value:
            stmt = stmt.where(getattr(model, name) == value)
    return stmt


def _sort_key(model: Any, order_by: str, descending: bool, *, text_money: bool) -> Any:
    """ORDER BY one of the model's columns; an unknown column is a ValidationError.

    Money is text on SQLite (exact digits), so it is sorted by its numeric value there.
    """
    column = model.__table__.columns.get(order_by)
    if column is None:
        raise ValidationError(FieldError("order_by", f"unknown column {order_by!r}"))
    key = cast(column, Float) if text_money and isinstance(column.type, Money) else column
    return key.desc() if descending else key.asc()


def _as_dict(row: Any, columns: list[str]) -> dict[str, Any]:
    """A row's columns as a dict."""
    return {name: getattr(row, name) for name in columns}


def halt_rows(ts: datetime, reason: str, actor: str, previous: str) -> tuple[Rows, Rows]:
    """The risk_events and audit_log rows of a kill, shaped as the engine journal shapes them."""
    risk_events = [
        {"ts": ts, "kind": "TRADING_STATE", "code": "HALTED", "symbol": None, "entity_id": None,
         "actor": actor, "message": reason, "payload": {"previous": previous}},
        {"ts": ts, "kind": "KILL", "code": "HALTED", "symbol": None, "entity_id": None,
         "actor": actor, "message": reason, "payload": {}},
    ]
    audit = [
        {"ts": ts, "event": "TradingStateChanged", "entity_id": "account", "actor": actor,
         "payload": {"previous": previous, "current": "HALTED", "reason": reason}},
        {"ts": ts, "event": "KillSwitchActivated", "entity_id": "account", "actor": actor,
         "payload": {"reason": reason}},
    ]
    return risk_events, audit


class Repository:
    """All database access of the OMS."""

    def __init__(self, database: Database) -> None:
        self.db = database
        self._writer: Session | None = None
        self._writer_lent = False  # writer_session() was called: every write goes through it
        self._fast = SqliteWriter() if database.url.get_backend_name() == "sqlite" else None
        # the kill switch writes from the caller's thread: statements of its own, not shared
        self._halt_fast = SqliteWriter() if self._fast is not None else None
        #: run last in every write's transaction, before its commit: a check that raises
        #: OmsError rolls the whole batch back (the split deployment's fencing epoch check,
        #: oms.cluster.lease)
        self.write_checks: list[Callable[[Session, WriteBatch], None]] = []

    # -- writes (engine thread only) -------------------------------------------------------

    def writer_session(self) -> Session:
        """The engine thread's write session: what is read through it (rows locked FOR UPDATE)
        belongs to the transaction the next ``write`` commits or rolls back."""
        self._writer_lent = True  # its reads join the writes' transaction from now on
        return self._session()

    def _session(self) -> Session:
        if self._writer is None:
            self._writer = self.db.session()
        return self._writer

    def write(self, batch: WriteBatch) -> None:
        """Apply ``batch`` in one transaction; PersistenceError (nothing applied) on failure."""
        if not batch:
            return
        fast = self._fast
        if (fast is not None and not self._writer_lent and not self.write_checks
                and batch.equity_prune is None):
            self._write_sqlite(batch, fast)
            return
        session = self._session()
        tables = _tables
        try:
            if fast is not None:
                _write_batch_sqlite(driver_connection(session.connection()), batch, fast)
            else:
                for table, rows in tables.inserts_first(batch):
                    session.execute(insert(table), _decoded(table, rows))
                for table, rows in tables.updates(batch):
                    keyed = [_keyed(table, r) for r in rows]
                    session.execute(_update_by_key(table, rows[0]), keyed)
                for table, rows in tables.inserts_last(batch):
                    session.execute(insert(table), _decoded(table, rows))
                if batch.state:
                    _write_state(session, batch.state)
            if batch.equity_prune is not None:
                prune_equity(session, batch.equity_prune)
            # last, just before the commit: a check that locks a row (the lease's epoch UPDATE)
            # holds it for milliseconds, not for the whole batch; a refusal still rolls it all back
            for check in self.write_checks:
                check(session, batch)
            session.commit()
        except (SQLAlchemyError, sqlite3.Error) as exc:
            session.rollback()
            raise PersistenceError(f"database write failed: {exc}") from exc
        except OmsError:  # a write check refused the batch
            session.rollback()
            raise

    def _write_sqlite(self, batch: WriteBatch, fast: SqliteWriter) -> None:
        """``write`` on SQLite when nothing else shares the transaction (no write checks, no
        writer session in use, no equity prune): the batch on a pooled sqlite3 connection,
        committed by it, without the ORM session's bookkeeping (which cost more than the
        statements). The same rows, the same single transaction."""
        pooled = self.db.engine.raw_connection()
        try:
            connection = driver_connection(pooled)
            try:
                _write_batch_sqlite(connection, batch, fast)
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
        except sqlite3.Error as exc:
            raise PersistenceError(f"database write failed: {exc}") from exc
        finally:
            pooled.close()  # back to the pool

    # -- the kill switch (any thread) -------------------------------------------------------

    def record_halt(self, ts: datetime, reason: str, actor: str, *,
                    previous: str = "ACTIVE") -> None:
        """Commit a kill's halt now, in the caller's thread and one transaction of its own.

        Writes the rows the engine journal writes for a kill: the ``TRADING_STATE``/``HALTED``
        event that ``latest_trading_state`` restores at start, the ``KILL`` event, and the
        ``TradingStateChanged`` and ``KillSwitchActivated`` audit rows. Its own pooled connection
        (never the engine's writer session) and, on SQLite, its own prepared statements (the
        kill is acknowledged within about a millisecond); the connection's busy timeout makes it
        wait for an engine flush in progress. PersistenceError (nothing applied) on failure.
        """
        risk_events, audit = halt_rows(ts, reason, actor, previous)
        fast = self._halt_fast
        try:
            with self.db.engine.begin() as connection:
                for table, rows in ((_tables.risk, risk_events), (_tables.audit, audit)):
                    if fast is not None:
                        fast.insert(driver_connection(connection), table, rows)
                    else:
                        connection.execute(insert(table), rows)
        except (SQLAlchemyError, sqlite3.Error, ValueError) as exc:
            raise PersistenceError(f"halt write failed: {exc}") from exc

    # -- recovery (engine start) -----------------------------------------------------------

    def load_fills(self) -> list[Fill]:
        """Every fill, oldest first (rebuilds positions at start)."""
        with self.db.session() as s:
            return [fill_from_row(r) for r in s.scalars(select(FillRow).order_by(FillRow.ts))]

    def load_open_parents(self) -> list[ParentOrder]:
        """Parents not in a terminal state."""
        with self.db.session() as s:
            rows = s.scalars(select(ParentOrderRow).where(ParentOrderRow.state.in_(_OPEN_PARENT)))
            return [parent_from_row(r) for r in rows]

    def load_open_children(self) -> list[ChildOrder]:
        """Children that may still be working at a venue."""
        with self.db.session() as s:
            rows = s.scalars(select(ChildOrderRow).where(ChildOrderRow.state.in_(_OPEN_CHILD)))
            return [child_from_row(r) for r in rows]

    def state_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a keyed state table (engine_state, paper_orders, paper_state)."""
        model = STATE_TABLES.get(table)
        if model is None:
            raise PersistenceError(f"{table!r} is not a state table")
        columns = [c.key for c in model.columns]
        with self.db.session() as s:
            return [dict(zip(columns, row, strict=True))
                    for row in s.execute(select(*model.columns))]

    def latest_trading_state(self) -> tuple[str, str] | None:
        """The last persisted trading state and its reason, if any."""
        with self.db.session() as s:
            row = s.scalars(
                select(RiskEventRow).where(RiskEventRow.kind == "TRADING_STATE")
                .order_by(RiskEventRow.id.desc()).limit(1)
            ).first()
            return (row.code, row.message) if row else None

    # -- reads (any thread) ----------------------------------------------------------------

    def _page(self, stmt: Select[Any], model: Any, page: int, page_size: int,
              order_by: Any) -> Page:
        columns = [c.key for c in model.__table__.columns]
        with self.db.session() as s:
            total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = s.scalars(stmt.order_by(order_by).offset(page * page_size).limit(page_size))
            return Page([_as_dict(r, columns) for r in rows], int(total))

    def parents_page(self, *, page: int = 0, page_size: int = 100, state: str | None = None,
                     symbol: str | None = None, session_id: str | None = None,
                     order_by: str = "created_at", descending: bool = True,
                     working_only: bool = False) -> Page:
        """Parent orders filtered, sorted (newest first by default) and paged;
        ``working_only``: parents not yet in a terminal state."""
        stmt = _filtered(ParentOrderRow, state=state, symbol=symbol, session_id=session_id)
        if working_only:
            stmt = stmt.where(ParentOrderRow.state.in_(_OPEN_PARENT))
        return self._page(stmt, ParentOrderRow, page, page_size,
                          _sort_key(ParentOrderRow, order_by, descending,
                                    text_money=self._fast is not None))

    def parent_state(self, parent_id: str) -> str | None:
        """The stored state of one parent, None when no parent has that id."""
        with self.db.session() as s:
            state = s.scalar(select(ParentOrderRow.state)
                             .where(ParentOrderRow.parent_id == parent_id))
        return None if state is None else str(state)

    def load_parent(self, parent_id: str) -> ParentOrder | None:
        """One parent as a domain object, None when no parent has that id."""
        with self.db.session() as s:
            row = s.get(ParentOrderRow, parent_id)
            return None if row is None else parent_from_row(row)

    def resubmit_links(self, parent_id: str) -> dict[str, str]:
        """How a parent is linked by resubmits: ``resubmitted_as`` (the parent that took over
        its unfilled rest) and ``resubmitted_from`` (the parent whose rest it took over)."""
        links: dict[str, str] = {}
        with self.db.session() as s:
            rows = s.scalars(select(AuditRow).where(
                AuditRow.entity_id == parent_id,
                AuditRow.event.in_(list(RESUBMIT_EVENTS))).order_by(AuditRow.id))
            for row in rows:
                payload = json.loads(row.payload) if isinstance(row.payload, str) else row.payload
                key = RESUBMIT_EVENTS[row.event]
                if isinstance(payload, dict) and isinstance(payload.get(key), str):
                    links[key] = payload[key]
        return links

    def children_page(self, *, page: int = 0, page_size: int = 100,
                      parent_id: str | None = None, state: str | None = None,
                      symbol: str | None = None, order_by: str = "created_at",
                      descending: bool = True, working_only: bool = False) -> Page:
        """Child orders filtered, sorted (newest first by default) and paged;
        ``working_only``: children that may still fill."""
        stmt = _filtered(ChildOrderRow, parent_id=parent_id, state=state, symbol=symbol)
        if working_only:
            stmt = stmt.where(ChildOrderRow.state.in_(_OPEN_CHILD))
        return self._page(stmt, ChildOrderRow, page, page_size,
                          _sort_key(ChildOrderRow, order_by, descending,
                                    text_money=self._fast is not None))

    def fills_for(self, *, parent_id: str | None = None, session_id: str | None = None,
                  limit: int = 100_000) -> list[Fill]:
        """Fills of one parent or one session, oldest first."""
        stmt = select(FillRow)
        if parent_id:
            stmt = stmt.where(FillRow.parent_id == parent_id)
        if session_id:
            sub = select(ParentOrderRow.parent_id).where(ParentOrderRow.session_id == session_id)
            stmt = stmt.where(FillRow.parent_id.in_(sub))
        with self.db.session() as s:
            return [fill_from_row(r) for r in s.scalars(stmt.order_by(FillRow.ts).limit(limit))]

    def parents_of_session(self, session_id: str) -> list[ParentOrder]:
        """All parents of a session."""
        with self.db.session() as s:
            rows = s.scalars(select(ParentOrderRow).where(ParentOrderRow.session_id == session_id)
                             .order_by(ParentOrderRow.created_at))
            return [parent_from_row(r) for r in rows]

    def children_of(self, parent_ids: list[str]) -> list[ChildOrder]:
        """Children of the given parents."""
        with self.db.session() as s:
            rows = s.scalars(select(ChildOrderRow).where(ChildOrderRow.parent_id.in_(parent_ids)))
            return [child_from_row(r) for r in rows]

    def session(self, session_id: str) -> dict[str, Any] | None:
        """One session row as a dict."""
        columns = [c.key for c in SessionRow.__table__.columns]
        with self.db.session() as s:
            row = s.get(SessionRow, session_id)
            return _as_dict(row, columns) if row else None

    def _newest(self, model: Any, order_by: Any, limit: int,
                **equal: str | None) -> list[dict[str, Any]]:
        """The newest ``limit`` rows of ``model`` whose columns equal the non-None ``equal``."""
        columns = [c.key for c in model.__table__.columns]
        stmt = _filtered(model, **equal)
        with self.db.session() as s:
            rows = s.scalars(stmt.order_by(order_by.desc()).limit(limit))
            return [_as_dict(r, columns) for r in rows]

    def sessions(self, limit: int = 200) -> list[dict[str, Any]]:
        """Recent sessions, newest first."""
        return self._newest(SessionRow, SessionRow.created_at, limit)

    def risk_events(self, *, kind: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Recent risk events, newest first."""
        return self._newest(RiskEventRow, RiskEventRow.id, limit, kind=kind)

    def risk_messages_of(self, kind: str, entity_ids: list[str]) -> list[str]:
        """Messages of the risk events of ``kind`` about these entities, oldest first."""
        messages: list[tuple[int, str]] = []
        with self.db.session() as s:
            for start in range(0, len(entity_ids), 500):
                messages.extend(s.execute(
                    select(RiskEventRow.id, RiskEventRow.message)
                    .where(RiskEventRow.kind == kind,
                           RiskEventRow.entity_id.in_(entity_ids[start:start + 500]))).tuples())
        return [message for _, message in sorted(messages)]

    def audit(self, *, entity_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Recent audit rows, newest first."""
        return self._newest(AuditRow, AuditRow.id, limit, entity_id=entity_id)

    def routing_decisions(self, parent_id: str) -> list[dict[str, Any]]:
        """The routing decisions of a parent's children (oms.persistence.routing_reads)."""
        with self.db.session() as s:
            return routing_decisions(s, parent_id)

    def open_signal_entries(self) -> list[OpenEntry]:
        """Signal entries still owed an automatic exit (oms.persistence.signal_entries)."""
        with self.db.session() as s:
            return open_signal_entries(s)

    def equity_history(self, span: HistoryRange) -> list[EquitySample]:
        """Equity and P&L samples of ``span``, oldest first (oms.persistence.history)."""
        with self.db.session() as s:
            return equity_history(s, span)

    def report(self, session_id: str | None = None) -> dict[str, Any] | None:
        """The newest stored ExecutionReport of ``session_id`` (or of any session)."""
        stmt = select(ExecutionReportRow)
        if session_id:
            stmt = stmt.where(ExecutionReportRow.session_id == session_id)
        with self.db.session() as s:
            row = s.scalars(stmt.order_by(ExecutionReportRow.id.desc()).limit(1)).first()
            return dict(row.report) if row else None

    def reports(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """The newest report of every session (optionally generated since ``since``)."""
        stmt = select(ExecutionReportRow)
        if since:
            stmt = stmt.where(ExecutionReportRow.generated_at >= since)
        latest: dict[str, dict[str, Any]] = {}
        with self.db.session() as s:
            for row in s.scalars(stmt.order_by(ExecutionReportRow.id)):
                latest[row.session_id] = dict(row.report)
        return list(latest.values())
