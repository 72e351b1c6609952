"""/rebalance: targets as text and as an editable table, algorithm, duration, urgency, a preview
of the parents with their pre-trade estimate, per-line errors; Submit validates and opens a
confirmation showing the estimate, and only its confirm button sends. A second form submits a
strategy signal."""

from __future__ import annotations

import logging
from typing import Any

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, ctx, dcc, html

from components import ids
from components.context import current_actor, current_oms, service
from components.estimate_view import estimate_panel
from components.forms import (
    ALGO_OPTIONS,
    TARGETS_PLACEHOLDER,
    error_list,
    rows_to_text,
    sizing_view,
    submitted_message,
    text_to_rows,
)
from components.inputs import number_value, rows_value, text_value
from components.registry import register_page
from components.tables import section
from oms.errors import OmsError, ValidationError
from oms.pretrade_estimate import RebalanceEstimate

__all__ = ["close_confirmation", "layout", "preview", "preview_signal", "register",
           "request_rebalance", "submit_rebalance", "submit_signal", "sync_targets"]

log = logging.getLogger(__name__)


def _field(label: str, control: Any, hint: str = "") -> html.Label:
    return html.Label([html.Span(label, className="field-label"), control,
                       html.Span(hint, className="field-hint") if hint else None],
                      className="field")


def _rebalance_form(default_duration: float) -> html.Section:
    grid = dag.AgGrid(
        id=ids.REBALANCE_TABLE, rowData=text_to_rows(""),
        columnDefs=[{"field": "symbol", "headerName": "Symbol", "editable": True, "flex": 1},
                    {"field": "target_usd", "headerName": "Target USD", "editable": True,
                     "flex": 1, "type": "rightAligned"}],
        defaultColDef={"sortable": False, "resizable": True},
        dashGridOptions={"singleClickEdit": True, "stopEditingWhenCellsLoseFocus": True,
                         "domLayout": "autoHeight",
                         "theme": {"function": "omsTheme(themeQuartz)"}},
        className="compact-grid", style={"width": "100%"})
    body = html.Div(className="form", children=[
        html.Div(className="grid-2 tight", children=[
            _field("Targets (one SYMBOL TARGET_USD per line; paste from a spreadsheet)",
                   dcc.Textarea(id=ids.REBALANCE_TEXT, placeholder=TARGETS_PLACEHOLDER, value="",
                                className="targets-text", spellCheck=False)),
            html.Div([html.Span("Targets table (edit a cell to update the text)",
                                className="field-label"),
                      grid,
                      html.Button("+ row", id=ids.REBALANCE_TABLE_ADD, n_clicks=0,
                                  className="btn btn-small")], className="field"),
        ]),
        html.Div(className="row-fields", children=[
            _field("Algorithm", dcc.Dropdown(id=ids.REBALANCE_ALGO, options=ALGO_OPTIONS,
                                             value="auto", clearable=False,
                                             className="dropdown")),
            _field("Duration (min)", dcc.Input(id=ids.REBALANCE_DURATION, type="number",
                                               value=default_duration, min=0, step="any",
                                               className="input num-input")),
            _field("Urgency", dcc.Slider(id=ids.REBALANCE_URGENCY, min=0, max=1, step=0.05,
                                         value=0.5, marks={0: "0", 0.5: "0.5", 1: "1"},
                                         tooltip={"placement": "bottom"}),
                   "0 patient · 1 urgent"),
        ]),
        html.Div(className="buttons", children=[
            html.Button("Preview", id=ids.REBALANCE_PREVIEW, n_clicks=0, className="btn"),
            html.Button("Submit rebalance", id=ids.REBALANCE_SUBMIT, n_clicks=0,
                        className="btn btn-primary"),
        ]),
        dcc.Loading(html.Div(id=ids.REBALANCE_FEEDBACK, className="feedback-box"),
                    type="dot", delay_show=300),
        _confirmation(),
        html.H4("Preview", className="sub-head"),
        html.Div(html.Div("Press Preview to see the parent orders before submitting.",
                          className="muted"), id=ids.REBALANCE_PREVIEW_TABLE),
    ])
    return section("Rebalance to target portfolio", body)


def _confirmation() -> html.Div:
    """The confirmation a valid submit opens: the estimate, then confirm or go back."""
    box = html.Div(className="confirm-box", role="dialog", children=[
        html.H3("Confirm rebalance: nothing is sent until you confirm"),
        html.Div(id=ids.REBALANCE_CONFIRM_BODY),
        html.Div(className="buttons", children=[
            html.Button("Confirm and submit", id=ids.REBALANCE_CONFIRM, n_clicks=0,
                        className="btn btn-primary"),
            html.Button("Back (do not send)", id=ids.REBALANCE_CONFIRM_BACK, n_clicks=0,
                        className="btn"),
        ]),
    ])
    return html.Div(box, id=ids.REBALANCE_CONFIRM_DIALOG, className="confirm-overlay",
                    hidden=True)


def _signal_form(symbols: list[str]) -> html.Section:
    body = html.Div(className="form", children=[
        _field("Symbol", dcc.Dropdown(id=ids.SIGNAL_SYMBOL,
                                      options=[{"label": s, "value": s} for s in symbols],
                                      value=symbols[0], clearable=False, className="dropdown")),
        _field("Side", dcc.RadioItems(id=ids.SIGNAL_SIDE, options=["BUY", "SELL"], value="BUY",
                                      inline=True, className="radio")),
        _field("Kind", dcc.RadioItems(id=ids.SIGNAL_KIND, options=["entry", "exit"],
                                      value="entry", inline=True, className="radio")),
        # no min: the browser would blank a negative size, and the service names the problem
        _field("Size", dcc.RadioItems(id=ids.SIGNAL_SIZE_MODE,
                                      options=[{"label": "USD", "value": "usd"},
                                               {"label": "auto (Kelly x vol)", "value": "auto"}],
                                      value="usd", inline=True, className="radio")),
        _field("Size USD", dcc.Input(id=ids.SIGNAL_SIZE, type="number", value=1000,
                                     className="input num-input"), "ignored when auto"),
        _field("Confidence", dcc.Input(id=ids.SIGNAL_CONFIDENCE, type="number", value=0.6,
                                       min=0, max=1, step=0.05, className="input num-input")),
        _field("Urgency", dcc.Input(id=ids.SIGNAL_URGENCY, type="number", value=0.5, min=0,
                                    max=1, step=0.05, className="input num-input")),
        html.Div([html.Button("Preview size", id=ids.SIGNAL_PREVIEW, n_clicks=0,
                              className="btn"),
                  html.Button("Submit signal", id=ids.SIGNAL_SUBMIT, n_clicks=0,
                              className="btn btn-primary")], className="buttons"),
        html.Div(id=ids.SIGNAL_PREVIEW_BOX, className="feedback-box"),
        html.Div(id=ids.SIGNAL_FEEDBACK, className="feedback-box"),
    ])
    return section("Strategy signal", body, class_name="panel-narrow")


def layout(**_query: Any) -> html.Div:
    """The rebalance page."""
    settings = current_oms().settings
    return html.Div(className="page page-rebalance grid-main-side", children=[
        _rebalance_form(settings.default_duration_minutes),
        _signal_form(list(settings.symbols)),
    ])


def sync_targets(text: str | None, _changed: Any, _add: int | None,
                 rows: list[dict[str, Any]] | None) -> tuple[Any, Any]:
    """Keep the text and the table in step: whichever the trader edited wins."""
    trigger = ctx.triggered_id
    try:
        if trigger == ids.REBALANCE_TABLE:
            return rows_to_text(rows_value("targets table", rows)), dash.no_update
        if trigger == ids.REBALANCE_TABLE_ADD:
            return dash.no_update, [*rows_value("targets table", rows),
                                    {"symbol": "", "target_usd": ""}]
        return dash.no_update, text_to_rows(text_value("targets", text))
    except ValidationError:  # a malformed payload: keep what the page shows
        raise dash.exceptions.PreventUpdate from None


def _estimate(text: str | None, algo: str | None, duration: float | str | None,
              urgency: float | None) -> RebalanceEstimate:
    """The service's pre-trade estimate of the form's rebalance (ValidationError when bad)."""
    targets = text_value("targets", text)
    algo_name = text_value("algo", algo) or "auto"
    urgency_value = number_value("urgency", urgency, 0.5)
    return service().estimate_rebalance(targets, algo_name, "" if duration is None else duration,
                                        urgency_value)


def preview(n_clicks: int | None, text: str | None, algo: str | None,
            urgency: float | None, duration: float | str | None = None) -> Any:
    """The parents the rebalance would create with their estimate (nothing is sent)."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    try:
        estimate = _estimate(text, algo, duration, urgency)
    except ValidationError as exc:
        return error_list(exc.errors, "Preview", text if isinstance(text, str) else None)
    except OmsError as exc:
        return html.Div(f"No preview: {exc}", className="feedback feedback-error")
    return estimate_panel(estimate)


def request_rebalance(n_clicks: int | None, text: str | None, algo: str | None,
                      duration: float | str | None, urgency: float | None) -> tuple[Any, Any, Any]:
    """Submit pressed: validate at once (errors in the feedback, no confirmation for input that
    cannot be sent); otherwise open the confirmation with the estimate. Returns the feedback,
    the dialog's ``hidden`` and its body."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    where = text if isinstance(text, str) else None
    try:
        estimate = _estimate(text, algo, duration, urgency)
    except ValidationError as exc:
        return error_list(exc.errors, "Rebalance rejected", where), True, dash.no_update
    except OmsError as exc:
        return (html.Div(f"Rebalance not submitted: {exc}", className="feedback feedback-error"),
                True, dash.no_update)
    if estimate.plan.breaches:
        return error_list(estimate.plan.breaches, "Rebalance refused", where), True, dash.no_update
    halted = [h for p in estimate.parents for h in p.limits if h.code == "TRADING_HALTED"]
    if halted:
        return (html.Div(f"Rebalance not submitted: {halted[0].message}",
                         className="feedback feedback-error"), True, dash.no_update)
    if not estimate.parents:
        return estimate_panel(estimate), True, dash.no_update
    waiting = html.Div("Check the estimate and confirm: nothing is sent yet",
                       className="feedback feedback-info")
    return waiting, False, estimate_panel(estimate)


def close_confirmation(n_clicks: int | None) -> tuple[Any, bool]:
    """Back pressed: close the confirmation, nothing sent."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    return html.Div("Not submitted (back from the confirmation)", className="feedback"), True


def submit_rebalance(n_clicks: int | None, text: str | None, algo: str | None,
                     duration: float | str | None, urgency: float | None) -> Any:
    """Confirmed: validate again and queue the rebalance; per-line errors and nothing
    submitted when bad (the market or the account may have moved since the estimate)."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    try:
        result = service().submit_rebalance(text_value("targets", text), algo or "auto",
                                            "" if duration is None else duration,
                                            0.5 if urgency is None else urgency,
                                            actor=current_actor())
    except ValidationError as exc:
        return error_list(exc.errors, "Rebalance rejected", text if isinstance(text, str) else None)
    except OmsError as exc:
        return html.Div(f"Rebalance not submitted: {exc}", className="feedback feedback-error")
    log.info("rebalance %s submitted by %s (%d parents)", result.session_id, current_actor(),
             len(result.parent_ids))
    return submitted_message(result)


def _signal_size(size: float | None, size_mode: str | None) -> dict[str, Any]:
    """The size arguments of the service: ``size="auto"`` or ``size_usd``."""
    if size_mode == "auto":
        return {"size_usd": None, "size": "auto"}
    return {"size_usd": size, "size": None}


def _signal_call(call: Any, size: float | None, size_mode: str | None, symbol: str | None,
                 side: str | None, confidence: float | None, urgency: float | None,
                 kind: str | None, failed: str, **extra: Any) -> Any:
    """``call`` (the service's preview or submit) with the form's signal; a refusal as the
    feedback to show (``failed`` prefixes an engine error)."""
    sized = _signal_size(size, size_mode)
    try:
        return call(symbol or "", side or "", sized["size_usd"], confidence, urgency,
                    kind or "entry", size=sized["size"], **extra)
    except ValidationError as exc:
        return error_list(exc.errors, "Signal rejected")
    except OmsError as exc:
        return html.Div(f"{failed}: {exc}", className="feedback feedback-error")


def preview_signal(n_clicks: int | None, symbol: str | None, side: str | None,
                   size: float | None, confidence: float | None, urgency: float | None,
                   kind: str | None, size_mode: str | None = None) -> Any:
    """Size the signal as the submit would (nothing sent) and show the computation."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    result = _signal_call(service().preview_signal, size, size_mode, symbol, side, confidence,
                          urgency, kind, "No preview")
    if isinstance(result, html.Div):
        return result
    if result.sizing is None:
        return html.Div(f"Fixed size: {size} USD", className="feedback feedback-ok")
    return html.Div([html.Div(f"Auto size: {result.sizing['size_usd']} USD", className="fb-title"),
                     sizing_view(result.sizing)], className="feedback feedback-ok")


def submit_signal(n_clicks: int | None, symbol: str | None, side: str | None,
                  size: float | None, confidence: float | None, urgency: float | None,
                  kind: str | None, size_mode: str | None = None) -> Any:
    """Queue a strategy signal (of the Size USD, or auto-sized)."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    result = _signal_call(service().submit_signal, size, size_mode, symbol, side, confidence,
                          urgency, kind, "Signal not submitted", actor=current_actor())
    if isinstance(result, html.Div):
        return result
    log.info("signal %s submitted by %s", result.session_id, current_actor())
    return submitted_message(result, "signal")


def register(app: dash.Dash) -> None:
    """Register the page and attach its callbacks to ``app``."""
    register_page(__name__, path="/rebalance", name="Rebalance", order=1,
                       title="Rebalance · DipMaster OMS", layout=layout)
    app.callback(Output(ids.REBALANCE_TEXT, "value"), Output(ids.REBALANCE_TABLE, "rowData"),
                 Input(ids.REBALANCE_TEXT, "value"),
                 Input(ids.REBALANCE_TABLE, "cellValueChanged"),
                 Input(ids.REBALANCE_TABLE_ADD, "n_clicks"),
                 State(ids.REBALANCE_TABLE, "virtualRowData"),
                 prevent_initial_call=True)(sync_targets)
    app.callback(Output(ids.REBALANCE_PREVIEW_TABLE, "children"),
                 Input(ids.REBALANCE_PREVIEW, "n_clicks"), State(ids.REBALANCE_TEXT, "value"),
                 State(ids.REBALANCE_ALGO, "value"), State(ids.REBALANCE_URGENCY, "value"),
                 State(ids.REBALANCE_DURATION, "value"),
                 prevent_initial_call=True)(preview)
    form = (State(ids.REBALANCE_TEXT, "value"), State(ids.REBALANCE_ALGO, "value"),
            State(ids.REBALANCE_DURATION, "value"), State(ids.REBALANCE_URGENCY, "value"))
    app.callback(Output(ids.REBALANCE_FEEDBACK, "children"),
                 Output(ids.REBALANCE_CONFIRM_DIALOG, "hidden"),
                 Output(ids.REBALANCE_CONFIRM_BODY, "children"),
                 Input(ids.REBALANCE_SUBMIT, "n_clicks"), *form,
                 prevent_initial_call=True)(request_rebalance)
    app.callback(Output(ids.REBALANCE_FEEDBACK, "children", allow_duplicate=True),
                 Input(ids.REBALANCE_CONFIRM, "n_clicks"), *form,
                 prevent_initial_call=True)(submit_rebalance)
    # the confirm closes the dialog at once, before the submit's answer (no double send)
    app.clientside_callback("function(n) { return true; }",  # type: ignore[no-untyped-call]
                            Output(ids.REBALANCE_CONFIRM_DIALOG, "hidden", allow_duplicate=True),
                            Input(ids.REBALANCE_CONFIRM, "n_clicks"), prevent_initial_call=True)
    app.callback(Output(ids.REBALANCE_FEEDBACK, "children", allow_duplicate=True),
                 Output(ids.REBALANCE_CONFIRM_DIALOG, "hidden", allow_duplicate=True),
                 Input(ids.REBALANCE_CONFIRM_BACK, "n_clicks"),
                 prevent_initial_call=True)(close_confirmation)
    signal = (State(ids.SIGNAL_SYMBOL, "value"), State(ids.SIGNAL_SIDE, "value"),
              State(ids.SIGNAL_SIZE, "value"), State(ids.SIGNAL_CONFIDENCE, "value"),
              State(ids.SIGNAL_URGENCY, "value"), State(ids.SIGNAL_KIND, "value"),
              State(ids.SIGNAL_SIZE_MODE, "value"))
    app.callback(Output(ids.SIGNAL_FEEDBACK, "children"), Input(ids.SIGNAL_SUBMIT, "n_clicks"),
                 *signal, prevent_initial_call=True)(submit_signal)
    app.callback(Output(ids.SIGNAL_PREVIEW_BOX, "children"),
                 Input(ids.SIGNAL_PREVIEW, "n_clicks"), *signal,
                 prevent_initial_call=True)(preview_signal)
