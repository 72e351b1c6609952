"""Pydantic models of the REST API's answers (re-exported by ``oms.api_models``).

They describe what each route answers: money, prices and quantities are exact decimal strings,
times ISO-8601 UTC. They allow extra keys, so a field the engine adds is not a server error;
``oms.api`` checks and serializes every answer through them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "RESPONSE_MODELS", "AccountRow", "AccountsList", "CancelAccepted", "DryRunEstimate",
    "EngineHealth", "ErrorBody", "FieldProblem", "KillNotDurable", "KillResult", "OrdersPage",
    "ParentSummary", "PositionSummary", "Queued", "ReconciliationView", "ReportBody",
    "ResolveResult", "ResubmitResult", "ResumeResult", "StatusBody", "SubmitResult",
]

Decimal_ = Annotated[str, Field(description='an exact decimal number as text, e.g. "0.015"')]
Number = int | float  # a union keeps what was sent: 1 stays 1, 1.5 stays 1.5
Timestamp = Annotated[str, Field(description="ISO-8601 UTC time")]
# (symbol, reason) or (algo, reason); a list, not a tuple: its JSON Schema has no prefixItems
Pair = Annotated[list[str], Field(min_length=2, max_length=2)]


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class FieldProblem(BaseModel):
    """One problem with one field of the request."""

    field: str
    message: str


class ErrorBody(_Response):
    """Every 4xx/5xx answer: a sentence and the problems, field by field."""

    error: str
    errors: list[FieldProblem]


class PositionSummary(_Response):
    """One position marked to market."""

    symbol: str
    quantity: Decimal_
    avg_cost: Decimal_
    mid: Decimal_ | None
    market_value: Decimal_
    unrealised_pnl: Decimal_
    realised_pnl: Decimal_
    target_usd: Decimal_ | None


class ParentSummary(_Response):
    """A working parent order as of the latest snapshot."""

    parent_id: str
    session_id: str
    symbol: str
    side: str
    algo: str
    state: str
    quantity: Decimal_
    filled_quantity: Decimal_
    avg_price: Decimal_ | None
    progress: Number
    created_at: Timestamp
    duration_minutes: Number


class EngineHealth(BaseModel):
    """The scheduler job that ticks the engine."""

    running: bool
    errors: int
    missed: int
    last_problem: str | None


class StatusBody(_Response):
    """Trading state, account, breakers, risk usage, positions and working parents."""

    account: str
    trading_state: str
    halt_reason: str
    market_time: Timestamp
    tick: int
    venue: str
    venue_status: str
    cash: Decimal_
    equity: Decimal_
    pnl: Decimal_
    daily_pnl: Decimal_
    breakers: dict[str, dict[str, Any]]
    risk_usage: dict[str, dict[str, Any]]
    positions: list[PositionSummary]
    working_parents: list[ParentSummary]
    counts: dict[str, int]
    last_error: str | None
    engine: EngineHealth


class OrdersPage(_Response):
    """One page of parent or child orders (newest first)."""

    kind: str
    page: int
    page_size: int
    total: int
    rows: list[dict[str, Any]]


class SubmitResult(_Response):
    """A submitted rebalance or signal: the session and the parents it created."""

    session_id: str
    parent_ids: list[str]
    skipped: list[Pair]
    algos: dict[str, Pair]
    superseded: list[str]
    sizing: dict[str, Any] | None


class DryRunEstimate(_Response):
    """The pre-trade estimate of a rebalance; nothing was sent."""

    dry_run: bool
    parents: list[dict[str, Any]]
    skipped: list[Pair]
    superseded: list[str]
    refused: bool
    total: dict[str, Any]
    errors: list[FieldProblem]


class KillResult(_Response):
    """The halt is in force and committed."""

    trading_state: str
    reason: str
    durable: bool


class KillNotDurable(ErrorBody):
    """503: the halt is in force (gate closed, cancel-all queued) but not yet committed."""

    trading_state: str
    durable: bool


class ResumeResult(_Response):
    """The trading state after a resume (``changed`` is false when it was already ACTIVE)."""

    trading_state: str
    changed: bool
    message: str


class CancelAccepted(_Response):
    """The cancel of a parent and its children is queued."""

    parent_id: str
    cancel: str


class ResubmitResult(_Response):
    """The new parent for the rest of an ended one."""

    resubmitted_from: str
    parent_id: str
    session_id: str


class ReportBody(_Response):
    """A session's ExecutionReport (summary, costs, TCA, quality, parents)."""

    session_id: str


class ReconciliationView(_Response):
    """Running reconciliation: last and next run, the open mismatches with both views."""

    enabled: bool
    interval_s: Number
    last_run_at: Timestamp | None
    next_run_at: Timestamp | None
    runs: int
    mismatches: list[dict[str, Any]]
    pending: int


class ResolveResult(_Response):
    """What resolving a mismatch did."""

    mismatch_id: str
    kind: str
    subject: str
    action: str
    result: str


class AccountRow(_Response):
    """One account as its latest snapshot shows it (nulls: its engine has not published)."""

    account: str
    default: bool
    venue: str
    engine: str = Field(description="running, stale (no tick for 5 s), stopped or "
                                    "'no engine yet'")
    trading_state: str | None
    halt_reason: str
    equity: Decimal_ | None
    pnl: Decimal_ | None
    daily_pnl: Decimal_ | None
    working_parents: int | None
    open_children: int | None
    market_time: Timestamp | None
    last_tick_at: Timestamp | None
    problem: str


class AccountsList(_Response):
    """Every account this server serves (the embedded mode: one)."""

    accounts: list[AccountRow]


class Queued(_Response):
    """Split deployment: the command is stored and queued, its engine has not applied it yet
    (it will be, once); poll the state it changes, or send it again only if it is idempotent."""

    status: str
    command_id: int
    account: str
    message: str


RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    ErrorBody, StatusBody, OrdersPage, SubmitResult, DryRunEstimate, KillResult, KillNotDurable,
    ResumeResult, CancelAccepted, ResubmitResult, ReportBody, ReconciliationView, ResolveResult,
    AccountsList, Queued)
