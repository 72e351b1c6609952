"""/risk: limit usage bars, the four breakers with state and last trip (re-arm with a reason),
running reconciliation (open mismatches: adopt, cancel at venue, ignore with a reason), the
violations log, and the kill switch (in the frame) with resume-with-reason."""

from __future__ import annotations

import logging
from typing import Any

import dash
import dash_ag_grid as dag
from dash import ALL, Input, Output, State, ctx, dcc, html

from components import ids
from components.context import current_actor, service
from components.reconcile_panel import mismatch_signature, mismatch_table, reconcile_status
from components.registry import register_page
from components.risk_panels import RISK_EVENT_COLUMNS, breakers_table, risk_event_rows, usage_bars
from components.tables import section
from components.venue_panel import venues_table
from oms.errors import OmsError, ValidationError

__all__ = ["layout", "refresh_reconciliation", "refresh_risk", "refresh_violations",
           "register", "resolve_mismatch", "resume_or_reset"]

log = logging.getLogger(__name__)


def layout(**_query: Any) -> html.Div:
    """The risk page."""
    controls = html.Div(className="form", children=[
        html.Div("The KILL SWITCH (top right, on every page) halts at once and cancels every "
                 "working order. Resuming needs a reason and re-armed breakers.",
                 className="muted"),
        html.Label([html.Span("Reason (required)", className="field-label"),
                    dcc.Input(id=ids.RESUME_REASON, type="text", value="", debounce=False,
                              placeholder="e.g. venue back to normal, checked positions",
                              className="input", maxLength=500)], className="field"),
        html.Div(className="buttons", children=[
            html.Button("Resume trading", id=ids.RESUME_TRADING, n_clicks=0,
                        className="btn btn-primary"),
            dcc.Dropdown(id=ids.BREAKER_RESET_NAME, className="dropdown breaker-pick",
                         options=[{"label": n.replace("_", " "), "value": n}
                                  for n in ids.BREAKER_IDS], placeholder="breaker to re-arm",
                         clearable=True),
            html.Button("Re-arm breaker", id=ids.BREAKER_RESET, n_clicks=0, className="btn"),
        ]),
        html.Div(id=ids.RISK_FEEDBACK, className="feedback-box"),
    ])
    grid = dag.AgGrid(
        id=ids.RISK_VIOLATIONS_GRID, rowData=[], columnDefs=RISK_EVENT_COLUMNS,
        getRowId="rowId(params, 'id')",  # a string (AG Grid warning #25): assets/oms.js
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={"pagination": True, "paginationPageSize": 50, "rowHeight": 26,
                         "headerHeight": 28, "animateRows": False, "suppressCellFocus": True,
                         "paginationPageSizeSelector": False, "tooltipShowDelay": 300,
                         "theme": {"function": "omsTheme(themeQuartz)"}},
        className="blotter", style={"height": "360px", "width": "100%"})
    return html.Div(className="page page-risk", children=[
        html.Div(className="grid-2", children=[
            section("Limit usage", html.Div(id=ids.RISK_USAGE)),
            section("Trading control", controls),
        ]),
        section("Circuit breakers", html.Div(id=ids.RISK_BREAKERS)),
        section("Venues", html.Div(id=ids.RISK_VENUES),
                extra=html.Span("health · balance · exposure vs limit · share of flow",
                                className="muted")),
        section("Reconciliation", _reconciliation_body(),
                extra=html.Span("the OMS against the venue: open orders and balances",
                                className="muted")),
        section("Violations and risk events", grid,
                extra=html.Span("newest first · last 500", className="muted")),
    ])


def _reconciliation_body() -> html.Div:
    return html.Div([
        html.Div(id=ids.RECONCILE_STATUS),
        html.Div(id=ids.RECONCILE_MISMATCHES),
        dcc.Store(id=ids.RECONCILE_SHOWN, data=None),
        html.Label([html.Span("Reason (required to ignore)", className="field-label"),
                    dcc.Input(id=ids.RECONCILE_REASON, type="text", value="", debounce=False,
                              placeholder="e.g. manual order placed by the desk, checked",
                              className="input", maxLength=500)], className="field"),
        html.Div(id=ids.RECONCILE_FEEDBACK, className="feedback-box"),
    ], className="form")


def refresh_reconciliation(_n: int | None, shown: list[list[str]] | None) -> tuple[Any, Any, Any]:
    """Live refresh: the status line always, the mismatch table only when it changed (so a
    button is not replaced under the pointer)."""
    view = service().reconciliation()
    signature = mismatch_signature(view)
    if shown is not None and shown == signature:
        return reconcile_status(view), dash.no_update, dash.no_update
    return reconcile_status(view), mismatch_table(view), signature


def resolve_mismatch(_clicks: list[int | None] | None, reason: str | None) -> Any:
    """One mismatch's action button: adopt, cancel at venue, or ignore (with the reason)."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or trigger.get("type") != ids.RECONCILE_ACTION:
        raise dash.exceptions.PreventUpdate
    if not (ctx.triggered and ctx.triggered[0].get("value")):
        raise dash.exceptions.PreventUpdate  # a button (re)rendered, not clicked
    actor = current_actor()
    mismatch_id, action = trigger.get("mismatch"), trigger.get("action")
    try:
        result = service().resolve_mismatch(mismatch_id, action, reason, actor=actor)
    except ValidationError as exc:
        return html.Div("; ".join(f"{e.field}: {e.message}" for e in exc.errors),
                        className="feedback feedback-error")
    except OmsError as exc:
        return html.Div(str(exc), className="feedback feedback-error")
    log.warning("reconciliation %s %s by %s: %s", mismatch_id, action, actor, reason)
    return html.Div(f"{result['mismatch_id']} ({result['kind']} {result['subject']}) "
                    f"{result['action']} by {actor}: {result['result']}",
                    className="feedback feedback-ok")


def refresh_risk(_n: int | None) -> tuple[Any, Any, Any]:
    """Live refresh: limit usage, breakers and venues from the latest snapshot."""
    snap = service().snapshot()
    return (usage_bars(snap.risk_usage), breakers_table(snap.breakers),
            venues_table(snap.venues, snap.venue))


def refresh_violations(_n: int | None, shown: list[dict[str, Any]] | None) -> Any:
    """The risk-event log (only sent again when something new was logged)."""
    rows = risk_event_rows(service().risk_events(limit=500))
    if shown is not None and [r["id"] for r in rows] == [r.get("id") for r in shown]:
        raise dash.exceptions.PreventUpdate
    return rows


def resume_or_reset(_resume: int | None, _reset: int | None, reason: str | None,
                    breaker: str | None) -> Any:
    """Resume trading, or re-arm a breaker; both need a reason and are logged with the user."""
    trigger = ctx.triggered_id
    if trigger not in (ids.RESUME_TRADING, ids.BREAKER_RESET):
        raise dash.exceptions.PreventUpdate
    actor = current_actor()
    try:
        if trigger == ids.RESUME_TRADING:
            result = service().resume(reason or "", actor=actor)
            if not result.changed:  # already ACTIVE: said so, nothing was written
                return html.Div(result.message[:1].upper() + result.message[1:],
                                className="feedback feedback-info")
            log.warning("trading resumed by %s: %s", actor, reason)
            return html.Div(f"Resumed by {actor}: trading state {result.state.value}",
                            className="feedback feedback-ok")
        if not breaker:
            return html.Div("choose a breaker to re-arm", className="feedback feedback-error")
        service().reset_breaker(breaker, reason or "", actor=actor)
        log.warning("breaker %s re-armed by %s: %s", breaker, actor, reason)
        return html.Div(f"Breaker {breaker} re-armed by {actor}", className="feedback feedback-ok")
    except ValidationError as exc:
        return html.Div("; ".join(f"{e.field}: {e.message}" for e in exc.errors),
                        className="feedback feedback-error")
    except OmsError as exc:
        return html.Div(str(exc), className="feedback feedback-error")


def register(app: dash.Dash) -> None:
    """Register the page and attach its callbacks to ``app``."""
    register_page(__name__, path="/risk", name="Risk", order=4, title="Risk · DipMaster OMS",
                  layout=layout)
    app.callback(Output(ids.RISK_USAGE, "children"), Output(ids.RISK_BREAKERS, "children"),
                 Output(ids.RISK_VENUES, "children"),
                 Input(ids.LIVE_INTERVAL, "n_intervals"))(refresh_risk)
    app.callback(Output(ids.RECONCILE_STATUS, "children"),
                 Output(ids.RECONCILE_MISMATCHES, "children"),
                 Output(ids.RECONCILE_SHOWN, "data"),
                 Input(ids.LIVE_INTERVAL, "n_intervals"),
                 State(ids.RECONCILE_SHOWN, "data"))(refresh_reconciliation)
    app.callback(Output(ids.RECONCILE_FEEDBACK, "children"),
                 Input({"type": ids.RECONCILE_ACTION, "mismatch": ALL, "action": ALL},
                       "n_clicks"),
                 State(ids.RECONCILE_REASON, "value"),
                 prevent_initial_call=True)(resolve_mismatch)
    app.callback(Output(ids.RISK_VIOLATIONS_GRID, "rowData"),
                 Input(ids.LIVE_INTERVAL, "n_intervals"),
                 State(ids.RISK_VIOLATIONS_GRID, "rowData"))(refresh_violations)
    app.callback(Output(ids.RISK_FEEDBACK, "children"), Input(ids.RESUME_TRADING, "n_clicks"),
                 Input(ids.BREAKER_RESET, "n_clicks"), State(ids.RESUME_REASON, "value"),
                 State(ids.BREAKER_RESET_NAME, "value"),
                 prevent_initial_call=True)(resume_or_reset)
