"""REST API under /api/v1 on the dashboard's Flask server: JSON in, JSON out.

Every route takes ``?account=NAME`` (oms.directory: the account it acts on; an unknown one is
a 404 naming it; without it, the dashboard's chosen account or the default one). Routes: GET
status, GET accounts (the all-accounts overview), GET orders, POST rebalance, POST signals,
POST kill, POST resume, POST orders/<parent_id>/cancel, POST orders/<parent_id>/resubmit,
GET reports/<session_id> (and its fills as CSV), GET reconciliation,
POST reconciliation/<mismatch_id>/resolve, GET openapi.json (the OpenAPI 3.1 document,
``oms.openapi``) and GET docs (its page).
Bodies are parsed and answers serialized through the pydantic models of ``oms.api_models``.
Errors are 4xx JSON bodies ``{"error": ..., "errors": [{"field", "message"}]}``; a request is
validated whole before anything is queued, so nothing is half-applied. Authentication, the Host
check, JSON-only bodies and security headers are enforced by ``oms.auth`` for every route, body
size and JSON depth limits by ``oms.web_limits``. A kill answers 200 only once the halt is
committed; a halt in force but not yet durable answers 503 with ``"durable": false``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, is_dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import wraps
from typing import Any, TypeVar

import flask
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException

from oms import api_models as m
from oms.accounts_overview import accounts_overview
from oms.api_docs import docs_html
from oms.auth import USER_KEY
from oms.directory import ACCOUNT_ARG, current_directory, current_oms
from oms.errors import (
    FieldError,
    NotFound,
    NotYetApplied,
    OmsError,
    PersistenceError,
    TradingHalted,
    ValidationError,
)
from oms.openapi import openapi_document
from oms.pretrade_estimate import estimate_json, totals
from oms.service import OmsService
from oms.web_limits import DASH_CALLBACK_PATH

__all__ = ["API_PREFIX", "api_blueprint", "install_api", "jsonable"]

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)


def jsonable(value: Any) -> Any:
    """Decimals as exact strings, datetimes as ISO-8601, dataclasses and enums unpacked."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def _error(status: int, errors: list[FieldError]) -> flask.Response:
    response = flask.jsonify({"error": "; ".join(str(e) for e in errors),
                              "errors": [{"field": e.field, "message": e.message}
                                         for e in errors]})
    response.status_code = status
    return response


def _service() -> OmsService:
    """The service of the request's account (``?account=NAME``; NotFound: 404 naming it)."""
    return current_oms().service


def _actor() -> str:
    return f"api:{flask.g.get(USER_KEY) or 'anonymous'}"


def _body(model: type[M]) -> M:
    """The JSON object of the request as ``model``; unknown or missing keys are field errors."""
    return m.parse_body(model, flask.request.get_json(silent=True))


def _reply(model: type[BaseModel], payload: Any, status: int = 200) -> flask.Response:
    """``payload`` checked against its response model and serialized through it (keys and
    values as given: nothing added, nothing coerced)."""
    checked = model.model_validate(jsonable(payload))
    response = flask.jsonify(checked.model_dump(mode="json", exclude_unset=True))
    response.status_code = status
    return response


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = flask.request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(FieldError(name, f"must be an integer, got {raw!r}")) from None
    if not low <= value <= high:
        raise ValidationError(FieldError(name, f"must be between {low} and {high}, got {value}"))
    return value


_ONLY_ACCOUNT = frozenset({ACCOUNT_ARG})


def _handled(func: F, query: frozenset[str] | None = _ONLY_ACCOUNT) -> F:
    """Translate the OMS exception tree into JSON errors; a query argument not in ``query``
    is a 422 naming it (None: the view checks its own)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            unknown = sorted(set(flask.request.args) - query) if query is not None else []
            if unknown:
                raise ValidationError([FieldError(k[:64], "unknown query parameter")
                                       for k in unknown])
            return func(*args, **kwargs)
        except NotFound as exc:
            return _error(404, exc.errors)
        except ValidationError as exc:
            return _error(422, exc.errors)
        except TradingHalted as exc:
            return _error(409, [FieldError("trading_state", str(exc))])
        except NotYetApplied as exc:  # split mode: stored and queued, applied later, once
            response = flask.jsonify({"status": "queued", "command_id": exc.command_id,
                                      "account": exc.account, "message": str(exc)})
            response.status_code = 202
            return response
        except OmsError as exc:
            log.warning("api %s failed: %s", flask.request.path, exc)
            return _error(503, [FieldError("engine", str(exc))])

    return wrapper  # type: ignore[return-value]


def _status() -> flask.Response:
    oms = current_oms()
    service = oms.service
    snap = service.snapshot()
    gate = service.gate
    health = oms.runtime.health()
    return _reply(m.StatusBody, {
        "account": service.settings.account,
        "trading_state": "HALTED" if gate.is_halted else snap.trading_state,
        "halt_reason": gate.reason if gate.is_halted else snap.halt_reason,
        "market_time": snap.ts, "tick": snap.tick, "venue": snap.venue,
        "venue_status": snap.venue_status, "cash": snap.cash, "equity": snap.equity,
        "pnl": snap.pnl, "daily_pnl": snap.daily_pnl, "breakers": snap.breakers,
        "risk_usage": snap.risk_usage, "positions": list(snap.positions),
        "working_parents": [p for p in snap.parents if p.state in ("PENDING", "WORKING")],
        "counts": snap.counts, "last_error": snap.last_error,
        "engine": {"running": health.running, "errors": health.errors, "missed": health.missed,
                   "last_problem": health.last_problem},
    })


def _orders() -> flask.Response:
    args = flask.request.args
    kind = args.get("kind", "parents")
    if kind not in ("parents", "children"):
        raise ValidationError(FieldError("kind", f"must be parents or children, got {kind!r}"))
    allowed = ({"kind", "page", "page_size", "state", "symbol", "session_id"} if kind == "parents"
               else {"kind", "page", "page_size", "state", "symbol", "parent_id"}) | {ACCOUNT_ARG}
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ValidationError([FieldError(k, "unknown query parameter") for k in unknown])
    page = _int_arg("page", 0, 0, m.MAX_PAGE)
    page_size = _int_arg("page_size", 100, 1, m.MAX_PAGE_SIZE)
    filters = {k: args[k] for k in ("state", "symbol", "session_id", "parent_id")
               if k in allowed and args.get(k)}
    service = _service()
    result = (service.parent_orders(page=page, page_size=page_size, **filters)
              if kind == "parents"
              else service.child_orders(page=page, page_size=page_size, **filters))
    return _reply(m.OrdersPage, {"kind": kind, "page": page, "page_size": page_size,
                                 "total": result.total, "rows": result.rows})


def _rebalance() -> flask.Response:
    body = _body(m.RebalanceRequest)
    targets = body.targets
    errors: list[FieldError] = []
    if not isinstance(targets, str | dict):
        errors.append(FieldError("targets", "must be an object {SYMBOL: usd} or text"))
    if not isinstance(body.dry_run, bool):
        errors.append(FieldError("dry_run", "must be true or false (a JSON boolean), got "
                                            f"{body.dry_run!r:.40}"))
    if errors:
        raise ValidationError(errors)
    service = _service()
    if body.dry_run:
        estimate = service.estimate_rebalance(targets, body.algo, body.duration_minutes,
                                              body.urgency, on_limit=body.on_limit)
        plan = estimate.plan
        cost_usd, notional_usd = totals(estimate.parents)
        return _reply(m.DryRunEstimate, {
            "dry_run": True, "parents": estimate_json(estimate), "skipped": plan.skipped,
            "superseded": plan.superseded, "refused": estimate.refused,
            "total": {"expected_cost_usd": f"{cost_usd:.2f}",
                      "notional_usd": f"{notional_usd:.2f}",
                      "expected_cost_bps": round(cost_usd / notional_usd * 10_000, 2)
                      if notional_usd else 0.0},
            "errors": [{"field": e.field, "message": e.message} for e in plan.breaches]})
    result = service.submit_rebalance(targets, body.algo, body.duration_minutes, body.urgency,
                                      on_limit=body.on_limit, actor=_actor())
    log.info("rebalance %s submitted by %s", result.session_id, _actor())
    return _reply(m.SubmitResult, result, 201)


def _signal() -> flask.Response:
    body = _body(m.SignalRequest)  # size_usd or size: checked by the service
    result = _service().submit_signal(str(body.symbol), str(body.side), body.size_usd,
                                      body.confidence, body.urgency, str(body.kind),
                                      size=body.size, actor=_actor())
    log.info("signal %s submitted by %s", result.session_id, _actor())
    return _reply(m.SubmitResult, result, 201)


def _kill() -> flask.Response:
    body = _body(m.KillRequest)
    reason = body.reason  # validated by the service (null included); absent: the default
    try:
        _service().kill(reason, actor=_actor())
    except PersistenceError as exc:  # the halt is in force, only its commit failed
        return _reply(m.KillNotDurable, {
            "trading_state": "HALTED", "durable": False, "error": f"durable: {exc}",
            "errors": [{"field": "durable", "message": str(exc)}]}, 503)
    log.warning("KILL SWITCH by %s: %s", _actor(), reason)
    return _reply(m.KillResult, {"trading_state": "HALTED", "reason": str(reason).strip(),
                                 "durable": True})


def _resume() -> flask.Response:
    body = _body(m.ResumeRequest)
    result = _service().resume(body.reason, actor=_actor())
    if result.changed:  # an already-ACTIVE account: nothing happened, nothing to log
        log.warning("resume by %s: %s", _actor(), body.reason)
    return _reply(m.ResumeResult, {"trading_state": result.state.value,
                                   "changed": result.changed, "message": result.message})


def _cancel(parent_id: str) -> flask.Response:
    _body(m.CancelRequest)
    _service().cancel_parent(parent_id, actor=_actor())
    return _reply(m.CancelAccepted, {"parent_id": parent_id, "cancel": "requested"})


def _resubmit(parent_id: str) -> flask.Response:
    """A new parent for the unfilled rest of an ended parent; body optional:
    {"duration_minutes": ...} (default: the old parent's horizon)."""
    raw = flask.request.get_data(cache=True)
    body = _body(m.ResubmitRequest) if raw.strip() else m.ResubmitRequest()
    result = _service().resubmit_remaining(parent_id, body.duration_minutes, actor=_actor())
    return _reply(m.ResubmitResult, {"resubmitted_from": parent_id,
                                     "parent_id": result.parent_ids[0],
                                     "session_id": result.session_id}, 201)


def _reconciliation() -> flask.Response:
    """Running reconciliation: last run, next run, the open mismatches with both views."""
    return _reply(m.ReconciliationView, _service().reconciliation())


def _resolve(mismatch_id: str) -> flask.Response:
    """Resolve one mismatch: {"action": "adopt" | "cancel" | "ignore", "reason": ...}."""
    body = _body(m.ResolveRequest)
    result = _service().resolve_mismatch(mismatch_id, body.action, body.reason, actor=_actor())
    log.warning("reconciliation %s resolved by %s: %s", mismatch_id, _actor(), body.action)
    return _reply(m.ResolveResult, result)


def _report(session_id: str) -> flask.Response:
    report = _service().report(session_id)
    if report is None:
        return _error(404, [FieldError("session_id", f"no report for session {session_id!r} "
                                                     "(unknown, or still executing)")])
    return _reply(m.ReportBody, report)


def _report_csv(session_id: str) -> flask.Response:
    from oms.tca.report import fills_csv

    report = _service().report(session_id)
    if report is None:
        return _error(404, [FieldError("session_id", f"no report for session {session_id!r}")])
    return flask.Response(fills_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="fills-{session_id}.csv"'})


def _accounts() -> flask.Response:
    """Every account served: engine, trading state, equity and working parents."""
    return _reply(m.AccountsList, {"accounts": accounts_overview(current_directory())})


def _openapi() -> flask.Response:
    """The OpenAPI 3.1 document of this API (oms.openapi)."""
    return flask.jsonify(openapi_document())


def _docs() -> flask.Response:
    """The API documentation page, rendered here from the OpenAPI document (no script)."""
    return flask.Response(docs_html(openapi_document()), mimetype="text/html")


_RESOLVE_PATH = re.compile(r"reconciliation/[^/]+/resolve")
_STATIC_ROUTES = {"status": "GET", "orders": "GET", "rebalance": "POST", "signals": "POST",
                  "kill": "POST", "resume": "POST", "reconciliation": "GET", "accounts": "GET",
                  "openapi.json": "GET", "docs": "GET"}


def _not_found(path: str) -> flask.Response:
    method = _STATIC_ROUTES.get(path.strip("/"))
    if method is None and _RESOLVE_PATH.fullmatch(path.strip("/")):
        method = "POST"
    if method is not None:
        response = _error(405, [FieldError("method", f"{API_PREFIX}/{path} takes {method}")])
        response.headers["Allow"] = method
        return response
    return _error(404, [FieldError("path", f"no API route {API_PREFIX}/{path}")])


def _http_error(exc: HTTPException) -> flask.Response | HTTPException:
    if not flask.request.path.startswith(API_PREFIX):
        return exc
    return _error(exc.code or 500, [FieldError("request", exc.description or exc.name)])


def api_blueprint() -> flask.Blueprint:
    """A fresh blueprint (one per app, so each test app is isolated)."""
    bp = flask.Blueprint("oms_api", __name__, url_prefix=API_PREFIX)
    own_query = {"orders", "openapi", "docs"}  # check their own, or take anything
    routes: list[tuple[str, str, Callable[..., Any], list[str]]] = [
        ("/status", "status", _status, ["GET"]),
        ("/accounts", "accounts", _accounts, ["GET"]),
        ("/orders", "orders", _orders, ["GET"]),
        ("/rebalance", "rebalance", _rebalance, ["POST"]),
        ("/signals", "signals", _signal, ["POST"]),
        ("/kill", "kill", _kill, ["POST"]),
        ("/resume", "resume", _resume, ["POST"]),
        ("/orders/<parent_id>/cancel", "cancel", _cancel, ["POST"]),
        ("/orders/<parent_id>/resubmit", "resubmit", _resubmit, ["POST"]),
        ("/reports/<session_id>", "report", _report, ["GET"]),
        ("/reports/<session_id>/fills.csv", "report_csv", _report_csv, ["GET"]),
        ("/reconciliation", "reconciliation", _reconciliation, ["GET"]),
        ("/reconciliation/<mismatch_id>/resolve", "resolve", _resolve, ["POST"]),
        ("/openapi.json", "openapi", _openapi, ["GET"]),
        ("/docs", "docs", _docs, ["GET"]),
    ]
    for rule, endpoint, view, methods in routes:
        bp.add_url_rule(rule, endpoint,
                        _handled(view, None if endpoint in own_query else _ONLY_ACCOUNT),
                        methods=methods)
    # Without this the dashboard's catch-all page route would answer unknown API paths.
    bp.add_url_rule("/<path:path>", "not_found", _not_found,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    return bp


def _unknown_callback(exc: Exception) -> bool:
    """Dash's own KeyError for a callback post naming an output no callback has."""
    return (flask.request.path.endswith(DASH_CALLBACK_PATH) and isinstance(exc, KeyError)
            and "Callback function not found" in str(exc))


def _unexpected(exc: Exception) -> flask.Response | HTTPException:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if _unknown_callback(exc):
        return _error(400, [FieldError("output", "no callback has this output")])
    if not flask.request.path.startswith(API_PREFIX):
        raise exc
    # Logged with its traceback; the client gets no internals (no paths, no secrets).
    log.exception("api %s %s failed", flask.request.method, flask.request.path)
    return _error(500, [FieldError("server", "internal error; see the server log")])


def install_api(server: flask.Flask) -> None:
    """Register the API on ``server``; errors under /api become JSON bodies (413 included)."""
    server.register_blueprint(api_blueprint())
    server.register_error_handler(HTTPException, _http_error)
    server.register_error_handler(Exception, _unexpected)
