"""The OpenAPI document of /api/v1: valid OpenAPI 3.1, in step with the Flask routes, served with
its docs page, and true: schemathesis sends generated requests to every operation (in-process,
WSGI; valid ones, then invalid ones that must be refused) and each answer must be a documented
status with a body of the documented schema; the errors the guard, the limits and the service
give are each documented for their route."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_client import Api, api_settings
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from oms.api_models import REQUEST_MODELS, ErrorBody, SubmitResult, parse_body
from oms.errors import ValidationError
from oms.openapi import OPERATIONS, PREFIX, openapi_document

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
TOKEN = "tok-openapi-1"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    client = Api(api_settings(tmp_path))
    yield client
    client.oms.close()


def _documented(path: str, method: str) -> dict[str, Any]:
    responses: dict[str, Any] = openapi_document()["paths"][path][method]["responses"]
    return responses


# -- the document ------------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["openapi"] == "3.1.0"
    assert set(document["components"]["securitySchemes"]) == {"basicAuth", "bearerAuth"}


def test_every_api_route_is_documented_and_every_documented_path_is_a_route(api: Api) -> None:
    # Arrange: the Flask rules under /api/v1 as OpenAPI templates (the 404/405 catch-all aside)
    routes = set()
    for rule in api.app.server.url_map.iter_rules():
        if rule.rule.startswith(PREFIX) and rule.endpoint != "oms_api.not_found":
            template = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            routes |= {(template, m.lower()) for m in rule.methods or ()
                       if m not in ("HEAD", "OPTIONS")}

    # Act
    documented = {(path, method) for path, item in openapi_document()["paths"].items()
                  for method in item}

    # Assert
    assert routes == documented
    assert len(routes) == 15


def test_every_error_response_uses_the_error_schema() -> None:
    for path, item in openapi_document()["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if int(status) < 400:
                    continue
                schema = response["content"]["application/json"]["schema"]["$ref"]
                assert schema.rsplit("/", 1)[-1] in ("ErrorBody", "KillNotDurable"), \
                    (path, method, status)
            if method == "post":
                assert {"401", "403", "413", "415", "422"} <= set(op["responses"]), path


def test_the_document_is_served_at_openapi_json(api: Api) -> None:
    response = api.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == openapi_document()


def test_the_docs_page_renders_every_operation_without_scripts(api: Api) -> None:
    # Act
    response = api.get("/docs")

    # Assert
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    for path, item in openapi_document()["paths"].items():
        assert f"<code>{path}</code>" in html
        for op in item.values():
            assert f'id="{op["operationId"]}"' in html
    assert "RebalanceRequest" in html and "unknown field" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_document_and_docs_need_the_api_credentials(tmp_path: Path) -> None:
    client = Api(api_settings(tmp_path, auth_users={"desk": "pw-openapi"}, api_token=TOKEN))
    try:
        refused = client.get("/openapi.json")
        docs = client.get("/docs")
        bearer = client.get("/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        client.oms.close()
    assert refused.status_code == 401 and docs.status_code == 401
    assert "401" in _documented(f"{PREFIX}/openapi.json", "get")
    ErrorBody.model_validate(refused.get_json())
    assert bearer.status_code == 200 and bearer.get_json()["openapi"] == "3.1.0"


# -- request models ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda model: model.__name__)
def test_a_request_model_names_unknown_keys_and_refuses_non_objects(model: Any) -> None:
    with pytest.raises(ValidationError) as unknown:
        parse_body(model, {"zz_colour": "red", "aa_size": 1})
    with pytest.raises(ValidationError) as not_object:
        parse_body(model, [1, 2])
    fields = [(e.field, e.message) for e in unknown.value.errors]
    assert fields[:2] == [("aa_size", "unknown field"), ("zz_colour", "unknown field")]
    assert all(message == "required" for _, message in fields[2:])
    assert [(e.field, e.message) for e in not_object.value.errors] == [
        ("body", "must be a JSON object")]


def test_response_models_keep_what_they_are_given() -> None:
    # Arrange: an int where a float may be, an exact decimal string, a key the model lacks
    payload = {"session_id": "s-1", "parent_ids": ["p-1"], "skipped": [["SOLUSDT", "small"]],
               "algos": {"p-1": ["twap", "auto: patient"]}, "superseded": [],
               "sizing": {"size_usd": "500.10", "win_rate": 1}, "added_later": 7}

    # Act
    dumped = SubmitResult.model_validate(payload).model_dump(mode="json", exclude_unset=True)

    # Assert: nothing added, dropped or coerced (the API's JSON stays what it was)
    assert json.dumps(dumped, sort_keys=True) == json.dumps(payload, sort_keys=True)


# -- each documented error is what the API answers ----------------------------------------------


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("post", "/kill", {"data": "reason=x"}, 415),
    ("post", "/resume", {"json": {"reason": "x"}, "headers": {"Origin": "https://e.example"}},
     403),
    ("get", "/status", {"headers": {"Host": "evil.example"}}, 403),
    ("post", "/signals", {"json": {"symbol": "x" * 70_000}}, 413),
    ("post", "/rebalance", {"json": {"targets": {}, "force": 1}}, 422),
    ("post", "/rebalance", {"data": "[" * 40 + "]" * 40,
                            "content_type": "application/json"}, 422),
    ("get", "/orders", {"query_string": {"page_size": 0}}, 422),
    ("post", "/orders/p-nope/cancel", {"json": {}}, 404),
    ("post", "/orders/p-nope/resubmit", {"json": {}}, 404),
    ("get", "/reports/s-nope", {}, 404),
    ("get", "/reports/s-nope/fills.csv", {}, 404),
], ids=lambda value: value if isinstance(value, str | int) else "")
def test_each_documented_error_is_what_the_api_answers(api: Api, method: str, path: str,
                                                       kwargs: dict[str, Any],
                                                       status: int) -> None:
    response = getattr(api.client, method)(PREFIX + path, **kwargs)
    template = next(PREFIX + op.path for op in OPERATIONS
                    if re.fullmatch(re.sub(r"\{[a-z_]+\}", "[^/]+", op.path), path)
                    and op.method == method)
    assert response.status_code == status
    assert str(status) in _documented(template, method)
    ErrorBody.model_validate(response.get_json())


def test_a_halted_submit_is_the_documented_409(api: Api) -> None:
    assert api.post("/kill", {"reason": "drill"}).status_code == 200
    response = api.post("/rebalance", {"targets": {"BTCUSDT": 1000}})
    assert response.status_code == 409 and "409" in _documented(f"{PREFIX}/rebalance", "post")
    ErrorBody.model_validate(response.get_json())


# -- schemathesis: generated requests against every operation -----------------------------------

SCHEMA = schemathesis.openapi.from_dict(openapi_document())
# operations with an input schemathesis can make invalid (a body or a query)
WITH_INPUT = [(op.method, PREFIX + op.path) for op in OPERATIONS
              if op.body is not None or any(p.where == "query" for p in op.params)]


def _fuzz(api: Api, method: str, path: str, mode: schemathesis.GenerationMode,
          checks: list[Any]) -> set[int]:
    """Send 25 derandomized generated requests to one operation of a fresh app; each answer
    must pass ``checks``. The statuses seen."""
    operation = SCHEMA[path][method.upper()]
    server = api.app.server
    seen: set[int] = set()

    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:  # a schemathesis.Case
        response = case.call(app=server)
        case.validate_response(response, checks=checks)
        seen.add(response.status_code)

    run()
    return seen


@pytest.mark.parametrize(("method", "path"), [(op.method, PREFIX + op.path) for op in OPERATIONS],
                         ids=lambda value: value)
def test_generated_requests_get_documented_answers(api: Api, method: str, path: str) -> None:
    # Act: one fresh app per operation (kill and resume change its state)
    seen = _fuzz(api, method, path, schemathesis.GenerationMode.POSITIVE, CHECKS)

    # Assert: each answer had a documented status, content type and body, never a 5xx
    assert seen, "no request was sent"


@pytest.mark.parametrize(("method", "path"), WITH_INPUT, ids=lambda value: value)
def test_invalid_generated_requests_are_refused_as_documented(api: Api, method: str,
                                                              path: str) -> None:
    # Act: bodies and queries that break the documented schema (wrong types, unknown or
    # missing keys, out-of-range values, non-JSON bytes)
    seen = _fuzz(api, method, path, schemathesis.GenerationMode.NEGATIVE,
                 [*CHECKS, negative_data_rejection])

    # Assert: each was refused with a documented 4xx and the Error schema, nothing applied
    assert seen and all(400 <= status < 500 for status in seen)
    assert not api.oms.gate.is_halted
    assert api.oms.service.parent_orders().total == 0
