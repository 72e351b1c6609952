"""The all-accounts overview: one row per account this process serves (its engine, trading
state, equity and working parents, from the account's latest snapshot), for the Accounts page
and GET /api/v1/accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from oms.directory import OmsDirectory
from oms.errors import OmsError

__all__ = ["STALE_AFTER_S", "AccountOverview", "accounts_overview"]

STALE_AFTER_S = 5.0  # an engine without a tick for this long is shown as stale


@dataclass(frozen=True, slots=True)
class AccountOverview:
    """One account as its latest snapshot shows it (None: its engine has not published)."""

    account: str
    default: bool
    venue: str
    engine: str  # running | stale | stopped | no engine yet
    trading_state: str | None
    halt_reason: str
    equity: Decimal | None
    pnl: Decimal | None
    daily_pnl: Decimal | None
    working_parents: int | None
    open_children: int | None
    market_time: datetime | None
    last_tick_at: datetime | None
    problem: str


def _row(directory: OmsDirectory, name: str, now: datetime) -> AccountOverview:
    default = name == directory.default
    try:
        oms = directory.get(name)
        health = oms.runtime.health()
        snap = oms.service.snapshot()
    except OmsError as exc:  # no engine has published for it yet
        return AccountOverview(name, default, "", "no engine yet", None, "", None, None, None,
                               None, None, None, None, str(exc))
    halted = oms.service.gate.is_halted
    state = "HALTED" if halted else str(snap.trading_state)
    age = (now - snap.wall_ts).total_seconds()
    engine = "stopped" if not health.running else "stale" if age > STALE_AFTER_S else "running"
    return AccountOverview(
        name, default, snap.venue, engine, state,
        oms.service.gate.reason if halted else snap.halt_reason, snap.equity, snap.pnl,
        snap.daily_pnl, sum(1 for p in snap.parents if p.state in ("PENDING", "WORKING")),
        snap.counts.get("open_children", 0), snap.ts, snap.wall_ts,
        health.last_problem or snap.last_error or "")


def accounts_overview(directory: OmsDirectory, now: datetime | None = None
                      ) -> list[AccountOverview]:
    """Every account served, by name."""
    now = now or datetime.now(UTC)
    return [_row(directory, name, now) for name in sorted(directory.names())]
