"""Pydantic models of every REST request body and response under /api/v1.

Request models check the SHAPE of a body: a JSON object, no unknown keys, the required keys
present (``parse_body`` turns pydantic's errors into our field errors). The values stay ``Any``
so that the service's own checks give the messages the API has always given (a size may be a
number or a decimal string, ``dry_run`` must be a JSON boolean ...); the JSON Schema of each
field still documents the type the service accepts (``WithJsonSchema``).
Response models describe what the API answers; money, prices and quantities are exact decimal
strings. They allow extra keys, so a field added by the engine is not a server error.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from oms.errors import FieldError, ValidationError

__all__ = [
    "MAX_PAGE", "MAX_PAGE_SIZE", "REQUEST_MODELS", "RESPONSE_MODELS", "CancelAccepted",
    "CancelRequest", "DryRunEstimate", "ErrorBody", "FieldProblem", "KillNotDurable",
    "KillRequest", "KillResult", "OrdersPage", "ParentSummary", "PositionSummary",
    "RebalanceRequest", "ReconciliationView", "ReportBody", "ResolveRequest", "ResolveResult",
    "ResubmitRequest", "ResubmitResult", "ResumeRequest", "ResumeResult", "SignalRequest",
    "StatusBody", "SubmitResult", "parse_body",
]

MAX_PAGE = 10_000_000
MAX_PAGE_SIZE = 1000
_NUMBER_OR_DECIMAL: dict[str, Any] = {"anyOf": [{"type": "number"}, {"type": "string"}]}
_NUMBER_OR_NULL: dict[str, Any] = {"anyOf": [{"type": "number"}, {"type": "string"},
                                             {"type": "null"}]}
_TEXT: dict[str, Any] = {"type": "string"}
_REASON: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 500,
           "description": "one line, at most 500 characters once stripped"}

Decimal_ = Annotated[str, Field(description='an exact decimal number as text, e.g. "0.015"')]
Number = int | float  # a union keeps what was sent: 1 stays 1, 1.5 stays 1.5
Timestamp = Annotated[str, Field(description="ISO-8601 UTC time")]
M = TypeVar("M", bound=BaseModel)


def _doc(schema: dict[str, Any], description: str | None = None) -> WithJsonSchema:
    """Document a permissive field (any JSON value reaches the service) as ``schema``."""
    documented = dict(schema)
    if description:
        documented["description"] = description
    return WithJsonSchema(documented)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RebalanceRequest(_Request):
    """Move the book to target USD exposures (or preview it with ``dry_run``)."""

    targets: Annotated[Any, _doc(
        {"anyOf": [{"type": "object", "additionalProperties": _NUMBER_OR_DECIMAL},
                   {"type": "string"}]},
        "{SYMBOL: target_usd} or text with one `SYMBOL TARGET_USD` per line")]
    algo: Annotated[Any, _doc(_TEXT, "twap, vwap, shortfall, pov, iceberg, market or auto")] \
        = "auto"
    duration_minutes: Annotated[Any, _doc(_NUMBER_OR_NULL, "horizon in minutes, at most 1440")] \
        = None
    urgency: Annotated[Any, _doc(_NUMBER_OR_DECIMAL, "0 (patient) to 1 (urgent)")] = 0.5
    dry_run: Annotated[Any, _doc({"type": "boolean"},
                                 "true: answer the pre-trade estimate, send nothing")] = False
    on_limit: Annotated[Any, _doc({"enum": ["reject", "clip"]},
                                  "a parent over a limit refuses the rebalance, or is clipped")] \
        = "reject"


class SignalRequest(_Request):
    """A strategy signal: size in USD (``size_usd``) or ``size`` (a number or "auto")."""

    symbol: Annotated[Any, _doc(_TEXT)]
    side: Annotated[Any, _doc({"enum": ["BUY", "SELL"]})]
    confidence: Annotated[Any, _doc(_NUMBER_OR_DECIMAL, "0 to 1")]
    size_usd: Annotated[Any, _doc(_NUMBER_OR_NULL, "USD notional, positive")] = None
    size: Annotated[Any, _doc(_NUMBER_OR_NULL, 'USD notional, or "auto" (fractional Kelly)')] \
        = None
    urgency: Annotated[Any, _doc(_NUMBER_OR_DECIMAL, "0 to 1")] = 0.5
    kind: Annotated[Any, _doc({"enum": ["entry", "exit"]})] = "entry"


class KillRequest(_Request):
    """Halt trading now; the reason defaults to "kill switch (api)"."""

    reason: Annotated[Any, _doc(_REASON)] = "kill switch (api)"


class ResumeRequest(_Request):
    """Return to ACTIVE; a reason is required."""

    reason: Annotated[Any, _doc(_REASON)]


class CancelRequest(_Request):
    """Cancel a working parent: an empty JSON object."""


class ResubmitRequest(_Request):
    """A new parent for the unfilled rest; the body itself may be empty."""

    duration_minutes: Annotated[Any, _doc(_NUMBER_OR_NULL,
                                          "horizon in minutes (default: the old one)")] = None


class ResolveRequest(_Request):
    """Resolve one reconciliation mismatch (``ignore`` needs a reason)."""

    action: Annotated[Any, _doc({"enum": ["adopt", "cancel", "ignore"]})]
    reason: Annotated[Any, _doc({"anyOf": [_REASON, {"type": "null"}]})] = None


REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    RebalanceRequest, SignalRequest, KillRequest, ResumeRequest, CancelRequest, ResubmitRequest,
    ResolveRequest)


def _problem(error: Any) -> FieldError:
    loc = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return FieldError(loc, "unknown field")
    if kind == "missing":
        return FieldError(loc, "required")
    if not loc:
        return FieldError("body", "must be a JSON object")
    return FieldError(loc, str(error["msg"]))


def parse_body(model: type[M], data: Any) -> M:
    """``data`` (a parsed JSON body) as ``model``, or ValidationError with every problem:
    unknown fields first, then missing ones, each sorted by name."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = [_problem(e) for e in exc.errors()]
        order = {"unknown field": 0, "required": 1}
        problems.sort(key=lambda p: (order.get(p.message, 2), p.field))
        raise ValidationError(problems) from None


# -- responses ---------------------------------------------------------------------------------


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
    skipped: list[tuple[str, str]]
    algos: dict[str, tuple[str, str]]
    superseded: list[str]
    sizing: dict[str, Any] | None


class DryRunEstimate(_Response):
    """The pre-trade estimate of a rebalance; nothing was sent."""

    dry_run: bool
    parents: list[dict[str, Any]]
    skipped: list[tuple[str, str]]
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


RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    ErrorBody, StatusBody, OrdersPage, SubmitResult, DryRunEstimate, KillResult, KillNotDurable,
    ResumeResult, CancelAccepted, ResubmitResult, ReportBody, ReconciliationView, ResolveResult)
