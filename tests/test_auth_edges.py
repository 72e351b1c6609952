"""G8 at the web edge, attacked: DNS-rebinding Host headers in loopback mode, bodies over 64 KiB
(with and without Content-Length), JSON nested past 32 levels, empty passwords and tokens."""

from __future__ import annotations

import http.client
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic import ValidationError as SettingsError

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app.py lives at the repository root
    sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from oms.auth import check_user, loopback_host  # noqa: E402
from oms.bootstrap import Oms, build_oms  # noqa: E402
from oms.config import Settings  # noqa: E402
from oms.web_limits import API_MAX_BODY_BYTES, json_depth_exceeds  # noqa: E402

PASSWORD = "correct horse battery staple"
REFUSED_HOSTS = ["evil.example", "evil.example:8050", "127.0.0.1.evil.example",
                 "localhost.evil.example:8050", "attacker.localhost", "[::2]:8050", "0.0.0.0",
                 "10.0.0.5:8050", "[::ffff:127.0.0.1]", "127.0.0.1:80:80", ""]
ALLOWED_HOSTS = ["127.0.0.1", "127.0.0.1:8050", "localhost", "localhost:8050", "LOCALHOST",
                 "[::1]", "[::1]:8050"]


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'edges.db'}", speed=120.0,
                    tick_interval_ms=50, **overrides)


class Site:
    """An isolated app (own database, engine ticking) and its Flask test client."""

    def __init__(self, settings: Settings) -> None:
        self.oms: Oms = build_oms(settings)
        self.app = create_app(settings, self.oms, start_engine=True)
        self.client = self.app.server.test_client()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(_settings(tmp_path))
    yield s
    s.oms.close()


def _fields(response: Any) -> set[str]:
    return {e["field"] for e in response.get_json()["errors"]}


# -- DNS rebinding: the Host header in loopback mode --------------------------------------------


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_a_foreign_host_is_refused_on_every_route(site: Site, host: str) -> None:
    # Act
    headers = {"Host": host}
    answers = [site.client.get("/api/v1/status", headers=headers),
               site.client.get("/", headers=headers),
               site.client.get("/risk", headers=headers),
               site.client.get("/_dash-layout", headers=headers),
               site.client.post("/_dash-update-component", json={}, headers=headers),
               site.client.post("/api/v1/kill", json={"reason": "rebound"}, headers=headers),
               site.client.post("/api/v1/rebalance", json={"targets": {"BTCUSDT": 1000}},
                                headers=headers)]

    # Assert
    for answer in answers:
        assert answer.status_code == 403
        assert _fields(answer) == {"Host"}
    assert not site.oms.gate.is_halted
    assert site.oms.repository.latest_trading_state() is None


@pytest.mark.parametrize("host", ALLOWED_HOSTS)
def test_loopback_host_names_are_served(site: Site, host: str) -> None:
    assert site.client.get("/api/v1/status", headers={"Host": host}).status_code == 200
    assert site.client.get("/", headers={"Host": host}).status_code == 200


def test_the_bound_loopback_address_is_served_and_no_other() -> None:
    assert loopback_host("127.0.0.2:8050", "127.0.0.2")
    assert not loopback_host("127.0.0.3:8050", "127.0.0.2")
    assert not loopback_host("10.0.0.5", "10.0.0.5")  # not loopback: needs authentication
    assert not loopback_host("evil.example", "evil.example")


def test_with_authentication_the_host_is_not_what_protects(tmp_path: Path) -> None:
    import base64

    s = Site(_settings(tmp_path, auth_users={"desk": PASSWORD}))
    try:
        basic = base64.b64encode(f"desk:{PASSWORD}".encode()).decode()
        authed = s.client.get("/api/v1/status", headers={"Host": "oms.desk.example",
                                                         "Authorization": f"Basic {basic}"})
        anonymous = s.client.get("/api/v1/status", headers={"Host": "oms.desk.example"})
        assert authed.status_code == 200 and anonymous.status_code == 401
    finally:
        s.oms.close()


# -- body size ------------------------------------------------------------------------------------


def _body_of_size(size: int) -> bytes:
    prefix, suffix = b'{"reason": "', b'"}'
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


def test_a_body_over_64_kib_is_413_and_one_at_the_limit_is_read(site: Site) -> None:
    over = site.client.post("/api/v1/kill", data=_body_of_size(API_MAX_BODY_BYTES + 1),
                            content_type="application/json")
    at_limit = site.client.post("/api/v1/kill", data=_body_of_size(API_MAX_BODY_BYTES),
                                content_type="application/json")
    assert over.status_code == 413 and _fields(over) == {"request"}
    assert at_limit.status_code == 422 and _fields(at_limit) == {"reason"}  # read, then too long
    assert not site.oms.gate.is_halted


@pytest.fixture
def served(site: Site) -> Iterator[tuple[Site, int]]:
    """The site behind the production server of ``oms run`` (waitress, threaded) on a free
    loopback port."""
    from oms.server import create_server, stop_server

    server = create_server(site.app.server, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield site, server.effective_port
    finally:
        stop_server(server)
        thread.join(timeout=5)


def _chunked_post(port: int, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST ``body`` with Transfer-Encoding: chunked and no Content-Length."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        chunks = (body[i:i + 8192] for i in range(0, len(body), 8192))
        connection.request("POST", path, body=chunks, encode_chunked=True,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_a_chunked_body_over_64_kib_is_413(served: tuple[Site, int]) -> None:
    site, port = served
    status, body = _chunked_post(port, "/api/v1/kill", _body_of_size(200_000))
    assert status == 413 and body["errors"][0]["field"] == "request"
    assert not site.oms.gate.is_halted


def test_a_small_chunked_body_is_read_whole(served: tuple[Site, int]) -> None:
    site, port = served
    status, body = _chunked_post(port, "/api/v1/kill", b'{"reason": "chunked drill"}')
    assert status == 200 and body["durable"] is True
    assert site.oms.gate.is_halted


def test_100k_nested_brackets_over_a_real_socket_are_422(served: tuple[Site, int]) -> None:
    _site, port = served
    status, body = _chunked_post(port, "/api/v1/rebalance", b"[" * 60_000)
    assert status == 422 and body["errors"][0]["field"] == "body"


# -- JSON depth -------------------------------------------------------------------------------


def _nested(depth: int) -> bytes:
    return b'{"reason": ' + b"[" * (depth - 1) + b"1" + b"]" * (depth - 1) + b"}"


def test_json_nested_deeper_than_32_is_422_never_500(site: Site) -> None:
    huge = site.client.post("/api/v1/kill", data=b"[" * 100_000, content_type="application/json")
    deep = site.client.post("/api/v1/kill", data=b"[" * 60_000, content_type="application/json")
    deep_object = site.client.post("/api/v1/rebalance", data=b'{"a":' * 12_000,
                                   content_type="application/json")
    just_over = site.client.post("/api/v1/kill", data=_nested(33),
                                 content_type="application/json")
    at_limit = site.client.post("/api/v1/kill", data=_nested(32),
                                content_type="application/json")
    assert huge.status_code == 413  # over 64 KiB: refused before the depth is even looked at
    assert deep.status_code == 422 and _fields(deep) == {"body"}
    assert deep_object.status_code == 422 and _fields(deep_object) == {"body"}
    assert just_over.status_code == 422 and _fields(just_over) == {"body"}
    assert at_limit.status_code == 422 and _fields(at_limit) == {"reason"}  # parsed: a list
    assert not site.oms.gate.is_halted


def test_dash_callbacks_refuse_deep_json_with_a_clear_error(site: Site) -> None:
    response = site.client.post("/_dash-update-component", data=b"[" * 100_000,
                                content_type="application/json")
    assert response.status_code == 422 and _fields(response) == {"body"}


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"reason": "[" * 1000 + '\\"{' * 100}).encode()
    assert not json_depth_exceeds(text, 32)
    assert json_depth_exceeds(b'["\\"", ' + b"[" * 40 + b"]" * 40 + b"]", 32)
    assert not json_depth_exceeds(b"[" * 32 + b"]" * 32, 32)
    assert json_depth_exceeds(b"[" * 33 + b"]" * 33, 32)


def test_a_reason_full_of_brackets_is_an_ordinary_string(site: Site) -> None:
    response = site.client.post("/api/v1/kill", json={"reason": "[[[[" * 100})
    assert response.status_code == 200 and site.oms.gate.is_halted


# -- empty passwords and tokens are no authentication -------------------------------------------


@pytest.mark.parametrize("users", [{"desk": ""}, {"desk": "   "}, {"desk": PASSWORD, "ops": ""}])
def test_an_empty_password_is_refused_at_settings_load(users: dict[str, str],
                                                       tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, auth_users=users)
    message = str(caught.value)
    assert "auth_users" in message and "empty password" in message
    assert PASSWORD not in message


def test_an_empty_password_from_the_environment_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_AUTH_USERS", '{"desk": ""}')
    with pytest.raises(SettingsError, match="auth_users"):
        Settings()


@pytest.mark.parametrize("user", ["", "de:sk", "de sk", "x" * 49])
def test_user_names_basic_auth_cannot_carry_are_refused(user: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, auth_users={user: PASSWORD})
    assert "auth_users" in str(caught.value) and PASSWORD not in str(caught.value)


def test_an_empty_api_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_API_TOKEN", "")
    with pytest.raises(SettingsError, match="api_token"):
        Settings()


def test_an_empty_password_never_authenticates_even_if_it_got_past_the_settings() -> None:
    settings = Settings.model_construct(auth_users={"desk": SecretStr("")}, api_token=None)
    assert not check_user(settings, "desk", "")
    assert not check_user(settings, "desk", "anything")
    ok = Settings.model_construct(auth_users={"desk": SecretStr(PASSWORD)}, api_token=None)
    assert not check_user(ok, "desk", "")
    assert check_user(ok, "desk", PASSWORD)
