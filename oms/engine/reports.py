"""ReportBuilder: when a session ends, build its ExecutionReport (TCA) and store it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.journal import Journal
from oms.market.base import MarketData
from oms.market.types import Bar
from oms.model import ChildOrder, Fill, ParentOrder
from oms.persistence.estimates import parent_estimates
from oms.persistence.repository import Repository
from oms.tca.estimate_check import estimate_vs_realised
from oms.tca.inputs import SessionExecution, TargetPosition, parent_execution
from oms.tca.intervals import MarketWindow
from oms.tca.own_impact import estimate_own_impact
from oms.tca.report import build_execution_report

__all__ = ["REPORT_PATIENCE", "ReportBuilder", "market_window", "session_report"]

log = logging.getLogger(__name__)

REPORT_PATIENCE = timedelta(seconds=5)  # the longest cancels in flight hold reports back


def market_window(market: MarketData, symbol: str, start: datetime, end: datetime,
                  bars: list[Bar]) -> MarketWindow:
    """The market's VWAP, TWAP and volume over ``bars``, the 1-minute bars that overlap
    [start, end) (the market's own sub-minute figures when no bar has completed yet)."""
    if bars:
        return MarketWindow.from_bars(bars)
    vwap = market.vwap(symbol, start, end)
    return MarketWindow(vwap=vwap, twap=vwap, volume=market.traded_volume(symbol, start, end))


def session_report(*, session: dict[str, Any], parents: list[ParentOrder],
                   children: list[ChildOrder], fills: list[Fill], market: MarketData,
                   venue: str, generated_at: datetime,
                   risk: dict[str, Any] | None = None,
                   estimates: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Build the ExecutionReport of one session from its stored orders and fills; each parent's
    own impact comes from the market (oms.tca.own_impact: the simulator's unperturbed path, or
    the impact law replayed over its fills), read only; ``estimates`` (parent id -> the
    pre-trade estimate stored at its creation) give each parent its ``estimate`` block."""
    by_parent: dict[str, list[ChildOrder]] = {}
    for child in children:
        by_parent.setdefault(child.parent_id, []).append(child)
    fills_by_parent: dict[str, list[Fill]] = {}
    for fill in fills:
        fills_by_parent.setdefault(fill.parent_id, []).append(fill)
    executions = []
    paths: dict[str, list[dict[str, Any]]] = {}
    for parent in parents:
        start = parent.started_at or parent.created_at
        end = parent.ended_at or generated_at
        bars = market.bars(parent.symbol, start.replace(second=0, microsecond=0), end)
        paths[parent.parent_id] = [{"time": bar.open_time.isoformat(), "price": bar.close}
                                   for bar in bars]
        own_fills = fills_by_parent.get(parent.parent_id, [])
        window = market_window(market, parent.symbol, start, end, bars)
        own = estimate_own_impact(market, parent.symbol, parent.side, own_fills, start=start,
                                  end=end, arrival=parent.arrival_price, bars=bars,
                                  market_volume=window.volume)
        executions.append(parent_execution(
            parent, by_parent.get(parent.parent_id, []), own_fills, market=window, end=end,
            unimpacted_mids=own.unimpacted_mids, impact_source=own.source))
    current = (session.get("params") or {}).get("current_usd", {})
    targets = [TargetPosition(symbol, Decimal(str(value)), Decimal(str(current.get(symbol, 0))))
               for symbol, value in (session.get("targets") or {}).items()]
    risk = risk or {}
    execution = SessionExecution(
        session_id=session["session_id"], venue=venue, started_at=session["created_at"],
        ended_at=session.get("ended_at") or generated_at, parents=executions, targets=targets,
        risk_violations=risk.get("violations", []), breakers_tripped=risk.get("breakers", []),
        trading_state=risk.get("trading_state", "ACTIVE"))
    report = build_execution_report(execution, generated_at)
    estimates = estimates or {}
    for entry in report["parents"]:
        entry["market_path"] = paths[entry["parent_id"]]
        sent = sum(1 for c in by_parent.get(entry["parent_id"], []) if c.sent_at is not None)
        entry["estimate"] = estimate_vs_realised(estimates.get(entry["parent_id"]), entry,
                                                 children_sent=sent)
    return report


class ReportBuilder:
    """Builds reports for sessions that ended, after their rows are committed."""

    def __init__(self, *, repository: Repository, journal: Journal, market: MarketData,
                 venue_name: str, trading_state: Callable[[], str]) -> None:
        self.repository = repository
        self.journal = journal
        self.market = market
        self.venue_name = venue_name
        self.trading_state = trading_state
        self._pending: list[tuple[str, datetime]] = []
        self.latest: dict[str, Any] | None = None

    @property
    def pending(self) -> bool:
        """True when reports wait to be built."""
        return bool(self._pending)

    def session_ended(self, session_id: str, now: datetime) -> None:
        """Queue the report of ``session_id`` (built after this tick's journal is written)."""
        self._pending.append((session_id, now))

    def build_pending(self, limit: int | None = 2, *, busy: bool = False,
                      now: datetime | None = None) -> None:
        """Build and store up to ``limit`` queued reports (all with None); the rest wait for the
        next ticks, so a burst of finished sessions never makes one tick long. With ``now``,
        a tick that ended a session builds no report (that tick, e.g. the one confirming a
        kill's last cancels, does only that), nor does a ``busy`` one (cancels waiting
        for the venue's confirmation); neither holds a report back longer than
        ``REPORT_PATIENCE`` after its session ended: cancels come first."""
        if now is not None and self._pending and (busy or self._pending[-1][1] >= now) and (
                now - self._pending[0][1] < REPORT_PATIENCE):
            return
        count = len(self._pending) if limit is None else min(limit, len(self._pending))
        batch, self._pending = self._pending[:count], self._pending[count:]
        for session_id, now in batch:
            try:
                report = self.build(session_id, now)
            except Exception:  # a report must never stop trading
                log.exception("execution report of %s failed", session_id)
                continue
            self.journal.report(session_id, now, report)
            self.latest = report

    def build(self, session_id: str, now: datetime) -> dict[str, Any]:
        """The ExecutionReport of one session, from the database and the market."""
        repo = self.repository
        session = repo.session(session_id)
        if session is None:
            raise KeyError(session_id)
        session["ended_at"] = session.get("ended_at") or now
        parents = repo.parents_of_session(session_id)
        children = repo.children_of([p.parent_id for p in parents])
        fills = repo.fills_for(session_id=session_id)
        violations = repo.risk_messages_of("VIOLATION", [c.client_order_id for c in children])
        trips = [e["code"] for e in repo.risk_events(kind="BREAKER_TRIP", limit=100)
                 if e["ts"] >= session["created_at"]]
        return session_report(
            session=session, parents=parents, children=children, fills=fills,
            market=self.market, venue=self.venue_name, generated_at=now,
            risk={"violations": violations, "breakers": trips,
                  "trading_state": self.trading_state()},
            estimates=parent_estimates(repo.db, [p.parent_id for p in parents]))
