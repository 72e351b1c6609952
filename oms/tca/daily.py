"""Daily summary over stored ExecutionReports: per UTC day, orders, notional, cost, worst parents.

Works on report dicts alone (as stored in execution_reports), so it needs no engine. A parent
belongs to the UTC day it started (its decision time when it never started); its costs come from
``costs_usd`` (report extras), falling back to ``tca.total_cost_bps`` times its decision notional.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from oms.tca.measures import BPS, safe_ratio

__all__ = ["WORST_PARENTS_PER_DAY", "daily_summary"]

WORST_PARENTS_PER_DAY = 3


@dataclass(slots=True)
class _Day:
    sessions: set[str] = field(default_factory=set)
    orders: int = 0
    child_orders: int = 0
    fills: int = 0
    notional_usd: float = 0.0
    decision_notional_usd: float = 0.0
    cost_usd: float = 0.0
    fees_usd: float = 0.0
    parents: list[dict[str, Any]] = field(default_factory=list)


def _day_of(parent: dict[str, Any], report: dict[str, Any]) -> str:
    stamp = parent.get("start") or parent.get("decision_time") or report.get("started_at")
    stamp = stamp or report.get("generated_at")
    if not stamp:
        return "unknown"
    return datetime.fromisoformat(str(stamp)).date().isoformat()


def _decision_notional(parent: dict[str, Any]) -> float:
    costs = parent.get("costs_usd") or {}
    if "decision_notional" in costs:
        return float(costs["decision_notional"])
    price = parent.get("decision_price") or parent.get("arrival_price") or 0.0
    return float(parent.get("quantity") or 0.0) * float(price)


def _cost_usd(parent: dict[str, Any], notional: float) -> float:
    costs = parent.get("costs_usd") or {}
    if "total" in costs:
        return float(costs["total"])
    return float(parent.get("tca", {}).get("total_cost_bps") or 0.0) * notional / BPS


def daily_summary(reports: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per UTC day, oldest first: sessions, orders, child orders, fills, filled notional,
    cost in USD and in bps of the decision notional, fees, and the worst parents by cost bps."""
    days: dict[str, _Day] = {}
    for report in reports:
        session_id = str(report.get("session_id", ""))
        for parent in report.get("parents", []):
            day = days.setdefault(_day_of(parent, report), _Day())
            notional = _decision_notional(parent)
            cost = _cost_usd(parent, notional)
            day.sessions.add(session_id)
            day.orders += 1
            day.child_orders += int(parent.get("child_orders") or 0)
            day.fills += len(parent.get("fills", []))
            day.notional_usd += float(parent.get("filled_notional_usd") or 0.0)
            day.decision_notional_usd += notional
            day.cost_usd += cost
            day.fees_usd += float((parent.get("costs_usd") or {}).get("fees") or 0.0)
            day.parents.append(
                {
                    "session_id": session_id,
                    "parent_id": parent.get("parent_id"),
                    "symbol": parent.get("symbol"),
                    "side": parent.get("side"),
                    "algo": parent.get("algo"),
                    "total_cost_bps": float(parent.get("tca", {}).get("total_cost_bps") or 0.0),
                    "total_cost_usd": cost,
                }
            )
    rows = []
    for name in sorted(days):
        day = days[name]
        worst = sorted(day.parents, key=lambda p: p["total_cost_bps"], reverse=True)
        rows.append(
            {
                "day": name,
                "sessions": len(day.sessions),
                "orders": day.orders,
                "child_orders": day.child_orders,
                "fills": day.fills,
                "notional_usd": day.notional_usd,
                "decision_notional_usd": day.decision_notional_usd,
                "cost_usd": day.cost_usd,
                "cost_bps": safe_ratio(day.cost_usd, day.decision_notional_usd) * BPS,
                "fees_usd": day.fees_usd,
                "worst_parents": worst[:WORST_PARENTS_PER_DAY],
            }
        )
    return rows
