"""Small dense HTML tables, KPI cards and progress bars (for panels of a few dozen rows; the
blotters use AG Grid with server-side paging instead)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dash import html

__all__ = ["Column", "kpi", "progress_bar", "section", "table"]


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: header, row key, alignment (``num`` right-aligns), and ``hint``, the
    header's hover text (what the column means)."""

    header: str
    key: str
    num: bool = False
    hint: str | None = None


def _header(column: Column) -> html.Th:
    kwargs: dict[str, Any] = {"title": column.hint} if column.hint else {}
    return html.Th(column.header, className="num" if column.num else None, **kwargs)


def table(columns: Sequence[Column], rows: Sequence[dict[str, Any]], *, empty: str = "none",
          row_class: str | None = None, table_id: str | None = None) -> html.Table:
    """A dense table; a row may carry ``_class`` (CSS class); cells may be components."""
    head = html.Thead(html.Tr([_header(c) for c in columns]))
    body_rows = [
        html.Tr([html.Td(row.get(c.key, ""), className="num" if c.num else None)
                 for c in columns], className=row.get("_class", row_class))
        for row in rows
    ]
    if not body_rows:
        body_rows = [html.Tr(html.Td(empty, colSpan=len(columns), className="empty"))]
    kwargs: dict[str, Any] = {"id": table_id} if table_id else {}
    return html.Table([head, html.Tbody(body_rows)], className="dense", **kwargs)


def progress_bar(fraction: float, label: str, *, kind: str = "qty") -> html.Div:
    """A thin bar filled to ``fraction`` (0..1) with ``label`` over it."""
    width = max(0.0, min(1.0, fraction)) * 100
    return html.Div([html.Div(className=f"bar-fill bar-{kind}", style={"width": f"{width:.1f}%"}),
                     html.Span(label, className="bar-label")], className="bar")


def kpi(label: str, value: str, *, tone: str = "", kpi_id: str | None = None,
        hint: str | None = None) -> html.Div:
    """One figure with its label (``tone``: pos, neg, warn or empty); ``hint`` is its hover
    text (what the figure measures)."""
    kwargs: dict[str, Any] = {"id": kpi_id} if kpi_id else {}
    if hint:
        kwargs["title"] = hint
    return html.Div([html.Div(label, className="kpi-label"),
                     html.Div(value, className=f"kpi-value {tone}".strip())],
                    className="kpi", **kwargs)


def section(title: str, body: Any, *, extra: Any = None, class_name: str = "") -> html.Section:
    """A titled panel."""
    head = html.Div([html.H3(title), html.Div(extra, className="panel-extra")],
                    className="panel-head")
    return html.Section([head, html.Div(body, className="panel-body")],
                        className=f"panel {class_name}".strip())
