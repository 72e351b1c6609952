"""The risk page's venue panel: one row per venue of a routed set (health, the quote asset it
holds, exposure against its limit, share of the filled notional)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import html

from components.format import fmt_datetime, fmt_usd
from components.tables import Column, progress_bar, table
from oms.snapshot import VenueView

__all__ = ["routing_table", "venues_table"]

_COLUMNS = [Column("Venue", "name"), Column("Health", "health"), Column("Status", "status"),
            Column("USDT free / total", "balance", True), Column("Exposure vs limit", "exposure"),
            Column("Share of flow", "share", True)]


def _exposure(view: VenueView) -> html.Div | str:
    exposure = float(view.exposure_usd)
    if view.limit_usd is None or view.limit_usd <= 0:
        return f"{fmt_usd(exposure)} (no limit)"
    fraction = exposure / float(view.limit_usd)
    kind = "bad" if fraction > 0.9 else "warn" if fraction > 0.75 else "ok"
    return progress_bar(fraction, f"{fmt_usd(exposure)} / {fmt_usd(float(view.limit_usd))}",
                        kind=f"usage-{kind}")


def venues_table(views: Sequence[VenueView], venue: str) -> html.Div:
    """The panel; with one venue (no routing), a line naming it."""
    if not views:
        return html.Div(f"one venue: {venue} (route across several with --venues, "
                        "OMS_ROUTING__VENUES)", className="muted")
    rows = [{
        "_class": None if v.healthy else "row-active",
        "name": v.name,
        "health": html.Span("HEALTHY" if v.healthy else "UNHEALTHY",
                            className=f"st st-{'completed' if v.healthy else 'halted'}"),
        "status": v.status,
        "balance": f"{fmt_usd(float(v.quote_free))} / {fmt_usd(float(v.quote_total))}",
        "exposure": _exposure(v),
        "share": f"{v.share * 100:.1f}%",
    } for v in views]
    return html.Div(table(_COLUMNS, rows, empty="no venues", table_id="venue-table"))


def _considered(decision: dict[str, Any]) -> str:
    parts = []
    for cost in decision.get("considered") or []:
        total = cost.get("total_bps")
        shown = f"{total:.1f} bps" if isinstance(total, int | float) else "n/a"
        parts.append(f"{cost.get('venue')} {shown}" if cost.get("eligible")
                     else f"{cost.get('venue')} excluded ({cost.get('reason')})")
    return " · ".join(parts)


def routing_table(decisions: Sequence[dict[str, Any]]) -> html.Table:
    """A parent's routing decisions: per child the venue, the expected all-in cost, the venues
    considered with theirs, and the router's reason."""
    rows = [{
        "ts": fmt_datetime(d.get("ts")), "coid": d.get("client_order_id"),
        "venue": d.get("venue") or "none",
        "expected": (f"{d['expected_cost_bps']:.1f}"
                     if isinstance(d.get("expected_cost_bps"), int | float) else "—"),
        "considered": _considered(d), "reason": d.get("reason", ""),
    } for d in decisions]
    return table([Column("Time", "ts"), Column("Child", "coid"), Column("Venue", "venue"),
                  Column("Expected bps", "expected", True), Column("Considered", "considered"),
                  Column("Reason", "reason")], rows, empty="not routed")
