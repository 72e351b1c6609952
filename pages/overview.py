"""/ Overview: equity and P&L, positions vs targets, working parents with progress, latest
fills, live slippage; refreshed every second from the latest engine snapshot."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from components import ids
from components.context import service
from components.live import (
    append_equity,
    equity_figure,
    fills_panel,
    kpi_strip,
    parents_panel,
    positions_panel,
)
from components.registry import register_page
from components.tables import section

__all__ = ["draw_equity", "layout", "record_equity", "refresh_overview", "register"]


def layout(**_query: Any) -> html.Div:
    """The overview page (panels filled by the live callback)."""
    return html.Div(className="page page-overview", children=[
        html.Div(id=ids.OVERVIEW_KPIS, className="kpis"),
        section("P&L (USDT, market time)", dcc.Graph(
            id=ids.OVERVIEW_EQUITY, figure=equity_figure([]),
            config={"displayModeBar": False, "responsive": True}, style={"height": "150px"})),
        html.Div(className="grid-2", children=[
            section("Positions vs targets", html.Div(id=ids.OVERVIEW_POSITIONS)),
            section("Latest fills", html.Div(id=ids.OVERVIEW_FILLS)),
        ]),
        section("Parent orders", html.Div(id=ids.OVERVIEW_PARENTS),
                extra=dash.dcc.Link("all orders →", href="/orders")),
    ])


def refresh_overview(_n: int | None) -> tuple[Any, Any, Any, Any]:
    """Live refresh: KPIs, positions, working parents, fills (one snapshot read)."""
    snap = service().snapshot()
    return kpi_strip(snap), positions_panel(snap), parents_panel(snap), fills_panel(snap)


def record_equity(_n: int | None, history: list[dict[str, Any]] | None
                  ) -> list[dict[str, Any]]:
    """Append the latest P&L to the browser-side history (no server-side state)."""
    return append_equity(history, service().snapshot())


def draw_equity(history: list[dict[str, Any]] | None) -> Any:
    """The P&L chart from the history."""
    return equity_figure(history)


def register(app: dash.Dash) -> None:
    """Register the page and attach its callbacks to ``app``."""
    register_page(__name__, path="/", name="Overview", title="Overview · DipMaster OMS",
                       order=0, layout=layout)
    app.callback(Output(ids.OVERVIEW_KPIS, "children"), Output(ids.OVERVIEW_POSITIONS, "children"),
                 Output(ids.OVERVIEW_PARENTS, "children"), Output(ids.OVERVIEW_FILLS, "children"),
                 Input(ids.LIVE_INTERVAL, "n_intervals"))(refresh_overview)
    app.callback(Output(ids.EQUITY_HISTORY, "data"), Input(ids.LIVE_INTERVAL, "n_intervals"),
                 State(ids.EQUITY_HISTORY, "data"))(record_equity)
    app.callback(Output(ids.OVERVIEW_EQUITY, "figure"),
                 Input(ids.EQUITY_HISTORY, "data"))(draw_equity)
