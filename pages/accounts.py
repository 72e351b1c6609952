"""/accounts: the all-accounts overview (engine, trading state, equity, P&L and working parents
of every account this server serves); the frame's switcher chooses the account the other pages
show."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, html

from components import ids
from components.context import current_directory
from components.format import fmt_datetime, fmt_usd
from components.registry import register_page
from components.tables import Column, section, table
from oms.accounts_overview import AccountOverview, accounts_overview
from oms.directory import requested_account

__all__ = ["ACCOUNT_COLUMNS", "account_rows", "layout", "refresh_accounts", "register"]

ACCOUNT_COLUMNS = (
    Column("Account", "account"),
    Column("Venue", "venue"),
    Column("Engine", "engine", hint="running; stale: no tick for 5 s; stopped; or no engine "
                                    "has published for this account yet"),
    Column("State", "state", hint="trading state: ACTIVE, REDUCING or HALTED (with why)"),
    Column("Equity", "equity", num=True, hint="cash plus positions at mid, USD"),
    Column("P&L", "pnl", num=True, hint="since the account's start, USD"),
    Column("Day P&L", "daily_pnl", num=True, hint="since 00:00 UTC of the market clock, USD"),
    Column("Working", "working", num=True, hint="parents PENDING or WORKING"),
    Column("Open children", "children", num=True, hint="child orders that may still fill"),
    Column("Last tick", "tick", hint="wall-clock time of the engine's latest snapshot"),
)


def _money(value: Any, signed: bool = False) -> str:
    return "–" if value is None else fmt_usd(value, signed=signed)


def account_rows(rows: list[AccountOverview], shown: str) -> list[dict[str, Any]]:
    """Pure: the overview's table rows (``shown``: the account the other pages show)."""
    out: list[dict[str, Any]] = []
    for row in rows:
        state = row.trading_state or "–"
        badge = html.Span(state, className=f"state-badge state-{state.lower()}",
                          title=row.halt_reason or row.problem or None)
        name = [html.Span(row.account, className="account-name")]
        if row.account == shown:
            name.append(html.Span(" · shown", className="muted"))
        out.append({
            "account": name, "venue": row.venue or "–", "engine": row.engine, "state": badge,
            "equity": _money(row.equity), "pnl": _money(row.pnl, True),
            "daily_pnl": _money(row.daily_pnl, True),
            "working": "–" if row.working_parents is None else str(row.working_parents),
            "children": "–" if row.open_children is None else str(row.open_children),
            "tick": fmt_datetime(row.last_tick_at) if row.last_tick_at else "–",
            "_class": "row-shown" if row.account == shown else None,
        })
    return out


def layout(**_query: Any) -> html.Div:
    """The accounts page."""
    return html.Div(className="page page-accounts", children=[
        section("Accounts", html.Div(id=ids.ACCOUNTS_TABLE, className="table-scroll"),
                extra=html.Span("every account's engine, state and book · choose the account "
                                "the other pages show in the top bar", className="muted")),
    ])


def refresh_accounts(_n: int | None) -> Any:
    """Live refresh of the overview (every second)."""
    directory = current_directory()
    rows = accounts_overview(directory)
    return table(ACCOUNT_COLUMNS, account_rows(rows, requested_account(directory)),
                 empty="no account yet: `oms accounts add NAME`")


def register(app: dash.Dash) -> None:
    """Register the page and attach its callback to ``app``."""
    register_page(__name__, path="/accounts", name="Accounts", order=5,
                  title="Accounts · DipMaster OMS", layout=layout)
    app.callback(Output(ids.ACCOUNTS_TABLE, "children"),
                 Input(ids.LIVE_INTERVAL, "n_intervals"))(refresh_accounts)
