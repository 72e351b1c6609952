"""Limits on request bodies at the web edge, checked before anything parses them.

A body over the size limit is refused with 413 (chunked bodies too: the limit is enforced while
reading), a JSON body nested deeper than the depth limit with 422, so a hostile request can
neither hold megabytes in memory nor drive the JSON parser into a RecursionError (a 500).
The REST API takes small documents; Dash callback posts carry grid states, hence larger limits.
A Dash callback post must also have the envelope Dash indexes into (output, inputs, state), or
it is a 400 rather than a KeyError deep inside Dash.
"""

from __future__ import annotations

import json
import re
from typing import Any

import flask
from werkzeug.exceptions import RequestEntityTooLarge

__all__ = [
    "API_MAX_BODY_BYTES",
    "API_MAX_JSON_DEPTH",
    "DASH_CALLBACK_PATH",
    "PAGE_MAX_BODY_BYTES",
    "PAGE_MAX_JSON_DEPTH",
    "callback_envelope_problem",
    "json_depth_exceeds",
    "limit_body",
]

API_MAX_BODY_BYTES = 64 * 1024
API_MAX_JSON_DEPTH = 32
PAGE_MAX_BODY_BYTES = 4 * 1024 * 1024  # Dash posts the State of grids (hundreds of rows)
PAGE_MAX_JSON_DEPTH = 100  # far below the parser's recursion limit
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A JSON string (escapes included); what is left outside strings is structure and scalars.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")
DASH_CALLBACK_PATH = "/_dash-update-component"


def json_depth_exceeds(data: bytes, limit: int) -> bool:
    """True when the JSON text ``data`` nests arrays/objects deeper than ``limit`` (brackets
    inside strings do not count). Linear and without recursion, so safe on any input."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b'""', data).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _is_dependency(item: Any) -> bool:
    """One input/state/output of a callback post: {"id": str | {...}, "property": str, ...}."""
    return (isinstance(item, dict) and isinstance(item.get("id"), str | dict)
            and isinstance(item.get("property"), str))


def _dependencies(value: Any) -> bool:
    """A list of dependencies, each one or a list of them (pattern-matching ids)."""
    return isinstance(value, list) and all(
        _is_dependency(item) or (isinstance(item, list) and all(map(_is_dependency, item)))
        for item in value)


def callback_envelope_problem(body: Any) -> str | None:
    """What is wrong with a Dash callback post's envelope (None when Dash can dispatch it)."""
    if not isinstance(body, dict):
        return "a callback request must be a JSON object"
    if not isinstance(body.get("output"), str):
        return "output must be the callback's output id (text)"
    outputs = body.get("outputs", [])
    if not (_is_dependency(outputs) or _dependencies(outputs)):
        return "outputs must be an output or a list of outputs ({id, property})"
    for key in ("inputs", "state"):
        if not _dependencies(body.get(key, [])):
            return f"{key} must be a list of {{id, property, value}} objects"
    changed = body.get("changedPropIds", [])
    if not (isinstance(changed, list) and all(isinstance(c, str) for c in changed)):
        return "changedPropIds must be a list of text"
    return None


def _error(status: int, field: str, message: str) -> flask.Response:
    response = flask.jsonify({"error": f"{field}: {message}",
                              "errors": [{"field": field, "message": message}]})
    response.status_code = status
    return response


def limit_body() -> flask.Response | None:
    """Before-request hook: read the body under the size limit (RequestEntityTooLarge, a 413,
    past it), then refuse JSON nested too deep (422). None lets the request through."""
    request = flask.request
    if request.method not in _WITH_BODY:
        return None
    is_api = request.path.startswith("/api/")
    max_bytes = API_MAX_BODY_BYTES if is_api else PAGE_MAX_BODY_BYTES
    max_depth = API_MAX_JSON_DEPTH if is_api else PAGE_MAX_JSON_DEPTH
    too_large = RequestEntityTooLarge(f"request bodies are limited to {max_bytes} bytes")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    # Werkzeug stops silently at its limit on a chunked body: read one byte more to tell.
    request.max_content_length = max_bytes + 1
    data = request.get_data(cache=True)
    if len(data) > max_bytes:
        raise too_large
    if json_depth_exceeds(data, max_depth):
        return _error(422, "body", f"JSON nested deeper than {max_depth} levels is refused")
    if request.path.endswith(DASH_CALLBACK_PATH) and request.method == "POST":
        try:
            problem = callback_envelope_problem(json.loads(data))
        except ValueError:
            problem = "the body is not valid JSON"
        if problem is not None:
            return _error(400, "body", problem)
    return None
