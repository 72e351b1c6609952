"""The pre-trade estimates stored with the parents (``parent_estimates``): the table the
engine's write batch fills and the read-only query the ExecutionReport uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select

from oms.persistence.database import Database
from oms.persistence.tables import ParentEstimateRow

__all__ = ["ESTIMATE_TABLE", "parent_estimates"]

_TABLE: Any = ParentEstimateRow.__table__
ESTIMATE_TABLE: Table = _TABLE
_CHUNK = 500  # parent ids per IN (...) (SQLite's parameter limit)


def parent_estimates(db: Database, parent_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """parent id -> its stored estimate, for the parents that have one."""
    out: dict[str, dict[str, Any]] = {}
    ids = list(parent_ids)
    with db.session() as session:
        for start in range(0, len(ids), _CHUNK):
            rows = session.execute(
                select(ParentEstimateRow.parent_id, ParentEstimateRow.estimate).where(
                    ParentEstimateRow.parent_id.in_(ids[start:start + _CHUNK])))
            out.update({parent_id: dict(estimate) for parent_id, estimate in rows})
    return out
