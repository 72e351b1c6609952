"""The immutable engine snapshot published after every tick (what live panels read)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from oms.market.types import Quote
from oms.model import Fill, ParentOrder, TradingState
from oms.rebalance import PlanInputs
from oms.reconciliation import ReconcileView

__all__ = ["EngineSnapshot", "ExecutionCounts", "ParentView", "PositionView", "VenueView",
           "parent_view"]


@dataclass(frozen=True, slots=True)
class PositionView:
    """One position marked to market."""

    symbol: str
    quantity: Decimal
    avg_cost: Decimal
    mid: Decimal | None
    market_value: Decimal
    unrealised_pnl: Decimal
    realised_pnl: Decimal
    target_usd: Decimal | None


@dataclass(frozen=True, slots=True)
class ParentView:
    """A parent order frozen at snapshot time."""

    parent_id: str
    session_id: str
    symbol: str
    side: str
    algo: str
    algo_reason: str
    state: str
    quantity: Decimal
    filled_quantity: Decimal
    avg_price: Decimal | None
    arrival_price: Decimal | None
    progress: float
    time_progress: float
    slippage_bps: float | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    duration_minutes: float
    working_children: int
    end_reason: str | None
    resumes: int = 0  # engine restarts it continued through
    resumed_at: datetime | None = None


def parent_view(p: ParentOrder, now: datetime, working_children: int,
                mid: Decimal | None) -> ParentView:
    """Freeze ``p``; slippage is vs arrival, positive = cost."""
    start = p.started_at or p.created_at
    window = p.duration_minutes * 60
    elapsed = ((p.ended_at or now) - start).total_seconds()
    time_progress = 1.0 if window <= 0 else max(0.0, min(1.0, elapsed / window))
    slippage = None
    avg = p.avg_price
    if avg is not None and p.arrival_price:
        slippage = float((avg - p.arrival_price) / p.arrival_price * 10_000) * p.side.sign
    return ParentView(p.parent_id, p.session_id, p.symbol, p.side.value, p.algo.value,
                      p.algo_reason, p.state.value, p.quantity, p.filled_quantity, avg,
                      p.arrival_price, p.progress, time_progress, slippage, p.created_at,
                      p.started_at, p.ended_at, p.duration_minutes, working_children, p.end_reason,
                      p.resumes, p.resumed_at)


@dataclass(frozen=True, slots=True)
class ExecutionCounts:
    """Children sent, filled and rejected (by reason code) since the process started, and the
    venue round trips (count, sum, last): the counters behind /metrics."""

    sent: int = 0
    filled: int = 0
    fills: int = 0
    rejected: tuple[tuple[str, int], ...] = ()
    latency_count: int = 0
    latency_sum_ms: float = 0.0
    last_latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class VenueView:
    """One venue of a routed set: health, the quote asset it holds, its exposure against its
    limit, and its share of the filled notional."""

    name: str
    healthy: bool
    status: str
    quote_free: Decimal
    quote_total: Decimal
    exposure_usd: Decimal
    limit_usd: Decimal | None
    filled_notional: Decimal
    share: float


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """Everything the live panels show, as of one tick."""

    ts: datetime  # market time of the tick
    wall_ts: datetime  # wall-clock time the tick finished
    tick: int
    venue: str
    trading_state: TradingState
    halt_reason: str
    cash: Decimal
    equity: Decimal
    pnl: Decimal
    daily_pnl: Decimal
    mids: dict[str, Decimal]
    positions: tuple[PositionView, ...]
    parents: tuple[ParentView, ...]  # working parents first, then recently finished ones
    recent_fills: tuple[Fill, ...]
    breakers: dict[str, dict[str, Any]] = field(default_factory=dict)
    risk_usage: dict[str, dict[str, float]] = field(default_factory=dict)
    market_open: dict[str, bool] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None
    venue_status: str = "OK"
    plan_inputs: PlanInputs | None = None  # what a rebalance would plan against (the preview)
    reconciliation: ReconcileView | None = None  # last run, open mismatches (oms.reconciliation)
    quotes: dict[str, Quote] = field(default_factory=dict)  # the tick's touch (pre-trade spread)
    executions: ExecutionCounts = field(default_factory=ExecutionCounts)
    venues: tuple[VenueView, ...] = ()  # several venues (routing): one view each
