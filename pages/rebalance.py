"""/rebalance: targets as text and as an editable table, algorithm, duration, urgency, a preview
of the parents before submitting, per-line errors; a second form submits a strategy signal."""

from __future__ import annotations

import logging
from typing import Any

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, ctx, dcc, html

from components import ids
from components.context import current_actor, current_oms, service
from components.forms import (
    ALGO_OPTIONS,
    error_list,
    preview_table,
    rows_to_text,
    submitted_message,
    text_to_rows,
)
from components.inputs import number_value, rows_value, text_value
from components.registry import register_page
from components.tables import section
from oms.errors import OmsError, ValidationError

__all__ = ["layout", "preview", "register", "submit_rebalance", "submit_signal", "sync_targets"]

log = logging.getLogger(__name__)
_EXAMPLE = "BTCUSDT 3000\nETHUSDT 2000\nSOLUSDT 1000"


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
                   dcc.Textarea(id=ids.REBALANCE_TEXT, placeholder=_EXAMPLE, value="",
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
        html.H4("Preview", className="sub-head"),
        html.Div(html.Div("Press Preview to see the parent orders before submitting.",
                          className="muted"), id=ids.REBALANCE_PREVIEW_TABLE),
    ])
    return section("Rebalance to target portfolio", body)


def _signal_form(symbols: list[str]) -> html.Section:
    body = html.Div(className="form", children=[
        _field("Symbol", dcc.Dropdown(id=ids.SIGNAL_SYMBOL,
                                      options=[{"label": s, "value": s} for s in symbols],
                                      value=symbols[0], clearable=False, className="dropdown")),
        _field("Side", dcc.RadioItems(id=ids.SIGNAL_SIDE, options=["BUY", "SELL"], value="BUY",
                                      inline=True, className="radio")),
        _field("Kind", dcc.RadioItems(id=ids.SIGNAL_KIND, options=["entry", "exit"],
                                      value="entry", inline=True, className="radio")),
        _field("Size USD", dcc.Input(id=ids.SIGNAL_SIZE, type="number", value=1000, min=0,
                                     className="input num-input")),
        _field("Confidence", dcc.Input(id=ids.SIGNAL_CONFIDENCE, type="number", value=0.6,
                                       min=0, max=1, step=0.05, className="input num-input")),
        _field("Urgency", dcc.Input(id=ids.SIGNAL_URGENCY, type="number", value=0.5, min=0,
                                    max=1, step=0.05, className="input num-input")),
        html.Div(html.Button("Submit signal", id=ids.SIGNAL_SUBMIT, n_clicks=0,
                             className="btn btn-primary"), className="buttons"),
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


def preview(n_clicks: int | None, text: str | None, algo: str | None,
            urgency: float | None) -> Any:
    """The parents the rebalance would create (nothing is sent)."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    try:
        targets = text_value("targets", text)
        algo_name = text_value("algo", algo) or "auto"
        urgency_value = number_value("urgency", urgency, 0.5)
        plan = service().preview_rebalance(targets)
    except ValidationError as exc:
        return error_list(exc.errors, "Preview", text if isinstance(text, str) else None)
    return preview_table(plan, algo_name, urgency_value)


def submit_rebalance(n_clicks: int | None, text: str | None, algo: str | None,
                     duration: float | str | None, urgency: float | None) -> Any:
    """Validate and queue the rebalance; per-line errors and nothing submitted when bad."""
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


def submit_signal(n_clicks: int | None, symbol: str | None, side: str | None,
                  size: float | None, confidence: float | None, urgency: float | None,
                  kind: str | None) -> Any:
    """Queue a strategy signal."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    try:
        result = service().submit_signal(symbol or "", side or "", size, confidence,
                                         urgency, kind or "entry", actor=current_actor())
    except ValidationError as exc:
        return error_list(exc.errors, "Signal rejected")
    except OmsError as exc:
        return html.Div(f"Signal not submitted: {exc}", className="feedback feedback-error")
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
                 prevent_initial_call=True)(preview)
    app.callback(Output(ids.REBALANCE_FEEDBACK, "children"),
                 Input(ids.REBALANCE_SUBMIT, "n_clicks"), State(ids.REBALANCE_TEXT, "value"),
                 State(ids.REBALANCE_ALGO, "value"), State(ids.REBALANCE_DURATION, "value"),
                 State(ids.REBALANCE_URGENCY, "value"),
                 prevent_initial_call=True)(submit_rebalance)
    app.callback(Output(ids.SIGNAL_FEEDBACK, "children"), Input(ids.SIGNAL_SUBMIT, "n_clicks"),
                 State(ids.SIGNAL_SYMBOL, "value"), State(ids.SIGNAL_SIDE, "value"),
                 State(ids.SIGNAL_SIZE, "value"), State(ids.SIGNAL_CONFIDENCE, "value"),
                 State(ids.SIGNAL_URGENCY, "value"), State(ids.SIGNAL_KIND, "value"),
                 prevent_initial_call=True)(submit_signal)
