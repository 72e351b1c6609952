"""/tca: choose a session or one of its parents; KPI tiles (each defined on hover) and a legend
line, execution chart, cost waterfall, child slippage (a dot per child, a histogram for many),
quality scores, the pre-trade estimate vs the realised cost per parent (table and chart);
download the ExecutionReport (JSON) and the fills (CSV)."""

from __future__ import annotations

import json
from typing import Any

import dash
from dash import Input, Output, State, ctx, dcc, html

from components import ids
from components.context import service
from components.format import fmt_time
from components.registry import register_page
from components.tables import section
from components.tca_charts import (
    empty_figure,
    execution_chart,
    quality_chart,
    slippage_histogram,
    summary_kpis,
    waterfall_chart,
)
from components.tca_estimate import estimate_chart, estimate_table

__all__ = ["download_csv", "download_json", "layout", "parent_options", "poll_sessions",
           "refresh_estimate", "refresh_tca", "register", "session_options"]

_READY = "tca-report-ready"

_GRAPH_CONFIG: Any = {"displaylogo": False, "responsive": True, "displayModeBar": "hover"}


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, figure=empty_figure("choose a session"),
                     config=_GRAPH_CONFIG, className="graph")


def session_options() -> list[dict[str, str]]:
    """Recent sessions, newest first, labelled with kind, time and actor."""
    return [{"label": f"{s['session_id']} · {s['kind']} · {fmt_time(s['created_at'])} · "
                      f"{s['actor']}{'' if s.get('ended_at') else ' · running'}",
             "value": s["session_id"]} for s in service().sessions(limit=200)]


def layout(session: str | None = None, **_query: Any) -> html.Div:
    """The TCA page (``?session=<id>`` preselects a session)."""
    options = session_options()
    value = session or (options[0]["value"] if options else None)
    controls = html.Div(className="row-fields tca-controls", children=[
        html.Label([html.Span("Session", className="field-label"),
                    dcc.Dropdown(id=ids.TCA_SESSION, options=options, value=value,
                                 clearable=False, className="dropdown",
                                 placeholder="no sessions yet")], className="field"),
        html.Label([html.Span("Parent", className="field-label"),
                    dcc.Dropdown(id=ids.TCA_PARENT, options=[], value=None,
                                 placeholder="all parents of the session",
                                 className="dropdown")], className="field"),
        html.Div(className="buttons", children=[
            html.Button("Download report (JSON)", id=ids.TCA_DOWNLOAD_JSON, n_clicks=0,
                        className="btn"),
            html.Button("Download fills (CSV)", id=ids.TCA_DOWNLOAD_CSV, n_clicks=0,
                        className="btn"),
            dcc.Download(id=ids.TCA_DOWNLOAD_JSON_DATA), dcc.Download(id=ids.TCA_DOWNLOAD_CSV_DATA),
        ]),
    ])
    return html.Div(className="page page-tca", children=[
        dcc.Store(id=_READY),
        section("Transaction cost analysis", controls),
        html.Div(id=ids.TCA_SUMMARY, className="kpis kpis-8"),
        html.Div(className="grid-2", children=[
            section("Execution", _graph(ids.TCA_EXECUTION_CHART)),
            section("Cost waterfall", _graph(ids.TCA_WATERFALL)),
        ]),
        html.Div(className="grid-2", children=[
            section("Child slippage", _graph(ids.TCA_SLIPPAGE_HIST)),
            section("Quality", _graph(ids.TCA_QUALITY)),
        ]),
        section("Estimate vs realised", html.Div(id=ids.TCA_ESTIMATE_TABLE)),
        section("Expected range and realised cost", _graph(ids.TCA_ESTIMATE_CHART)),
    ])


def poll_sessions(_n: int | None, session_id: str | None, ready: dict[str, Any] | None,
                  options: list[dict[str, str]] | None) -> tuple[Any, Any, Any]:
    """Every second: new sessions join the list (the first one is selected when none was);
    the charts redraw once, when the chosen session's report lands."""
    fresh = session_options()
    new_options = fresh if fresh != options else dash.no_update
    value: Any = dash.no_update
    if not session_id and fresh:
        value = session_id = fresh[0]["value"]
    state = {"session": session_id,
             "ready": bool(session_id) and service().report(session_id) is not None}
    return new_options, value, state if state != ready else dash.no_update


def parent_options(session_id: str | None, _ready: Any) -> tuple[list[dict[str, str]], Any]:
    """The parents of the chosen session's report."""
    report = service().report(session_id) if session_id else None
    parents = (report or {}).get("parents") or []
    keep = dash.no_update if ctx.triggered_id == _READY else None
    return ([{"label": f"{p['symbol']} {p['side']} {str(p['algo']).upper()} · {p['parent_id']}",
              "value": p["parent_id"]} for p in parents], keep)


def _pending(session_id: str | None, why: str) -> html.Div:
    """What a session still executing has done so far."""
    lines: list[Any] = [html.Div(why)]
    if session_id:
        for row in service().parent_orders(session_id=session_id, page_size=50).rows:
            quantity = float(row["quantity"]) or 1.0
            lines.append(html.Div(
                f"{row['symbol']} {row['side']} {str(row['algo']).upper()} {row['state']}: "
                f"{float(row['filled_quantity']) / quantity:.1%} filled"))
    return html.Div(lines, className="muted panel-note", style={"gridColumn": "1 / -1"})


def refresh_tca(session_id: str | None, parent_id: str | None, _ready: Any) -> tuple[Any, ...]:
    """Summary, execution chart, waterfall, histogram and quality of the selection."""
    report = service().report(session_id) if session_id else None
    if report is None:
        why = ("no session yet: submit a rebalance" if not session_id else
               f"{session_id}: no report yet (the report is written when every parent ends)")
        blank = empty_figure(why)
        return _pending(session_id, why), blank, blank, blank, blank
    parent = next((p for p in report.get("parents") or [] if p.get("parent_id") == parent_id),
                  None)
    tca = parent.get("tca") if parent else report.get("tca")
    quality = parent.get("quality") if parent else report.get("quality")
    source = (parent or report.get("summary") or {}).get("impact_source")
    return (summary_kpis(report, parent_id if parent else None),
            execution_chart(report, parent_id if parent else None), waterfall_chart(tca, source),
            slippage_histogram(report, parent_id if parent else None), quality_chart(quality))


def refresh_estimate(session_id: str | None, parent_id: str | None,
                     _ready: Any) -> tuple[Any, Any]:
    """The estimate-vs-realised table and chart of the selection."""
    report = service().report(session_id) if session_id else None
    if report is None:
        why = "no report yet: the estimate is compared when every parent has ended"
        return html.Div(why, className="muted panel-note"), empty_figure(why)
    known = {p.get("parent_id") for p in report.get("parents") or []}
    chosen = parent_id if parent_id in known else None
    return estimate_table(report, chosen), estimate_chart(report, chosen)


def download_json(n_clicks: int | None, session_id: str | None) -> dict[str, Any]:
    """The ExecutionReport of the session as a JSON file."""
    report = service().report(session_id) if n_clicks and session_id else None
    if report is None:
        raise dash.exceptions.PreventUpdate
    return {"content": json.dumps(report, indent=2, default=str),
            "filename": f"execution-report-{session_id}.json", "type": "application/json"}


def download_csv(n_clicks: int | None, session_id: str | None) -> dict[str, Any]:
    """The fills of the session's report as CSV."""
    from oms.tca.report import fills_csv

    report = service().report(session_id) if n_clicks and session_id else None
    if report is None:
        raise dash.exceptions.PreventUpdate
    return {"content": fills_csv(report), "filename": f"fills-{session_id}.csv",
            "type": "text/csv"}


def register(app: dash.Dash) -> None:
    """Register the page and attach its callbacks to ``app``."""
    register_page(__name__, path="/tca", name="TCA", order=3, title="TCA · DipMaster OMS",
                  layout=layout)
    app.callback(Output(ids.TCA_SESSION, "options"), Output(ids.TCA_SESSION, "value"),
                 Output(_READY, "data"), Input(ids.LIVE_INTERVAL, "n_intervals"),
                 State(ids.TCA_SESSION, "value"), State(_READY, "data"),
                 State(ids.TCA_SESSION, "options"))(poll_sessions)
    app.callback(Output(ids.TCA_PARENT, "options"), Output(ids.TCA_PARENT, "value"),
                 Input(ids.TCA_SESSION, "value"), Input(_READY, "data"))(parent_options)
    app.callback(Output(ids.TCA_SUMMARY, "children"), Output(ids.TCA_EXECUTION_CHART, "figure"),
                 Output(ids.TCA_WATERFALL, "figure"), Output(ids.TCA_SLIPPAGE_HIST, "figure"),
                 Output(ids.TCA_QUALITY, "figure"), Input(ids.TCA_SESSION, "value"),
                 Input(ids.TCA_PARENT, "value"), Input(_READY, "data"))(refresh_tca)
    app.callback(Output(ids.TCA_ESTIMATE_TABLE, "children"),
                 Output(ids.TCA_ESTIMATE_CHART, "figure"), Input(ids.TCA_SESSION, "value"),
                 Input(ids.TCA_PARENT, "value"), Input(_READY, "data"))(refresh_estimate)
    app.callback(Output(ids.TCA_DOWNLOAD_JSON_DATA, "data"),
                 Input(ids.TCA_DOWNLOAD_JSON, "n_clicks"), State(ids.TCA_SESSION, "value"),
                 prevent_initial_call=True)(download_json)
    app.callback(Output(ids.TCA_DOWNLOAD_CSV_DATA, "data"),
                 Input(ids.TCA_DOWNLOAD_CSV, "n_clicks"), State(ids.TCA_SESSION, "value"),
                 prevent_initial_call=True)(download_csv)
