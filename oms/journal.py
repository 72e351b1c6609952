"""The engine's journal: collects every state change of a step and writes it in one batch.

Each change is also an audit row (event name + payload). New rows are inserted, changed rows are
updated once per flush with their final values, so a child that is sent, acknowledged and filled
in one step costs one insert and one update, and a child created and filled in one step one
insert. A payload is encoded to its JSON text when it is recorded (a snapshot of that instant,
Decimals as exact text), once, and stored as that text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from oms.model import ChildOrder, Fill, ParentOrder
from oms.persistence.history import EquityPrune
from oms.persistence.repository import Repository, WriteBatch
from oms.persistence.rows import (
    child_row,
    child_update,
    fill_row,
    json_text,
    parent_row,
    parent_update,
)

__all__ = ["Journal", "StateChanges"]

#: rows of keyed state tables: table name -> key -> the whole row, or None to delete the key
StateChanges = Mapping[str, Mapping[str, dict[str, Any] | None]]


class Journal:
    """Pending writes of the current engine step."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository
        self._batch = WriteBatch()
        self._new_parents: dict[str, ParentOrder] = {}
        self._dirty_parents: dict[str, ParentOrder] = {}
        self._new_children: dict[str, tuple[ChildOrder, str]] = {}
        self._dirty_children: dict[str, ChildOrder] = {}
        self.children_written = 0
        self.writes = 0  # transactions committed
        #: called at each flush for the state rows they changed since the last one (the paper
        #: venue's exchange state), written in the same transaction as the engine's rows
        self.state_sources: list[Callable[[], StateChanges | None]] = []
        #: called with each batch once it is committed (engine thread): readers of what was
        #: recorded (the alert feed). A tap must be quick and must not block or raise.
        self.taps: list[Callable[[WriteBatch], None]] = []

    def audit(self, ts: datetime, event: str, entity_id: str, payload: dict[str, Any],
              actor: str = "engine") -> None:
        """Record one audit row."""
        self._batch.audit.append({"ts": ts, "event": event, "entity_id": entity_id,
                                  "actor": actor, "payload": json_text(payload)})

    def session(self, row: dict[str, Any]) -> None:
        """Record a new execution session."""
        self._batch.sessions.append(
            {k: (json_text(v) if isinstance(v, dict | list) else v) for k, v in row.items()})

    def session_ended(self, session_id: str, ended_at: datetime) -> None:
        """Record that a session ended."""
        self._batch.session_updates.append({"session_id": session_id, "ended_at": ended_at})

    def parent_created(self, parent: ParentOrder) -> None:
        """Insert a parent order."""
        self._new_parents[parent.parent_id] = parent

    def parent_estimate(self, parent_id: str, computed_at: datetime,
                        estimate: dict[str, Any]) -> None:
        """Store the pre-trade estimate of a parent created in this step."""
        self._batch.parent_estimates.append({"parent_id": parent_id, "computed_at": computed_at,
                                             "estimate": json_text(estimate)})

    def parent_changed(self, parent: ParentOrder) -> None:
        """Update a parent order at flush time."""
        if parent.parent_id not in self._new_parents:
            self._dirty_parents[parent.parent_id] = parent

    def child_created(self, child: ChildOrder, tag: str) -> None:
        """Insert a child order."""
        self._new_children[child.client_order_id] = (child, tag)

    def child_changed(self, child: ChildOrder) -> None:
        """Update a child order at flush time."""
        if child.client_order_id not in self._new_children:
            self._dirty_children[child.client_order_id] = child

    def discard_child(self, client_order_id: str) -> None:
        """Forget a child created in this batch (it could not be stored, so it was never sent)."""
        self._new_children.pop(client_order_id, None)
        self._dirty_children.pop(client_order_id, None)
        self._batch.audit = [row for row in self._batch.audit
                             if row["entity_id"] != client_order_id]

    def fill(self, fill: Fill) -> None:
        """Insert a fill."""
        self._batch.fills.append(fill_row(fill))

    def risk_event(self, ts: datetime, kind: str, code: str, message: str, *,
                   symbol: str | None = None, entity_id: str | None = None,
                   actor: str = "engine", payload: dict[str, Any] | None = None) -> None:
        """Record a risk event (violation, breaker trip, trading-state change, kill, resume)."""
        self._batch.risk_events.append({
            "ts": ts, "kind": kind, "code": code, "symbol": symbol, "entity_id": entity_id,
            "actor": actor, "message": message, "payload": json_text(payload or {})})

    def state(self, table: str, key: str, row: dict[str, Any] | None) -> None:
        """Replace (or, with None, delete) the row ``key`` of a keyed state table at flush."""
        self._batch.state.setdefault(table, {})[key] = row

    def report(self, session_id: str, generated_at: datetime, report: dict[str, Any]) -> None:
        """Store an ExecutionReport."""
        self._batch.reports.append({"session_id": session_id, "generated_at": generated_at,
                                    "report": report})

    def equity_sample(self, row: dict[str, Any]) -> None:
        """Insert one equity and P&L sample (oms.engine.history shapes it)."""
        self._batch.equity_samples.append(row)

    def prune_equity(self, prune: EquityPrune) -> None:
        """Thin the equity history in this flush's transaction."""
        self._batch.equity_prune = prune

    @property
    def pending(self) -> bool:
        """True when rows wait for the next flush (the venue's state sources not counted)."""
        return bool(self._batch or self._new_parents or self._dirty_parents
                    or self._new_children or self._dirty_children)

    def flush(self) -> None:
        """Write everything pending in one transaction (PersistenceError leaves it pending)."""
        batch = self._batch
        for source in self.state_sources:
            for table, rows in (source() or {}).items():
                batch.state.setdefault(table, {}).update(rows)
        batch.parents = [parent_row(p) for p in self._new_parents.values()]
        batch.parent_updates = [parent_update(p) for p in self._dirty_parents.values()]
        batch.children = [child_row(c, tag) for c, tag in self._new_children.values()]
        batch.child_updates = [child_update(c) for c in self._dirty_children.values()]
        if batch:
            self.repository.write(batch)
            self.writes += 1
            for tap in self.taps:
                tap(batch)
        self.children_written += len(batch.children)
        self._batch = WriteBatch()
        self._new_parents.clear()
        self._dirty_parents.clear()
        self._new_children.clear()
        self._dirty_children.clear()
