"""The production server of ``oms run`` (waitress): over a real loopback socket it keeps every
guarantee of the Flask guard (Host check, security headers, JSON-only and same-origin state
changes, body limits), refuses bodies past the largest limit before buffering them, names no
server and shows no traceback; ``serve`` runs waitress, not werkzeug's development server."""

from __future__ import annotations

import http.client
import json
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app.py lives at the repository root
    sys.path.insert(0, str(ROOT))

import app as app_module  # noqa: E402
from app import create_app  # noqa: E402
from oms.auth import SECURITY_HEADERS  # noqa: E402
from oms.bootstrap import Oms, build_oms  # noqa: E402
from oms.config import Settings  # noqa: E402
from oms.server import create_server, stop_server  # noqa: E402
from oms.web_limits import PAGE_MAX_BODY_BYTES  # noqa: E402


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'server.db'}", speed=120.0,
                    tick_interval_ms=50, **overrides)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Oms, int]]:
    settings = _settings(tmp_path)
    oms = build_oms(settings)
    dash_app = create_app(settings, oms, start_engine=True)
    server = create_server(dash_app.server, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield oms, server.effective_port
    finally:
        stop_server(server)
        thread.join(timeout=5)
        oms.close()


def _call(port: int, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_pages_api_and_metrics_carry_the_security_headers(served: tuple[Oms, int]) -> None:
    _oms, port = served
    for path in ("/", "/api/v1/status", "/metrics"):
        status, headers, _ = _call(port, "GET", path)
        assert status == 200, path
        assert all(headers.get(name) == value for name, value in SECURITY_HEADERS.items())
        assert "waitress" not in headers.get("Server", "").lower()


def test_another_host_name_is_refused(served: tuple[Oms, int]) -> None:
    _oms, port = served
    status, _, body = _call(port, "GET", "/api/v1/status", headers={"Host": "evil.example"})
    assert status == 403 and json.loads(body)["errors"][0]["field"] == "Host"


def test_state_changes_need_json_and_the_same_origin(served: tuple[Oms, int]) -> None:
    oms, port = served
    form, _, _ = _call(port, "POST", "/api/v1/kill", b"reason=x",
                       {"Content-Type": "application/x-www-form-urlencoded"})
    cross, _, _ = _call(port, "POST", "/api/v1/kill", b'{"reason": "x"}',
                        {"Content-Type": "application/json",
                         "Origin": "http://evil.example"})
    assert (form, cross) == (415, 403)
    assert not oms.gate.is_halted


def test_a_body_past_the_largest_limit_is_refused_by_the_server(
        served: tuple[Oms, int]) -> None:
    oms, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # only the headers: the server must answer without waiting for (or buffering) the body
        sock.sendall(b"POST /_dash-update-component HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: " + str(PAGE_MAX_BODY_BYTES + 2).encode() + b"\r\n\r\n")
        status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"413"
    assert not oms.gate.is_halted


def test_a_kill_over_the_socket_halts(served: tuple[Oms, int]) -> None:
    oms, port = served
    status, _, body = _call(port, "POST", "/api/v1/kill", b'{"reason": "drill"}',
                            {"Content-Type": "application/json"})
    assert status == 200 and json.loads(body)["durable"] is True
    assert oms.gate.is_halted


def test_serve_runs_waitress_on_the_configured_address(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bound: dict[str, Any] = {}

    class Recorder:
        effective_port = 0

        def run(self) -> None:
            bound["ran"] = True

        def close(self) -> None:
            return

    def fake_create_server(app: Any, *, host: str, port: int) -> Recorder:
        bound.update(app=app, host=host, port=port)
        return Recorder()

    monkeypatch.setattr(app_module, "create_server", fake_create_server)
    monkeypatch.setattr("flask.Flask.run", lambda *_a, **_k: pytest.fail("werkzeug dev server"))

    app_module.serve(_settings(tmp_path, port=18050))

    assert bound["host"] == "127.0.0.1" and bound["port"] == 18050 and bound["ran"]
