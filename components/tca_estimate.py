"""Estimate vs realised on the TCA page: per parent, the pre-trade estimate stored when the
engine created it beside what the execution cost (the report's ``estimate`` block,
oms.tca.estimate_check), as a table whose headers define each column on hover and a chart of
the expected range (error bar) and the realised cost (dot). Pure functions of the report."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import html

from components.format import fmt_usd, to_float
from components.tables import Column, table
from components.tca_charts import chart_layout, empty_figure
from components.tca_glossary import ESTIMATE_HINTS

__all__ = ["ESTIMATE_COLUMNS", "NO_ESTIMATE", "estimate_chart", "estimate_rows",
           "estimate_table"]

NO_ESTIMATE = "no estimate"
_H = ESTIMATE_HINTS
ESTIMATE_COLUMNS = [
    Column("Symbol", "symbol", hint=_H["symbol"]), Column("Side", "side", hint=_H["side"]),
    Column("Expected bps ±1 SD", "expected", True, _H["expected"]),
    Column("Realised bps", "realised", True, _H["realised"]),
    Column("Diff bps", "difference", True, _H["difference"]),
    Column("Spread+impact exp / arrival", "execution", True, _H["execution"]),
    Column("Fees USD exp / paid", "fees", True, _H["fees"]),
    Column("Children plan / sent", "children", True, _H["children"]),
    Column("±1 SD", "within", hint=_H["within"]),
]


def _bps(value: Any) -> str:
    """bps with one decimal and its sign (+ = cost); an em dash when unknown."""
    number = to_float(value)
    return "—" if number is None else f"{number:+.1f}"


def _parents(report: dict[str, Any], parent_id: str | None) -> list[dict[str, Any]]:
    parents = [p for p in report.get("parents") or [] if isinstance(p, dict)]
    return [p for p in parents if p.get("parent_id") == parent_id] if parent_id else parents


def _missing(parent: dict[str, Any]) -> str:
    """Why a parent has no estimate: its report predates estimates, or it had no quote."""
    if "estimate" not in parent:
        return f"{NO_ESTIMATE} (report written before estimates were kept)"
    return f"{NO_ESTIMATE} (no quote when the parent was created)"


def _marker(within: Any) -> html.Span:
    if within is None:
        return html.Span("— (nothing filled)", className="muted")
    return (html.Span("✓ within", className="pos") if within
            else html.Span("✗ outside", className="neg"))


def estimate_rows(report: dict[str, Any], parent_id: str | None = None) -> list[dict[str, Any]]:
    """One table row per parent of the selection (a parent without an estimate says why)."""
    rows: list[dict[str, Any]] = []
    for parent in _parents(report, parent_id):
        side = str(parent.get("side", ""))
        row: dict[str, Any] = {"symbol": parent.get("symbol", ""),
                               "side": html.Span(side, className=f"side-{side.lower()}")}
        block = parent.get("estimate")
        if not isinstance(block, dict):
            rows.append({**row, "expected": html.Span(_missing(parent), className="muted")})
            continue
        expected, realised = block.get("expected") or {}, block.get("realised") or {}
        low, high = (expected.get("range_1sd_bps") or [None, None])[:2]
        planned = f"{expected.get('planned_children', '—')}" + (
            "" if expected.get("schedule_exact", True) else " (est.)")
        rows.append({
            **row,
            "expected": html.Span([f"{_bps(expected.get('total_bps'))} ± "
                                   f"{abs(to_float(expected.get('sd_bps')) or 0.0):.1f}",
                                   html.Br(), html.Span(f"{_bps(low)} to {_bps(high)}",
                                                        className="muted")]),
            "realised": _bps(realised.get("shortfall_bps")),
            "difference": _bps(block.get("difference_bps")),
            "execution": f"{_bps(expected.get('execution_bps'))} / "
                         f"{_bps(realised.get('arrival_slippage_bps'))}",
            "fees": f"{fmt_usd(expected.get('fees_usd'))} / {fmt_usd(realised.get('fees_usd'))}",
            "children": f"{planned} / {realised.get('children_sent', '—')}",
            "within": _marker(block.get("within_1sd")),
            "_class": "row-warn" if block.get("within_1sd") is False else None,
        })
    return rows


def estimate_table(report: dict[str, Any], parent_id: str | None = None) -> html.Div:
    """The estimate-vs-realised table of the selection, with a line on how to read it."""
    return html.Div([
        html.Div(table(ESTIMATE_COLUMNS, estimate_rows(report, parent_id),
                       empty="no parents in this report", table_id="tca-estimate-rows"),
                 className="table-scroll"),
        html.Div("bps of the notional at the mid when each parent was created; + = cost. "
                 "Expected: the pre-trade estimate stored then (as the preview shows it). "
                 "Realised: the implementation shortfall, fees included. Hover a header for "
                 "its definition.", className="muted panel-note"),
    ])


def estimate_chart(report: dict[str, Any], parent_id: str | None = None) -> go.Figure:
    """Per parent: the expected cost with its ± 1 SD range as an error bar, the realised
    shortfall as a dot (green inside the range, red outside)."""
    points = [(p, p["estimate"]) for p in _parents(report, parent_id)
              if isinstance(p.get("estimate"), dict)]
    if not points:
        return empty_figure("no estimate for these parents")
    labels = [f"{p.get('symbol')} {p.get('side')}<br>{p.get('parent_id')}" for p, _ in points]
    expected = [to_float(b["expected"].get("total_bps")) for _, b in points]
    spread = [abs(to_float(b["expected"].get("sd_bps")) or 0.0) for _, b in points]
    realised = [to_float(b["realised"].get("shortfall_bps")) for _, b in points]
    colours = ["#8391a3" if b.get("within_1sd") is None else
               "#2fcc71" if b.get("within_1sd") else "#ff6b6b" for _, b in points]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=labels, y=expected, mode="markers", name="expected ± 1 SD",
        marker={"symbol": "line-ew-open", "size": 22, "color": "#4da3ff",
                "line": {"width": 2}},
        error_y={"type": "data", "array": spread, "visible": True, "color": "#4da3ff",
                 "thickness": 2, "width": 10},
        hovertemplate="expected %{y:+.1f} ± %{error_y.array:.1f} bps<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=labels, y=realised, mode="markers",
        name="realised (shortfall, fees incl.; red: outside ±1 SD)",
        marker={"size": 11, "color": colours, "line": {"width": 1, "color": "#121820"}},
        hovertemplate="realised %{y:+.1f} bps<extra></extra>"))
    chart_layout(fig, "bps, + = cost")
    fig.update_xaxes(range=[-0.5, len(points) - 0.5])  # half a slot of margin on each side
    fig.update_yaxes(title={"text": "bps", "font": {"size": 11}}, zeroline=True)
    return fig
