"""/orders: parent and child blotters (AG Grid, filterable, paged server-side); select a parent
to see its children and fills, cancel it, or resubmit what a halt or a cancel left unfilled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, ctx, dcc, html

from components import ids
from components.blotter import (
    CHILD_COLUMNS,
    CHILD_OPTIONAL,
    PARENT_COLUMNS,
    PARENT_OPTIONAL,
    WORKING_ONLY,
    blotter,
    blotter_controls,
    child_grid_rows,
    columns_shown,
    empty_state,
    grid_query,
    parent_grid_rows,
    rows_response,
)
from components.context import current_actor, service
from components.format import fmt_bps, fmt_datetime, fmt_pct, fmt_price, fmt_qty, fmt_usd
from components.registry import clientside_callback, register_page
from components.tables import Column, section, table
from components.venue_panel import routing_table
from oms.errors import OmsError

__all__ = ["cancel_message", "cancel_parent", "child_columns", "child_rows", "layout",
           "parent_columns", "parent_detail", "parent_rows", "register", "resubmit_disabled",
           "resubmit_message", "resubmit_parent", "select_parent"]

_SHOW_ALL = "orders-show-all-children"
_RESUBMITTABLE = ("HALTED", "CANCELED", "FAILED")


def layout(**_query: Any) -> html.Div:
    """The orders page: parent blotter, selected parent with its fills, child blotter."""
    return html.Div(className="page page-orders", children=[
        dcc.Store(id=ids.SELECTED_PARENT),
        dcc.Store(id=ids.ORDERS_REFRESH),
        section("Parent orders", blotter(ids.PARENT_GRID, PARENT_COLUMNS, "parent_id",
                                         box_id=ids.PARENT_GRID_BOX,
                                         empty_id=ids.PARENT_GRID_EMPTY,
                                         optional=PARENT_OPTIONAL),
                extra=html.Div([
                    html.Span("click a row to see its children and fills · filter Symbol, "
                              "State, Session", className="muted"),
                    blotter_controls(ids.PARENT_COLUMNS_CHOICE, ids.PARENT_WORKING_ONLY,
                                     PARENT_COLUMNS, PARENT_OPTIONAL)],
                    className="panel-extra-row")),
        html.Div(className="grid-side-main", children=[
            section("Selected parent", html.Div([
                html.Div(html.Span("no parent selected: the child blotter shows all children",
                                   className="muted"), id=ids.PARENT_DETAIL),
                html.Div(className="buttons", children=[
                    # a cancel asks first (the kill switch stays one click)
                    dcc.ConfirmDialogProvider(
                        html.Button("Cancel parent", id=ids.CANCEL_PARENT, n_clicks=0,
                                    className="btn btn-warn", disabled=True),
                        id=ids.CANCEL_CONFIRM,
                        message="Cancel the selected parent and its working children?"),
                    dcc.ConfirmDialogProvider(
                        html.Button("Resubmit remaining", id=ids.RESUBMIT_PARENT, n_clicks=0,
                                    className="btn", disabled=True,
                                    title="a new parent for the unfilled rest of a halted, "
                                          "canceled or failed parent"),
                        id=ids.RESUBMIT_CONFIRM,
                        message="Resubmit the unfilled rest of the selected parent?"),
                    html.Button("Show all children", id=_SHOW_ALL, n_clicks=0,
                                className="btn btn-small"),
                ]),
                html.Div(id=ids.CANCEL_FEEDBACK, className="feedback-box"),
                html.Div(id=ids.RESUBMIT_FEEDBACK, className="feedback-box"),
            ])),
            section("Fills of the selected parent", html.Div(id=ids.PARENT_FILLS,
                                                              className="scroll-y")),
        ]),
        section("Child orders", blotter(ids.CHILD_GRID, CHILD_COLUMNS, "client_order_id",
                                        box_id=ids.CHILD_GRID_BOX, empty_id=ids.CHILD_GRID_EMPTY,
                                        optional=CHILD_OPTIONAL),
                extra=html.Div([
                    html.Span("filter Symbol, State, Parent", className="muted"),
                    blotter_controls(ids.CHILD_COLUMNS_CHOICE, ids.CHILD_WORKING_ONLY,
                                     CHILD_COLUMNS, CHILD_OPTIONAL)],
                    className="panel-extra-row")),
    ])


def parent_rows(request: dict[str, Any] | None,
                working: list[str] | None = None) -> tuple[dict[str, Any], str, str]:
    """One server-side page of parent orders for the grid, and the box's empty state."""
    if request is None:
        raise dash.exceptions.PreventUpdate
    working_only = WORKING_ONLY in (working or [])
    page = service().parent_orders(**grid_query(request, "parents", working_only=working_only))
    return (rows_response(parent_grid_rows(page.rows), page.total),
            *empty_state(page.total, request, noun="parent orders", working_only=working_only))


def child_rows(request: dict[str, Any] | None, selected: dict[str, str] | None,
               working: list[str] | None = None) -> tuple[dict[str, Any], str, str]:
    """One server-side page of child orders (of the selected parent, if any), and the box's
    empty state."""
    if request is None:
        raise dash.exceptions.PreventUpdate
    working_only = WORKING_ONLY in (working or [])
    query = grid_query(request, "children", {"parent_id": (selected or {}).get("parent_id", "")},
                       working_only=working_only)
    page = service().child_orders(**query)
    noun = "child orders of this parent" if (selected or {}).get("parent_id") else "child orders"
    return (rows_response(child_grid_rows(page.rows), page.total),
            *empty_state(page.total, request, noun=noun, working_only=working_only))


def parent_columns(shown: list[str] | None) -> list[dict[str, Any]]:
    """The parent blotter's columns with the chosen optional ones shown."""
    return columns_shown(PARENT_COLUMNS, PARENT_OPTIONAL, shown)


def child_columns(shown: list[str] | None) -> list[dict[str, Any]]:
    """The child blotter's columns with the chosen optional ones shown."""
    return columns_shown(CHILD_COLUMNS, CHILD_OPTIONAL, shown)


def select_parent(rows: list[dict[str, Any]] | None, _show_all: int | None) -> tuple[Any, Any]:
    """The selected parent's id and session (None shows all children)."""
    if ctx.triggered_id == _SHOW_ALL:
        return None, True
    if not rows:
        return None, dash.no_update
    return ({"parent_id": rows[0].get("parent_id"), "session_id": rows[0].get("session_id")},
            dash.no_update)


def _detail(row: dict[str, Any], links: dict[str, str]) -> html.Dl:
    linked = [(label, links[key]) for key, label in (("resubmitted_from", "Resubmitted from"),
                                                      ("resubmitted_as", "Resubmitted as"))
              if key in links]
    pairs = [("Parent", row["parent_id"]), ("Session", row["session_id"]),
             ("Symbol", f"{row['side']} {row['symbol']}"),
             ("Algo", f"{str(row['algo']).upper()}: {row.get('algo_reason') or ''}"),
             ("State", row["state"]),
             ("Filled", f"{fmt_qty(row['filled_quantity'])} / {fmt_qty(row['quantity'])} "
                        f"({fmt_pct(row['progress'])})"),
             ("Avg / arrival", f"{fmt_price(row['avg_price'])} / "
                               f"{fmt_price(row['arrival_price'])}"),
             ("Slippage", fmt_bps(row["slippage_bps"])), ("Fees USDT", fmt_usd(row["fees"])),
             ("Window", f"{row['duration_minutes']:g} min from "
                        f"{fmt_datetime(row.get('started_at') or row.get('created_at'))}"),
             ("Restarts", f"resumed {row['resumes']}× (last at "
                          f"{fmt_datetime(row['resumed_at'])})"
                          if row.get("resumes") else "none"),
             ("End", row.get("end_reason") or "—"), *linked]
    return html.Dl([item for k, v in pairs for item in (html.Dt(k), html.Dd(v))],
                   className="detail")


def parent_detail(selected: dict[str, str] | None, _n: int | None) -> tuple[Any, Any, bool]:
    """Detail and fills of the selected parent; the cancel button only for working parents."""
    if not selected or not selected.get("parent_id"):
        return (html.Span("no parent selected: the child blotter shows all children",
                          className="muted"), html.Span("—", className="muted"), True)
    parent_id = selected["parent_id"]
    oms_service = service()
    session_rows = oms_service.parent_orders(page=0, page_size=1000,
                                             session_id=selected.get("session_id")).rows
    found = [r for r in session_rows if r["parent_id"] == parent_id]
    if not found:
        return html.Span(f"{parent_id}: not in the database (yet)", className="muted"), None, True
    row = parent_grid_rows(found)[0]
    fills = oms_service.fills(parent_id=parent_id)
    fill_rows = [{"ts": fmt_datetime(f.ts), "qty": fmt_qty(f.quantity),
                  "price": fmt_price(f.price), "fee": fmt_usd(f.fee), "liq": str(f.liquidity),
                  "venue": f.venue, "coid": f.client_order_id} for f in reversed(fills[-200:])]
    fills_table = table([Column("Time", "ts"), Column("Qty", "qty", True),
                         Column("Price", "price", True), Column("Fee", "fee", True),
                         Column("Liq", "liq"), Column("Venue", "venue"),
                         Column("Child", "coid")], fill_rows, empty="no fills")
    routed = oms_service.routing_decisions(parent_id)
    body: Any = fills_table if not routed else html.Div([
        fills_table, html.H4("Routing", className="subhead"), routing_table(routed)])
    working = row["state"] in ("PENDING", "WORKING")
    return _detail(row, oms_service.resubmit_links(parent_id)), body, not working


def cancel_message(selected: dict[str, str] | None) -> str:
    """The question the cancel confirmation asks, naming the parent."""
    parent_id = (selected or {}).get("parent_id")
    if not parent_id:
        return "No parent selected."
    return (f"Cancel parent {parent_id} and its working children? Filled quantity stays; the "
            "unfilled rest is not sent.")


def cancel_parent(n_clicks: int | None, selected: dict[str, str] | None) -> Any:
    """Cancel the selected parent and its working children (once the trader confirmed)."""
    if not n_clicks or not selected or not selected.get("parent_id"):
        raise dash.exceptions.PreventUpdate
    parent_id = selected["parent_id"]
    try:
        service().cancel_parent(parent_id, actor=current_actor())
    except OmsError as exc:
        return html.Div(f"Cancel failed: {exc}", className="feedback feedback-error")
    return html.Div(f"Cancel requested for {parent_id}", className="feedback feedback-ok")


def resubmit_disabled(selected: dict[str, str] | None, _n: int | None) -> bool:
    """The resubmit button is enabled only for a HALTED, CANCELED or FAILED parent with an
    unfilled rest, not yet resubmitted, while trading is not HALTED (the engine re-checks)."""
    parent_id = (selected or {}).get("parent_id")
    if not parent_id:
        return True
    oms_service = service()
    if oms_service.gate.is_halted or str(oms_service.snapshot().trading_state) == "HALTED":
        return True
    rows = oms_service.parent_orders(page=0, page_size=1000,
                                     session_id=(selected or {}).get("session_id")).rows
    row = next((r for r in rows if r["parent_id"] == parent_id), None)
    if row is None or row["state"] not in _RESUBMITTABLE:
        return True
    if Decimal(str(row["filled_quantity"])) >= Decimal(str(row["quantity"])):
        return True
    return "resubmitted_as" in oms_service.resubmit_links(parent_id)


def resubmit_message(selected: dict[str, str] | None) -> str:
    """The question the resubmit confirmation asks, naming the parent."""
    parent_id = (selected or {}).get("parent_id")
    if not parent_id:
        return "No parent selected."
    return (f"Resubmit the unfilled rest of {parent_id} as a new parent (same symbol, side and "
            "algorithm, over the old horizon)? Every pre-trade check applies again.")


def resubmit_parent(n_clicks: int | None, selected: dict[str, str] | None) -> Any:
    """Start a new parent for the selected parent's unfilled rest (once confirmed)."""
    if not n_clicks or not selected or not selected.get("parent_id"):
        raise dash.exceptions.PreventUpdate
    parent_id = selected["parent_id"]
    try:
        result = service().resubmit_remaining(parent_id, actor=current_actor())
    except OmsError as exc:
        return html.Div(f"Resubmit failed: {exc}", className="feedback feedback-error")
    return html.Div(f"Resubmitted {parent_id} as {result.parent_ids[0]}",
                    className="feedback feedback-ok")


def register(app: dash.Dash) -> None:
    """Register the page and attach its callbacks to ``app``."""
    register_page(__name__, path="/orders", name="Orders", order=2,
                       title="Orders · DipMaster OMS", layout=layout)
    app.callback(Output(ids.PARENT_GRID, "getRowsResponse"),
                 Output(ids.PARENT_GRID_BOX, "className"),
                 Output(ids.PARENT_GRID_EMPTY, "children"),
                 Input(ids.PARENT_GRID, "getRowsRequest"),
                 State(ids.PARENT_WORKING_ONLY, "value"))(parent_rows)
    app.callback(Output(ids.CHILD_GRID, "getRowsResponse"),
                 Output(ids.CHILD_GRID_BOX, "className"),
                 Output(ids.CHILD_GRID_EMPTY, "children"),
                 Input(ids.CHILD_GRID, "getRowsRequest"),
                 State(ids.SELECTED_PARENT, "data"),
                 State(ids.CHILD_WORKING_ONLY, "value"))(child_rows)
    app.callback(Output(ids.PARENT_GRID, "columnDefs"),
                 Input(ids.PARENT_COLUMNS_CHOICE, "value"))(parent_columns)
    app.callback(Output(ids.CHILD_GRID, "columnDefs"),
                 Input(ids.CHILD_COLUMNS_CHOICE, "value"))(child_columns)
    app.callback(Output(ids.SELECTED_PARENT, "data"), Output(ids.PARENT_GRID, "deselectAll"),
                 Input(ids.PARENT_GRID, "selectedRows"), Input(_SHOW_ALL, "n_clicks"),
                 prevent_initial_call=True)(select_parent)
    app.callback(Output(ids.PARENT_DETAIL, "children"), Output(ids.PARENT_FILLS, "children"),
                 Output(ids.CANCEL_PARENT, "disabled"),
                 Input(ids.SELECTED_PARENT, "data"),
                 Input(ids.LIVE_INTERVAL, "n_intervals"))(parent_detail)
    app.callback(Output(ids.CANCEL_CONFIRM, "message"), Input(ids.SELECTED_PARENT, "data"))(
        cancel_message)
    app.callback(Output(ids.CANCEL_FEEDBACK, "children"),
                 Input(ids.CANCEL_CONFIRM, "submit_n_clicks"),
                 State(ids.SELECTED_PARENT, "data"), prevent_initial_call=True)(cancel_parent)
    app.callback(Output(ids.RESUBMIT_PARENT, "disabled"), Input(ids.SELECTED_PARENT, "data"),
                 Input(ids.LIVE_INTERVAL, "n_intervals"))(resubmit_disabled)
    app.callback(Output(ids.RESUBMIT_CONFIRM, "message"), Input(ids.SELECTED_PARENT, "data"))(
        resubmit_message)
    app.callback(Output(ids.RESUBMIT_FEEDBACK, "children"),
                 Input(ids.RESUBMIT_CONFIRM, "submit_n_clicks"),
                 State(ids.SELECTED_PARENT, "data"), prevent_initial_call=True)(resubmit_parent)
    clientside_callback(
        app, ClientsideFunction(namespace="oms", function_name="refreshGrids"),
        Output(ids.ORDERS_REFRESH, "data"), Input(ids.LIVE_INTERVAL, "n_intervals"),
        Input(ids.SELECTED_PARENT, "data"), Input(ids.PARENT_WORKING_ONLY, "value"),
        Input(ids.CHILD_WORKING_ONLY, "value"),
        State(ids.PARENT_GRID, "id"), State(ids.CHILD_GRID, "id"))
