"""Risk page panels: limit usage bars, the breaker table, the risk-event log rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from components.format import fmt_time, fmt_usd, to_float
from components.tables import Column, progress_bar, table

__all__ = ["BREAKER_UNITS", "RISK_EVENT_COLUMNS", "USAGE_LABELS", "breakers_table",
           "risk_event_rows", "usage_bars"]

BREAKER_UNITS = {"high_slippage": "bps", "high_rejection": "%", "high_latency": "ms",
                 "market_stress": "bps"}
USAGE_LABELS = {"position": ("Largest position", "USD"), "exposure": ("Gross exposure", "USD"),
                "daily_loss": ("Daily loss", "USD"), "order_rate": ("Order rate", "/min")}


def usage_bars(usage: dict[str, dict[str, float]]) -> html.Div:
    """One bar per limit: value / limit, amber above 75 %, red above 90 %."""
    rows = []
    for key, (label, unit) in USAGE_LABELS.items():
        item = usage.get(key) or {}
        value, limit = to_float(item.get("value")) or 0.0, to_float(item.get("limit")) or 0.0
        fraction = value / limit if limit > 0 else 0.0
        kind = "bad" if fraction > 0.9 else "warn" if fraction > 0.75 else "ok"
        digits = 0 if unit == "/min" else 2
        text = f"{fmt_usd(value, decimals=digits)} / {fmt_usd(limit, decimals=digits)} {unit}"
        rows.append(html.Div([
            html.Div([html.Span(label, className="usage-label"),
                      html.Span(f"{fraction * 100:.0f}%", className=f"usage-pct usage-{kind}")],
                     className="usage-head"),
            progress_bar(fraction, text, kind=f"usage-{kind}"),
        ], className="usage-row", id=f"risk-usage-{key.replace('_', '-')}"))
    return html.Div(rows, className="usage")


def breakers_table(breakers: dict[str, dict[str, Any]]) -> html.Table:
    """The four breakers: state, rule, occurrences in the window, last trip and its reason."""
    rows = []
    for name, info in breakers.items():
        state = str(info.get("state", "ARMED"))
        tone = "completed" if state == "ARMED" else "halted"
        rows.append({
            "_class": "row-active" if state != "ARMED" else None,
            "name": name.replace("_", " "),
            "state": html.Span(state, className=f"st st-{tone}"),
            "rule": f"> {to_float(info.get('threshold')) or 0:g} {BREAKER_UNITS.get(name, '')}"
                    f", {info.get('count')}× in {to_float(info.get('window_s')) or 0:g} s",
            "seen": f"{info.get('occurrences_in_window', 0)} / {info.get('count')}",
            "action": info.get("action", ""),
            "last": fmt_time(info.get("last_trip_at")) if info.get("last_trip_at") else "never",
            "reason": info.get("last_reason") or "—",
        })
    columns = [Column("Breaker", "name"), Column("State", "state"), Column("Rule", "rule"),
               Column("In window", "seen", True), Column("Action", "action"),
               Column("Last trip", "last"), Column("Reason", "reason")]
    return table(columns, rows, empty="no breaker data")


RISK_EVENT_COLUMNS = [
    {"field": "time", "headerName": "Time", "width": 140, "sort": "desc"},
    {"field": "kind", "headerName": "Kind", "width": 130, "filter": True},
    {"field": "code", "headerName": "Code", "width": 190, "filter": True},
    {"field": "symbol", "headerName": "Symbol", "width": 100, "filter": True},
    {"field": "actor", "headerName": "Actor", "width": 150, "filter": True},
    {"field": "entity_id", "headerName": "Entity", "width": 170},
    {"field": "message", "headerName": "Message", "flex": 1, "minWidth": 300,
     "tooltipField": "message", "filter": True},
]


def risk_event_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Repository risk events -> grid rows."""
    rows = []
    for event in events:
        ts = event.get("ts")
        rows.append({"id": event.get("id"),
                     "time": ts.strftime("%m-%d %H:%M:%S") if isinstance(ts, datetime) else ts,
                     "kind": event.get("kind"), "code": event.get("code"),
                     "symbol": event.get("symbol") or "", "actor": event.get("actor"),
                     "entity_id": event.get("entity_id") or "",
                     "message": event.get("message")})
    return rows
