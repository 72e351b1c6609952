"""The equity and P&L history (``equity_samples``): the thinning the engine's write applies and
the read-only queries behind the overview's chart.

The rule (``oms.engine.history`` decides when): a sample every few seconds of market time;
samples older than ``fine_before`` keep only the first of each minute (``minute_mark``); samples
older than ``keep_after`` are deleted. Both are plain DELETEs by the ``ts`` index, run in the
engine's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from oms.persistence.tables import EquitySampleRow

__all__ = ["EQUITY_TABLE", "MAX_CHART_POINTS", "EquityPrune", "EquitySample", "HistoryRange",
           "equity_history", "prune_equity"]

_TABLE: Any = EquitySampleRow.__table__
EQUITY_TABLE: Table = _TABLE
MAX_CHART_POINTS = 2_000  # what a chart shows of a range at most (evenly spaced, last kept)


class HistoryRange(StrEnum):
    """How far back the chart reads: this engine run, the market's UTC day, everything kept."""

    SESSION = "session"
    DAY = "day"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class EquityPrune:
    """One thinning: below ``fine_before`` keep minute marks only, below ``keep_after`` none."""

    fine_before: datetime
    keep_after: datetime


@dataclass(frozen=True, slots=True)
class EquitySample:
    """The account at one instant of market time."""

    ts: datetime
    equity: Decimal
    cash: Decimal
    pnl: Decimal


def prune_equity(session: Session, prune: EquityPrune) -> None:
    """Apply one thinning inside the caller's transaction."""
    session.execute(delete(EquitySampleRow).where(EquitySampleRow.ts < prune.fine_before,
                                                  EquitySampleRow.minute_mark.is_(False)))
    session.execute(delete(EquitySampleRow).where(EquitySampleRow.ts < prune.keep_after))


def _evenly(samples: list[EquitySample], limit: int) -> list[EquitySample]:
    """At most ``limit`` samples spread evenly over the list, the newest always among them."""
    if len(samples) <= limit:
        return samples
    step = len(samples) / (limit - 1)
    return [samples[int(i * step)] for i in range(limit - 1)] + [samples[-1]]


def equity_history(session: Session, span: HistoryRange, *,
                   limit: int = MAX_CHART_POINTS) -> list[EquitySample]:
    """The samples of ``span``, oldest first (at most ``limit``): SESSION is the newest engine
    run, DAY the UTC day of the newest sample (market time), ALL everything kept."""
    stmt = select(EquitySampleRow.ts, EquitySampleRow.equity, EquitySampleRow.cash,
                  EquitySampleRow.pnl)
    if span is HistoryRange.SESSION:
        run = session.scalar(select(func.max(EquitySampleRow.run_started_at)))
        if run is None:
            return []
        stmt = stmt.where(EquitySampleRow.run_started_at == run)
    elif span is HistoryRange.DAY:
        newest = session.scalar(select(EquitySampleRow.ts).order_by(EquitySampleRow.ts.desc())
                                .limit(1))
        if newest is None:
            return []
        midnight = datetime.combine(newest.date(), time(0), tzinfo=newest.tzinfo)
        stmt = stmt.where(EquitySampleRow.ts >= midnight)
    rows = session.execute(stmt.order_by(EquitySampleRow.ts, EquitySampleRow.id))
    return _evenly([EquitySample(r.ts, r.equity, r.cash, r.pnl) for r in rows], limit)
