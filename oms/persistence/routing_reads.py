"""The routing decisions of a parent's children (``ChildRouted`` audit rows), for its detail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.persistence.tables import AuditRow, ChildOrderRow

__all__ = ["routing_decisions"]


def routing_decisions(s: Session, parent_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """``{"client_order_id", "ts", **decision}`` of the parent's routed children, newest first
    (empty for a parent on one venue)."""
    children = select(ChildOrderRow.client_order_id).where(ChildOrderRow.parent_id == parent_id)
    rows = s.scalars(select(AuditRow).where(AuditRow.event == "ChildRouted",
                                            AuditRow.entity_id.in_(children))
                     .order_by(AuditRow.id.desc()).limit(limit))
    return [{"client_order_id": r.entity_id, "ts": r.ts, **dict(r.payload)} for r in rows]
