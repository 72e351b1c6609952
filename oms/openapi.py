"""The OpenAPI 3.1 document of the REST API, generated from the models in ``oms.api_models``.

``OPERATIONS`` is the one table of what each route takes and answers, every error included
(the status codes the guard, the body limits, the service and the engine give); the document
is built from it and the pydantic models' JSON Schemas (their ``$defs`` become components).
Served at GET /api/v1/openapi.json; ``oms.api_docs`` renders it as the page at /api/v1/docs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel

from oms import api_models as m
from oms.web_limits import API_MAX_BODY_BYTES, API_MAX_JSON_DEPTH

__all__ = ["OPERATIONS", "Operation", "Param", "openapi_document"]

PREFIX = "/api/v1"
_REF = "#/components/schemas/{model}"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Param:
    """A path or query parameter."""

    name: str
    where: str  # "path" | "query"
    schema: dict[str, Any]
    description: str


@dataclass(frozen=True, slots=True)
class Operation:
    """One route and method: what it takes, what it answers on success, which errors."""

    method: str
    path: str  # OpenAPI template under the prefix, e.g. "/orders/{parent_id}/cancel"
    operation_id: str
    summary: str
    ok: dict[int, type[BaseModel] | str]  # status -> model, or a media type (csv, html)
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    body_required: bool = True
    params: tuple[Param, ...] = ()
    error_models: dict[int, type[BaseModel]] = field(default_factory=dict)


_ERRORS = {
    401: "authentication required (only when OMS_AUTH_USERS is configured): Basic credentials "
         "or the API's Bearer token",
    403: "refused Host (without authentication only loopback names are served) or, for a "
         "state-changing request, a cross-origin Origin / Sec-Fetch-Site",
    404: "no such account, order, session, mismatch or route",
    409: "trading is HALTED: resume (with a reason) before submitting",
    413: f"the body is over {API_MAX_BODY_BYTES} bytes",
    415: "a state-changing request must send Content-Type: application/json",
    422: "invalid input, every problem named by field (unknown fields, missing fields, values, "
         f"JSON nested deeper than {API_MAX_JSON_DEPTH}); nothing was applied",
    503: "the engine did not answer in time (the command stays queued) or has not published "
         "its state yet",
}
_POST = (413, 415, 422, 503)
# what an operation acting on one account adds: the account argument and its 404; a command
# also answers 202 in the split deployment (stored and queued, not yet applied by its engine)
_ACCOUNT = Param("account", "query", {"type": "string", "minLength": 1, "maxLength": 64},
                 "the account acted on (default: the dashboard's chosen account, else the "
                 "server's default account; GET /accounts lists them)")
_QUEUED = 202


def _path(name: str, description: str) -> Param:
    return Param(name, "path", {"type": "string", "minLength": 1}, description)


def _query(name: str, schema: dict[str, Any], description: str) -> Param:
    return Param(name, "query", schema, description)


_ORDERS_QUERY = (
    _query("kind", {"type": "string", "enum": ["parents", "children"], "default": "parents"},
           "parent orders or child orders"),
    _query("page", {"type": "integer", "minimum": 0, "maximum": m.MAX_PAGE, "default": 0},
           "page number, from 0"),
    _query("page_size", {"type": "integer", "minimum": 1, "maximum": m.MAX_PAGE_SIZE,
                         "default": 100}, "rows per page"),
    _query("state", {"type": "string"}, "only orders in this state (e.g. WORKING, FILLED)"),
    _query("symbol", {"type": "string"}, "only orders of this symbol (e.g. BTCUSDT)"),
    _query("session_id", {"type": "string"}, "parents only: one execution session"),
    _query("parent_id", {"type": "string"}, "children only: the children of one parent"),
)
_PARENT = _path("parent_id", "a parent order id")
_SESSION = _path("session_id", "an execution session id")
_MISMATCH = _path("mismatch_id", "an open mismatch id (from GET /reconciliation)")

OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/status", "getStatus", "Trading state, account, breakers, positions",
              {200: m.StatusBody}),
    Operation("get", "/accounts", "listAccounts",
              "Every account: engine, trading state, equity, working parents",
              {200: m.AccountsList}),
    Operation("get", "/orders", "listOrders", "Parent or child orders, filtered and paged",
              {200: m.OrdersPage}, (422,), params=_ORDERS_QUERY),
    Operation("post", "/rebalance", "rebalance",
              "Submit a rebalance to target USD exposures, or preview it (dry_run)",
              {201: m.SubmitResult, 200: m.DryRunEstimate}, (409, *_POST),
              body=m.RebalanceRequest),
    Operation("post", "/signals", "submitSignal", "Submit a strategy signal (entry or exit)",
              {201: m.SubmitResult}, (409, *_POST), body=m.SignalRequest),
    Operation("post", "/kill", "kill", "Kill switch: halt now, cancel everything",
              {200: m.KillResult}, _POST, body=m.KillRequest,
              error_models={503: m.KillNotDurable}),
    Operation("post", "/resume", "resume", "Return to ACTIVE (with a reason)",
              {200: m.ResumeResult}, _POST, body=m.ResumeRequest),
    Operation("post", "/orders/{parent_id}/cancel", "cancelParent",
              "Cancel a working parent and its children", {200: m.CancelAccepted},
              (404, *_POST), body=m.CancelRequest, params=(_PARENT,)),
    Operation("post", "/orders/{parent_id}/resubmit", "resubmitParent",
              "A new parent for the unfilled rest of a HALTED, CANCELED or FAILED parent",
              {201: m.ResubmitResult}, (404, 409, *_POST), body=m.ResubmitRequest,
              body_required=False, params=(_PARENT,)),
    Operation("get", "/reports/{session_id}", "getReport",
              "The ExecutionReport of an ended session", {200: m.ReportBody}, (404,),
              params=(_SESSION,)),
    Operation("get", "/reports/{session_id}/fills.csv", "getReportFills",
              "The fills of an ended session as CSV", {200: "text/csv"}, (404,),
              params=(_SESSION,)),
    Operation("get", "/reconciliation", "getReconciliation",
              "Running reconciliation: last and next run, open mismatches",
              {200: m.ReconciliationView}),
    Operation("post", "/reconciliation/{mismatch_id}/resolve", "resolveMismatch",
              "Resolve a mismatch: adopt, cancel or ignore (with a reason)",
              {200: m.ResolveResult}, (404, *_POST), body=m.ResolveRequest,
              params=(_MISMATCH,)),
    Operation("get", "/openapi.json", "getOpenApi", "This document (OpenAPI 3.1)",
              {200: JSON}),
    Operation("get", "/docs", "getDocs", "This API's documentation as a page",
              {200: "text/html"}),
)


_NOT_PER_ACCOUNT = frozenset({"getOpenApi", "getDocs", "listAccounts"})


def _schemas() -> dict[str, Any]:
    """Every model's JSON Schema, its nested models hoisted into the same components."""
    components: dict[str, Any] = {}
    models = {*m.REQUEST_MODELS, *m.RESPONSE_MODELS}
    for model in sorted(models, key=lambda model: model.__name__):
        schema = model.model_json_schema(
            ref_template=_REF,
            mode="validation" if model in m.REQUEST_MODELS else "serialization")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    return dict(sorted(components.items()))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _content(target: type[BaseModel] | str) -> dict[str, Any]:
    if isinstance(target, str):
        return {target: {"schema": {"type": "object"} if target == JSON
                         else {"type": "string"}}}
    return {JSON: {"schema": _ref(target)}}


def _per_account(op: Operation) -> bool:
    return op.operation_id not in _NOT_PER_ACCOUNT


def _responses(op: Operation) -> dict[str, Any]:
    responses: dict[int, Any] = {}
    ok = dict(op.ok)
    if op.method == "post" and _per_account(op):
        ok[_QUEUED] = m.Queued
    for status, target in ok.items():
        doc = target.__doc__ if not isinstance(target, str) else op.summary
        responses[status] = {"description": (doc or op.summary).strip().splitlines()[0],
                             "content": _content(target)}
    errors = set(op.errors) | ({404} if _per_account(op) else set())
    for status in (401, 403, *sorted(errors)):
        model = op.error_models.get(status, m.ErrorBody)
        description = _ERRORS[status]
        if model is not m.ErrorBody:
            description = (model.__doc__ or description).strip()
        responses[status] = {"description": description, "content": _content(model)}
    return {str(status): responses[status] for status in sorted(responses)}


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    params = (*op.params, _ACCOUNT) if _per_account(op) else op.params
    if params:
        doc["parameters"] = [{"name": p.name, "in": p.where, "required": p.where == "path",
                              "description": p.description, "schema": p.schema}
                             for p in params]
    if op.body is not None:
        doc["requestBody"] = {"required": op.body_required,
                              "description": (op.body.__doc__ or "").strip(),
                              "content": {JSON: {"schema": _ref(op.body)}}}
    doc["responses"] = _responses(op)
    return doc


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1.0 document of /api/v1 (built once; treat it as read-only)."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(PREFIX + op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DipMaster OMS REST API", "version": "1",
            "description": (
                "JSON in, JSON out. Money, prices and quantities are exact decimal strings. "
                "Every error is a JSON body {error, errors: [{field, message}]}; a request is "
                "validated whole before anything is queued. A method a path does not take "
                "answers 405, an unknown path 404. Authentication (Basic or Bearer) applies "
                "only when the server has users configured."),
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic",
                              "description": "a dashboard user (OMS_AUTH_USERS)"},
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "the API token (OMS_API_TOKEN)"},
            },
        },
        # {} last: without configured users the API is open (loopback only)
        "security": [{"basicAuth": []}, {"bearerAuth": []}, {}],
    }
