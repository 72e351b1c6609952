"""/ Overview: equity and P&L, positions vs targets, working parents with progress, latest
fills, live slippage; refreshed every second from the latest engine snapshot. The P&L chart
starts from the stored history (a reload shows it) and is extended live."""

from __future__ import annotations

from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html

from components import ids
from components.context import service
from components.live import (
    equity_figure,
    equity_point,
    fills_panel,
    history_points,
    kpi_strip,
    parents_panel,
    positions_panel,
)
from components.registry import clientside_callback, register_page
from components.tables import section

__all__ = ["draw_equity", "layout", "record_equity", "refresh_overview", "register"]


def layout(**_query: Any) -> html.Div:
    """The overview page (panels filled by the live callback)."""
    return html.Div(className="page page-overview", children=[
        html.Div(id=ids.OVERVIEW_KPIS, className="kpis"),
        html.Div(className="grid-2", children=[
            html.Div(className="stack", children=[
                section("Positions vs targets", html.Div(id=ids.OVERVIEW_POSITIONS)),
                section("P&L (USDT, market time UTC)", dcc.Graph(
                    id=ids.OVERVIEW_EQUITY, figure=equity_figure([]),
                    config={"displayModeBar": False, "responsive": True},
                    style={"height": "150px"}),
                    extra=dcc.RadioItems(
                        id=ids.OVERVIEW_EQUITY_RANGE, value="session", inline=True,
                        className="range-choice",
                        options=[{"label": "session", "value": "session"},
                                 {"label": "day", "value": "day"},
                                 {"label": "all", "value": "all"}])),
            ]),
            section("Latest fills", html.Div(id=ids.OVERVIEW_FILLS)),
        ]),
        section("Parent orders", html.Div(id=ids.OVERVIEW_PARENTS),
                extra=dash.dcc.Link("all orders →", href="/orders")),
    ])


def refresh_overview(_n: int | None) -> tuple[Any, Any, Any, Any]:
    """Live refresh: KPIs, positions, working parents, fills (one snapshot read)."""
    snap = service().snapshot()
    return kpi_strip(snap), positions_panel(snap), parents_panel(snap), fills_panel(snap)


def record_equity(_n: int | None) -> dict[str, Any]:
    """The latest P&L sample; the browser keeps the history (no server-side state)."""
    return equity_point(service().snapshot())


def draw_equity(span: str | None) -> Any:
    """The P&L chart from the database (this engine run, the market day or everything), drawn
    when the page mounts or the range changes, then extended point by point in the browser."""
    return equity_figure(history_points(service().equity_history(span or "session")))


def register(app: dash.Dash) -> None:
    """Register the page and attach its callbacks to ``app``."""
    register_page(__name__, path="/", name="Overview", title="Overview · DipMaster OMS",
                       order=0, layout=layout)
    app.callback(Output(ids.OVERVIEW_KPIS, "children"), Output(ids.OVERVIEW_POSITIONS, "children"),
                 Output(ids.OVERVIEW_PARENTS, "children"), Output(ids.OVERVIEW_FILLS, "children"),
                 Input(ids.LIVE_INTERVAL, "n_intervals"))(refresh_overview)
    app.callback(Output(ids.EQUITY_POINT, "data"),
                 Input(ids.LIVE_INTERVAL, "n_intervals"))(record_equity)
    app.callback(Output(ids.OVERVIEW_EQUITY, "figure"),
                 Input(ids.OVERVIEW_EQUITY_RANGE, "value"))(draw_equity)
    clientside_callback(app, ClientsideFunction(namespace="oms", function_name="extendPnl"),
                        Output(ids.OVERVIEW_EQUITY, "extendData"),
                        Input(ids.EQUITY_POINT, "data"), State(ids.OVERVIEW_EQUITY, "id"))

