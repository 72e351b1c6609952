"""The frame on every page: navigation, trading state, kill switch, breakers, venue and market
clock, engine health, the notification centre (components/alerts.py). ``frame_view`` is pure
(unit-tested); the callbacks only wire it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import dash
from dash import Input, Output, State, dcc, html

from components import ids
from components.alerts import alerts_centre, register_alert_callbacks
from components.context import current_actor, current_directory
from components.format import fmt_time
from components.inputs import clicks_value
from oms.directory import ACCOUNT_ARG, ACCOUNT_COOKIE, requested_account
from oms.errors import OmsError, PersistenceError, ValidationError

if TYPE_CHECKING:
    from oms.runtime import EngineHealth
    from oms.snapshot import EngineSnapshot

__all__ = ["NAV", "FrameView", "frame_layout", "frame_view", "kill_switch", "refresh_frame",
           "register_frame_callbacks", "switch_account"]

log = logging.getLogger(__name__)
NAV = (("Overview", "/"), ("Rebalance", "/rebalance"), ("Orders", "/orders"), ("TCA", "/tca"),
       ("Risk", "/risk"), ("Accounts", "/accounts"))
ACCOUNT_COOKIE_MAX_AGE_S = 365 * 24 * 3600
BREAKER_LABELS = {"high_slippage": "SLIP", "high_rejection": "REJ", "high_latency": "LAT",
                  "market_stress": "STRESS"}
STALE_AFTER_S = 5.0


@dataclass(frozen=True, slots=True)
class FrameView:
    """What the frame shows, derived from one snapshot and the runtime health."""

    state: str
    state_class: str
    halt_reason: str
    notice: str
    breakers: dict[str, tuple[str, str]]  # name -> (ARMED|TRIPPED, tooltip)
    clock: str
    health: str
    health_class: str


def _breaker(info: dict[str, Any] | None) -> tuple[str, str]:
    if not info:
        return "ARMED", "no breaker data yet"
    state = str(info.get("state", "ARMED"))
    shown = "ARMED" if state == "ARMED" and not info.get("tripped") else "TRIPPED"
    detail = f"{state}; last trip {info.get('last_trip_at') or 'never'}"
    reason = info.get("last_reason")
    return shown, f"{detail}; {reason}" if reason else detail


def frame_view(snap: EngineSnapshot, health: EngineHealth, *, halted_now: bool,
               gate_reason: str, speed: float, now: datetime | None = None) -> FrameView:
    """Pure: the frame's texts. The halt gate wins over a snapshot that is one tick old."""
    state = "HALTED" if halted_now else str(snap.trading_state)
    reason = gate_reason if halted_now else (snap.halt_reason if state != "ACTIVE" else "")
    breakers = {name: _breaker(snap.breakers.get(name)) for name in ids.BREAKER_IDS}
    speed_text = f" ×{speed:g}" if speed != 1 else ""
    clock = f"{snap.venue.upper()} {snap.venue_status} · MKT {fmt_time(snap.ts)}{speed_text}"
    now = now or datetime.now(UTC)
    age = (now - snap.wall_ts).total_seconds()
    problems: list[str] = []
    if not health.running:
        problems.append("engine stopped")
    elif age > STALE_AFTER_S:
        problems.append(f"no tick for {age:.0f} s")
    if health.errors:
        problems.append(f"{health.errors} tick errors")
    if health.missed:
        problems.append(f"{health.missed} missed")
    cancels, unresolved = (snap.counts.get("cancels_unconfirmed", 0),
                           snap.counts.get("sends_unresolved", 0))
    if cancels:
        problems.append(f"{cancels} cancels not confirmed by the venue")
    if unresolved:
        problems.append(f"{unresolved} orders of unknown outcome (querying the venue)")
    if snap.last_error:
        problems.append(snap.last_error)
    text = f"tick {fmt_time(snap.wall_ts)}"
    cancelled = (f"{cancels} cancels are not yet confirmed by the venue (asked again until "
                 "they are); resume is refused until then."
                 if cancels else "Working orders are cancelled; resume with a reason on the "
                 "Risk page.")
    notice = (f"TRADING {state}: {reason or 'no reason given'}. {cancelled}"
              if state == "HALTED" else
              f"TRADING REDUCING: {reason}. Only risk-reducing orders are accepted."
              if state == "REDUCING" else "")
    if problems:
        last = f" (last: {health.last_problem})" if health.last_problem else ""
        return FrameView(state, f"state-badge state-{state.lower()}", reason, notice, breakers,
                         clock, f"{text} · " + " · ".join(problems) + last,
                         "health health-bad")
    return FrameView(state, f"state-badge state-{state.lower()}", reason, notice, breakers,
                     clock, f"{text} · OK", "health health-ok")


def _breaker_chip(name: str) -> html.Span:
    return html.Span([html.Span(BREAKER_LABELS[name], className="chip-label"),
                      html.Span("ARMED", id=ids.BREAKER_IDS[name], className="chip-value")],
                     id=f"{ids.BREAKER_IDS[name]}-chip", className="chip chip-armed")


def frame_layout(content: Any) -> html.Div:
    """The page frame around ``content`` (dash.page_container) plus the shared timers/stores."""
    nav = [dcc.Link(label, href=href, className="nav-link") for label, href in NAV]
    header = html.Header(className="topbar", children=[
        html.Div([html.Span("◆", className="brand-mark"), html.Span("DipMaster OMS")],
                 className="brand"),
        html.Nav(nav, className="nav"),
        html.Div(dcc.Dropdown(id=ids.ACCOUNT_SWITCHER, options=[], value=None,
                              clearable=False, searchable=False, placeholder="account",
                              className="dropdown"),
                 id=ids.ACCOUNT_PICK, className="account-pick single",
                 title="the account every page shows; the kill switch halts it"),
        html.Div(className="topbar-status", children=[
            html.Span("…", id=ids.TRADING_STATE, className="state-badge"),
            html.Span("", id=ids.HALT_REASON, className="halt-reason"),
            dcc.Link([_breaker_chip(n) for n in ids.BREAKER_IDS], id=ids.BREAKER_SUMMARY,
                     href="/risk", className="chips", title="circuit breakers (details on Risk)"),
            html.Span("", id=ids.VENUE_CLOCK, className="clock"),
            html.Span("", id=ids.ENGINE_HEALTH, className="health"),
            alerts_centre(),
            html.Button("KILL SWITCH", id=ids.KILL_SWITCH, n_clicks=0, className="btn btn-kill",
                        title="Halt trading now and cancel every working order"),
        ]),
    ])
    return html.Div(className="app-root", children=[
        dcc.Interval(id=ids.LIVE_INTERVAL, interval=1000, n_intervals=0),
        dcc.Location(id=ids.ACCOUNT_RELOAD, refresh=True),
        dcc.Store(id=ids.FRAME_ACTION),
        dcc.Store(id=ids.EQUITY_POINT),
        header,
        html.Div("", id=ids.FRAME_NOTICE, className="notice"),
        html.Main(content, className="content"),
    ])


def _action_error(action: Any, state: str) -> str:
    """The error of the last frame action, while it still matters (a kill that is in force but
    not yet durable matters while HALTED)."""
    if not isinstance(action, dict) or not isinstance(action.get("error"), str):
        return ""
    if action.get("halted") is True and state != "HALTED":
        return ""
    return f"{action['error'][:300]} "


def refresh_frame(_n: int | None, action: Any, shown_account: Any = None) -> tuple[Any, ...]:
    """Live refresh of the frame (every second and right after a frame action); the account
    switcher's choices, and its value when another tab chose another account."""
    directory = current_directory()
    account = requested_account(directory)
    names = directory.names()
    options = [{"label": name, "value": name} for name in names]
    oms = directory.get(account)
    gate = oms.service.gate
    view = frame_view(oms.service.snapshot(), oms.runtime.health(), halted_now=gate.is_halted,
                      gate_reason=gate.reason, speed=oms.settings.speed)
    notice = _action_error(action, view.state) + view.notice
    breaker_out: list[Any] = []
    for name in ids.BREAKER_IDS:
        shown, tip = view.breakers[name]
        breaker_out += [shown, f"chip chip-{shown.lower()}", tip]
    return (view.state, view.state_class, view.halt_reason, *breaker_out, view.clock,
            view.health, view.health_class, options,
            dash.no_update if shown_account == account else account,
            "account-pick single" if len(names) < 2 else "account-pick",
            notice.strip())


def switch_account(chosen: Any, path: Any) -> str:
    """The switcher chose an account: remember it (a cookie, every tab of this browser) and
    reload the page on it. A name this server does not serve changes nothing."""
    directory = current_directory()
    if not isinstance(chosen, str) or chosen == requested_account(directory) \
            or chosen not in directory.names():
        raise dash.exceptions.PreventUpdate
    dash.callback_context.response.set_cookie(
        ACCOUNT_COOKIE, chosen, max_age=ACCOUNT_COOKIE_MAX_AGE_S, path="/", httponly=True,
        samesite="Strict")
    page = path if isinstance(path, str) and path.startswith("/") else "/"
    return f"{page}?{urlencode({ACCOUNT_ARG: chosen})}"


def kill_switch(n_clicks: Any, shown_account: Any = None) -> dict[str, Any]:
    """Halt at once (the gate closes in this thread), commit the halt, queue the cancel-all;
    the frame refreshes right away (HALTED and the banner come from the gate, not from this
    click). A halt in force but not durable, or a malformed click, is shown in the banner.
    It halts the account the switcher shows (``shown_account``), whichever another tab chose
    since."""
    at = datetime.now(UTC).isoformat()
    try:
        clicks = clicks_value(n_clicks)
    except ValidationError as exc:
        return {"action": "kill", "at": at, "error": f"Kill switch not pressed: {exc}"}
    if not clicks:
        raise dash.exceptions.PreventUpdate
    actor = current_actor()
    directory = current_directory()
    account = shown_account if isinstance(shown_account, str) \
        and shown_account in directory.names() else requested_account(directory)
    try:
        directory.get(account).service.kill("kill switch (dashboard)", actor=actor)
    except PersistenceError as exc:  # the halt is in force, only its commit failed
        return {"action": "kill", "by": actor, "at": at, "clicks": clicks, "halted": True,
                "error": f"KILL NOT YET DURABLE: {exc}."}
    except OmsError as exc:
        return {"action": "kill", "by": actor, "at": at, "error": f"Kill failed: {exc}."}
    log.warning("KILL SWITCH pressed on the dashboard by %s", actor)
    return {"action": "kill", "by": actor, "at": at, "clicks": clicks}


def register_frame_callbacks(app: dash.Dash) -> None:
    """Attach the frame callbacks to ``app``."""
    outputs = [Output(ids.TRADING_STATE, "children"), Output(ids.TRADING_STATE, "className"),
               Output(ids.HALT_REASON, "children")]
    for component_id in ids.BREAKER_IDS.values():
        outputs += [Output(component_id, "children"),
                    Output(f"{component_id}-chip", "className"),
                    Output(f"{component_id}-chip", "title")]
    outputs += [Output(ids.VENUE_CLOCK, "children"), Output(ids.ENGINE_HEALTH, "children"),
                Output(ids.ENGINE_HEALTH, "className"),
                Output(ids.ACCOUNT_SWITCHER, "options"), Output(ids.ACCOUNT_SWITCHER, "value"),
                Output(ids.ACCOUNT_PICK, "className"), Output(ids.FRAME_NOTICE, "children")]
    app.callback(outputs, Input(ids.LIVE_INTERVAL, "n_intervals"),
                 Input(ids.FRAME_ACTION, "data"),
                 State(ids.ACCOUNT_SWITCHER, "value"))(refresh_frame)
    app.callback(Output(ids.ACCOUNT_RELOAD, "href"), Input(ids.ACCOUNT_SWITCHER, "value"),
                 State(ids.ACCOUNT_RELOAD, "pathname"),
                 prevent_initial_call=True)(switch_account)
    app.callback(Output(ids.FRAME_ACTION, "data"), Input(ids.KILL_SWITCH, "n_clicks"),
                 State(ids.ACCOUNT_SWITCHER, "value"), prevent_initial_call=True)(kill_switch)
    register_alert_callbacks(app)
