"""The notification centre in the frame: a button (the bell) with the count of unseen alerts
and a panel of the latest alerts, newest first (UTC time, severity, what happened).
``alerts_view`` is pure (unit-tested); the callbacks only wire it. The outbound destinations
are shown redacted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dash
from dash import Input, Output, State, dcc, html

from components import ids
from components.context import current_oms

if TYPE_CHECKING:
    from oms.alerts.model import Alert
    from oms.alerts.notify import NotifierStats

__all__ = ["AlertsView", "alerts_centre", "alerts_view", "refresh_alerts",
           "register_alert_callbacks", "toggle_alerts"]

MAX_SHOWN = 50  # the panel; the Risk page and the database keep the history
_PANEL = "alerts-panel"


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One line of the panel."""

    alert_id: int
    severity: str
    time: str  # "2026-12-01 16:58:03 UTC" (wall time the alert was raised)
    title: str
    message: str
    unseen: bool


@dataclass(frozen=True, slots=True)
class AlertsView:
    """What the bell and the panel show."""

    badge: str  # "" when nothing is unseen
    badge_class: str
    items: tuple[AlertItem, ...]
    footer: str


def _footer(stats: NotifierStats | None) -> str:
    if stats is None:
        return "no outbound notifications (set OMS_ALERTS__URLS)"
    return (f"sending to {', '.join(stats.destinations)} · {stats.sent} sent · "
            f"{stats.failed} failed · {stats.queued} queued · {stats.dropped} dropped (queue "
            f"full) · {stats.suppressed} rate-limited")


def alerts_view(alerts: Sequence[Alert], seen: int, stats: NotifierStats | None) -> AlertsView:
    """Pure: the bell's badge (alerts newer than ``seen``, the last id the user has seen;
    CRITICAL colours it) and the newest ``MAX_SHOWN`` alerts."""
    unseen = [a for a in alerts if a.alert_id > seen]
    critical = any(a.severity == "CRITICAL" for a in unseen)
    badge = "" if not unseen else ("99+" if len(unseen) > 99 else str(len(unseen)))
    badge_class = ("alerts-badge alerts-badge-critical" if critical
                   else "alerts-badge" if unseen else "alerts-badge alerts-badge-empty")
    items = tuple(AlertItem(a.alert_id, str(a.severity),
                            a.raised_at.strftime("%Y-%m-%d %H:%M:%S UTC"), a.title, a.message,
                            a.alert_id > seen) for a in alerts[:MAX_SHOWN])
    return AlertsView(badge, badge_class, items, _footer(stats))


def _item(item: AlertItem) -> html.Li:
    return html.Li(className=f"alert-item alert-{item.severity.lower()}"
                             f"{' alert-unseen' if item.unseen else ''}", children=[
        html.Div([html.Span(item.severity, className="alert-severity"),
                  html.Span(item.time, className="alert-time")], className="alert-head"),
        html.Div(item.title, className="alert-title"),
        html.Div(item.message, className="alert-message"),
    ])


def alerts_centre() -> html.Div:
    """The bell, its badge and the (closed) panel, for the frame's top bar."""
    return html.Div(className="alerts-centre", children=[
        dcc.Store(id=ids.ALERTS_SEEN, data=0),
        html.Button([html.Span("ALERTS", className="alerts-bell"),
                     html.Span("", id=ids.ALERTS_BADGE, className="alerts-badge")],
                    id=ids.ALERTS_BUTTON, n_clicks=0, className="btn btn-alerts",
                    title="Alerts: breaker trips, halts, reject bursts, parents, reconciliation"),
        html.Div(id=ids.ALERTS_PANEL, className=_PANEL, children=[
            html.Div("Alerts (newest first, UTC)", className="alerts-header"),
            html.Ul([html.Li("no alerts yet", className="alert-empty")], id=ids.ALERTS_LIST,
                    className="alerts-list"),
            html.Div("", id=ids.ALERTS_FOOTER, className="alerts-footer muted"),
        ]),
    ])


def refresh_alerts(_n: int | None, seen: Any) -> tuple[Any, ...]:
    """Live refresh of the bell and the panel."""
    oms = current_oms()
    stats = oms.notifier.stats() if oms.notifier is not None else None
    view = alerts_view(oms.alerts.latest(), seen if isinstance(seen, int) else 0, stats)
    items = [_item(i) for i in view.items] or [html.Li("no alerts yet", className="alert-empty")]
    return view.badge, view.badge_class, items, view.footer


def toggle_alerts(n_clicks: Any, panel_class: Any) -> tuple[str, Any]:
    """Open or close the panel; opening marks every alert shown as seen."""
    if not isinstance(n_clicks, int) or n_clicks <= 0:
        raise dash.exceptions.PreventUpdate
    opening = "open" not in str(panel_class or "").split()
    if not opening:
        return _PANEL, dash.no_update
    latest = current_oms().alerts.latest()
    return f"{_PANEL} open", latest[0].alert_id if latest else 0


def register_alert_callbacks(app: dash.Dash) -> None:
    """Attach the notification centre's callbacks to ``app``."""
    app.callback([Output(ids.ALERTS_BADGE, "children"), Output(ids.ALERTS_BADGE, "className"),
                  Output(ids.ALERTS_LIST, "children"), Output(ids.ALERTS_FOOTER, "children")],
                 Input(ids.LIVE_INTERVAL, "n_intervals"), Input(ids.ALERTS_SEEN, "data"))(
        refresh_alerts)
    app.callback([Output(ids.ALERTS_PANEL, "className"), Output(ids.ALERTS_SEEN, "data")],
                 Input(ids.ALERTS_BUTTON, "n_clicks"), State(ids.ALERTS_PANEL, "className"),
                 prevent_initial_call=True)(toggle_alerts)
