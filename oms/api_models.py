"""Pydantic models of every REST request body and response under /api/v1 (the responses are
defined in ``oms.api_responses`` and re-exported here).

Request models check the SHAPE of a body: a JSON object, no unknown keys, the required keys
present (``parse_body`` turns pydantic's errors into our field errors). The values stay ``Any``
so that the service's own checks give the messages the API has always given (a size may be a
number or a decimal string, ``dry_run`` must be a JSON boolean ...); the JSON Schema of each
field still documents the type the service accepts (``WithJsonSchema``).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, WithJsonSchema

from oms.api_responses import (
    RESPONSE_MODELS,
    AccountsList,
    CancelAccepted,
    DryRunEstimate,
    EngineHealth,
    ErrorBody,
    FieldProblem,
    KillNotDurable,
    KillResult,
    OrdersPage,
    ParentSummary,
    PositionSummary,
    Queued,
    ReconciliationView,
    ReportBody,
    ResolveResult,
    ResubmitResult,
    ResumeResult,
    StatusBody,
    SubmitResult,
)
from oms.errors import FieldError, ValidationError

__all__ = [
    "MAX_PAGE", "MAX_PAGE_SIZE", "REQUEST_MODELS", "RESPONSE_MODELS", "AccountsList",
    "CancelAccepted", "CancelRequest", "DryRunEstimate", "EngineHealth", "ErrorBody",
    "FieldProblem", "KillNotDurable", "KillRequest", "KillResult", "OrdersPage", "ParentSummary",
    "PositionSummary", "Queued", "RebalanceRequest", "ReconciliationView", "ReportBody",
    "ResolveRequest", "ResolveResult", "ResubmitRequest", "ResubmitResult", "ResumeRequest",
    "ResumeResult", "SignalRequest", "StatusBody", "SubmitResult", "parse_body",
]

MAX_PAGE = 10_000_000
MAX_PAGE_SIZE = 1000
_NUMBER_OR_DECIMAL: dict[str, Any] = {"anyOf": [{"type": "number"}, {"type": "string"}]}
_NUMBER_OR_NULL: dict[str, Any] = {"anyOf": [{"type": "number"}, {"type": "string"},
                                             {"type": "null"}]}
_TEXT: dict[str, Any] = {"type": "string"}
_REASON: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 500,
           "description": "one line, at most 500 characters once stripped"}

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

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"targets": {"BTCUSDT": 3000, "ETHUSDT": "2000"}, "algo": "twap",
         "duration_minutes": 30, "dry_run": True},
        {"targets": "BTCUSDT 1500\nSOLUSDT 500", "urgency": 0.7}]})

    targets: Annotated[Any, _doc(
        {"anyOf": [{"type": "object", "additionalProperties": _NUMBER_OR_DECIMAL},
                   {"type": "string"}]},
        "{SYMBOL: target_usd}, or text: one ``SYMBOL TARGET_USD`` per line")]
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

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"symbol": "ETHUSDT", "side": "BUY", "size_usd": 500, "confidence": 0.6},
        {"symbol": "BTCUSDT", "side": "SELL", "size": "auto", "confidence": 0.7,
         "kind": "exit"}]})

    symbol: Annotated[Any, _doc(_TEXT)]
    side: Annotated[Any, _doc({"enum": ["BUY", "SELL"]}, "BUY or SELL (any case)")]
    confidence: Annotated[Any, _doc(_NUMBER_OR_DECIMAL, "0 to 1")]
    size_usd: Annotated[Any, _doc(_NUMBER_OR_NULL, "USD notional, positive")] = None
    size: Annotated[Any, _doc(_NUMBER_OR_NULL, 'USD notional, or "auto" (fractional Kelly)')] \
        = None
    urgency: Annotated[Any, _doc(_NUMBER_OR_DECIMAL, "0 to 1")] = 0.5
    kind: Annotated[Any, _doc({"enum": ["entry", "exit"]})] = "entry"


class KillRequest(_Request):
    """Halt trading now; the reason defaults to "kill switch (api)"."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"reason": "desk drill"}]})

    reason: Annotated[Any, _doc(_REASON)] = "kill switch (api)"


class ResumeRequest(_Request):
    """Return to ACTIVE; a reason is required."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"reason": "drill over"}]})

    reason: Annotated[Any, _doc(_REASON)]


class CancelRequest(_Request):
    """Cancel a working parent: an empty JSON object."""


class ResubmitRequest(_Request):
    """A new parent for the unfilled rest; the body itself may be empty."""

    duration_minutes: Annotated[Any, _doc(_NUMBER_OR_NULL,
                                          "horizon in minutes (default: the old one)")] = None


class ResolveRequest(_Request):
    """Resolve one reconciliation mismatch (``ignore`` needs a reason)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "adopt"}, {"action": "ignore", "reason": "a manual trade, booked"}]})

    action: Annotated[Any, _doc({"enum": ["adopt", "cancel", "ignore"]},
                                "adopt, cancel or ignore (any case)")]
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
