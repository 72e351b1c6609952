"""REST API (/api/v1) and web security: each route's success and error paths, JSON-only
state-changing requests, cross-origin refusal, authentication, secrets never echoed."""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from api_client import Api, api_settings
from oms_harness import until

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app.py lives at the repository root
    sys.path.insert(0, str(ROOT))

from app import is_loopback, serve  # noqa: E402
from oms.config import Settings  # noqa: E402
from oms.errors import ConfigError  # noqa: E402

TARGETS = {"BTCUSDT": 3000, "ETHUSDT": 2000, "SOLUSDT": 1000}
PASSWORD = "correct horse battery staple"
TOKEN = "tok-7b1d5e0c9a"


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return api_settings(tmp_path, **overrides)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    client = Api(_settings(tmp_path))
    yield client
    client.oms.close()


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Api]:
    client = Api(_settings(tmp_path, auth_users={"desk": PASSWORD}, api_token=TOKEN))
    yield client
    client.oms.close()




def _fields(response: Any) -> set[str]:
    return {e["field"] for e in response.get_json()["errors"]}


def _basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


# -- reads -----------------------------------------------------------------------------------


def test_status_reports_state_breakers_positions_and_sends_security_headers(api: Api) -> None:
    response = api.get("/status")
    body = response.get_json()
    assert response.status_code == 200
    assert body["trading_state"] == "ACTIVE"
    assert set(body["breakers"]) == {"high_slippage", "high_rejection", "high_latency",
                                     "market_stress"}
    assert [p["symbol"] for p in body["positions"]] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_orders_validates_its_query(api: Api) -> None:
    assert _fields(api.get("/orders?kind=trades")) == {"kind"}
    assert _fields(api.get("/orders?page_size=0")) == {"page_size"}
    assert _fields(api.get("/orders?page=x")) == {"page"}
    assert _fields(api.get("/orders?colour=red")) == {"colour"}
    assert api.get("/orders").get_json() == {"kind": "parents", "page": 0, "page_size": 100,
                                             "total": 0, "rows": []}


def test_unknown_route_and_wrong_method_answer_json(api: Api) -> None:
    missing = api.get("/nothing-here")
    wrong = api.get("/kill")
    assert missing.status_code == 404 and missing.get_json()["errors"]
    assert wrong.status_code == 405 and wrong.get_json()["errors"]


# -- rebalance ---------------------------------------------------------------------------------


def test_rebalance_creates_parents_then_children_are_listed(api: Api) -> None:
    # Act
    response = api.post("/rebalance", {"targets": TARGETS, "algo": "twap",
                                       "duration_minutes": 2, "urgency": 0.5})

    # Assert
    body = response.get_json()
    assert response.status_code == 201
    assert len(body["parent_ids"]) == 3
    until(lambda: api.get("/orders?kind=children").get_json()["total"] >= 3)
    parents = api.get("/orders?symbol=BTCUSDT").get_json()
    assert parents["total"] == 1 and parents["rows"][0]["algo"] == "twap"
    assert isinstance(parents["rows"][0]["quantity"], str)  # exact decimals as strings


def test_bad_rebalance_names_each_field_and_applies_nothing(api: Api) -> None:
    response = api.post("/rebalance", {"targets": {"BTCUSDT": 3000, "FOOUSDT": 5,
                                                   "ETHUSDT": "nan"},
                                       "duration_minutes": -1, "algo": "magic"})
    assert response.status_code == 422
    assert _fields(response) == {"targets.FOOUSDT", "targets.ETHUSDT", "duration_minutes",
                                 "algo"}
    assert api.get("/orders").get_json()["total"] == 0


def test_rebalance_rejects_unknown_missing_and_malformed_bodies(api: Api) -> None:
    assert _fields(api.post("/rebalance", {"targets": TARGETS, "force": True})) == {"force"}
    assert _fields(api.post("/rebalance", {"algo": "twap"})) == {"targets"}
    assert _fields(api.post("/rebalance", [1, 2])) == {"body"}
    assert _fields(api.post("/rebalance", {"targets": 5})) == {"targets"}


def test_rebalance_dry_run_previews_without_submitting(api: Api) -> None:
    response = api.post("/rebalance", {"targets": "BTCUSDT 3000\nETHUSDT 2000",
                                       "dry_run": True})
    body = response.get_json()
    assert response.status_code == 200
    assert [p["symbol"] for p in body["parents"]] == ["BTCUSDT", "ETHUSDT"]
    assert api.get("/orders").get_json()["total"] == 0


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def test_dry_run_answers_the_pre_trade_estimate_per_parent(api: Api) -> None:
    # Act: a 3-minute TWAP (one slice: max(1, min(20, 3 // 2)))
    response = api.post("/rebalance", {"targets": {"BTCUSDT": 3000, "SOLUSDT": 1000},
                                       "algo": "twap", "duration_minutes": 3,
                                       "dry_run": True})

    # Assert
    body = response.get_json()
    assert response.status_code == 200 and body["refused"] is False
    btc, sol = body["parents"]
    assert btc["planned_children"] == 1 and "ONE child" in btc["schedule"]["basis"]
    assert float(btc["expected_cost_bps"]) > 10  # at least the 10 bps taker fee
    assert Decimal(btc["expected_cost_usd"]) > 0
    assert set(btc["cost_breakdown"]) == {"spread", "impact", "fees"}
    low, high = btc["range_1sd_bps"]
    assert low <= btc["expected_cost_bps"] <= high
    assert btc["limit_breaches"] == []
    # quantities with the step's decimals (BTC 0.00001, SOL 0.01), prices with the tick's
    assert _decimals(btc["quantity"]) == 5 and _decimals(sol["quantity"]) == 2
    assert btc["schedule"]["total"] == btc["quantity"]
    assert _decimals(btc["market_inputs"]["ask"]) == 2
    assert api.get("/orders").get_json()["total"] == 0


def test_dry_run_reports_the_limits_it_would_hit(api: Api) -> None:
    body = api.post("/rebalance", {"targets": {"BTCUSDT": 50000}, "dry_run": True}).get_json()
    codes = {b["code"]: b for b in body["parents"][0]["limit_breaches"]}
    assert body["refused"] is True
    assert codes["POSITION_LIMIT"]["effect"] == "refused"
    assert codes["MAX_ORDER_NOTIONAL"]["numbers"]["limit_usd"] == "5000"


def test_rebalance_over_the_position_limit_is_refused_with_the_numbers(api: Api) -> None:
    preview = api.post("/rebalance", {"targets": {"BTCUSDT": 50000}, "dry_run": True})
    assert preview.status_code == 200
    assert next(e["field"] for e in preview.get_json()["errors"]) == "targets.BTCUSDT"
    response = api.post("/rebalance", {"targets": {"BTCUSDT": 50000}})
    assert response.status_code == 422 and "targets.BTCUSDT" in _fields(response)
    assert "10000" in response.get_json()["error"]
    assert api.get("/orders").get_json()["total"] == 0  # nothing queued


def test_rebalance_clip_lowers_the_target_and_submits(api: Api) -> None:
    response = api.post("/rebalance", {"targets": {"BTCUSDT": 50000}, "on_limit": "clip"})
    assert response.status_code == 201 and len(response.get_json()["parent_ids"]) == 1
    (row,) = api.get("/orders?symbol=BTCUSDT").get_json()["rows"]
    assert Decimal(row["quantity"]) * 70_000 < 10_000 * 1.2


@pytest.mark.parametrize("on_limit", ["ignore", 1, None, True], ids=repr)
def test_on_limit_must_be_reject_or_clip(api: Api, on_limit: Any) -> None:
    response = api.post("/rebalance", {"targets": {"BTCUSDT": 1000}, "on_limit": on_limit})
    assert response.status_code == 422 and _fields(response) == {"on_limit"}


# -- signals, kill, resume, cancel --------------------------------------------------------------


def test_signal_success_and_field_errors(api: Api) -> None:
    ok = api.post("/signals", {"symbol": "ETHUSDT", "side": "BUY", "size_usd": 500,
                               "confidence": 0.6, "urgency": 0.4})
    bad = api.post("/signals", {"symbol": "DOGE", "side": "UP", "size_usd": -1,
                                "confidence": 3})
    assert ok.status_code == 201 and ok.get_json()["parent_ids"]
    assert bad.status_code == 422
    assert _fields(bad) == {"symbol", "side", "size_usd", "confidence"}


@pytest.mark.parametrize("size", [-5, 0, None], ids=repr)
def test_a_signal_size_that_is_not_positive_names_the_field(api: Api, size: Any) -> None:
    response = api.post("/signals", {"symbol": "ETHUSDT", "side": "BUY", "size_usd": size,
                                     "confidence": 0.6})
    (error,) = response.get_json()["errors"]
    assert response.status_code == 422 and error["field"] == "size_usd"
    assert "size_usd must be" in error["message"] and "positive" in error["message"]


def test_auto_sized_signal_answers_its_computation(api: Api) -> None:
    response = api.post("/signals", {"symbol": "BTCUSDT", "side": "BUY", "size": "auto",
                                     "confidence": 0.6})
    body = response.get_json()
    assert response.status_code == 201 and body["parent_ids"]
    sizing = body["sizing"]
    assert sizing["win_rate"] == "0.821" and sizing["payoff_ratio"] == "0.6"
    assert sizing["kelly_fraction"] == "0.25" and sizing["full_kelly"] == "0.522667"
    assert Decimal(sizing["size_usd"]) == min(Decimal(sizing["uncapped_usd"]), Decimal(5000))


@pytest.mark.parametrize(("extra", "field"), [
    ({"size": "huge"}, "size"), ({"size": -3}, "size"),
    ({"size": "auto", "size_usd": 500}, "size"), ({}, "size_usd"),
], ids=repr)
def test_a_bad_signal_size_names_the_field(api: Api, extra: dict[str, Any], field: str) -> None:
    response = api.post("/signals", {"symbol": "ETHUSDT", "side": "BUY", "confidence": 0.6,
                                     **extra})
    assert response.status_code == 422 and _fields(response) == {field}


def test_kill_halts_at_once_blocks_submits_and_resume_needs_a_reason(api: Api) -> None:
    # Act
    killed = api.post("/kill", {"reason": "desk drill"})
    status = api.get("/status").get_json()
    until(lambda: bool(api.oms.service.risk_events(kind="KILL")))
    blocked = api.post("/rebalance", {"targets": TARGETS})
    no_reason = api.post("/resume", {})
    resumed = api.post("/resume", {"reason": "drill over"})

    # Assert
    assert killed.status_code == 200 and status["trading_state"] == "HALTED"
    assert status["halt_reason"] == "desk drill"
    assert blocked.status_code == 409 and _fields(blocked) == {"trading_state"}
    assert no_reason.status_code == 422 and _fields(no_reason) == {"reason"}
    assert resumed.status_code == 200 and resumed.get_json()["trading_state"] == "ACTIVE"
    until(lambda: api.get("/status").get_json()["trading_state"] == "ACTIVE")  # next snapshot


def test_resume_while_active_says_so_and_writes_nothing(api: Api) -> None:
    # Arrange
    audit = len(api.oms.repository.audit(limit=10_000))
    risk = len(api.oms.repository.risk_events(limit=10_000))

    # Act
    response = api.post("/resume", {"reason": "nothing to resume"})

    # Assert
    body = response.get_json()
    assert response.status_code == 200 and body["trading_state"] == "ACTIVE"
    assert body["changed"] is False and "already ACTIVE" in body["message"]
    assert len(api.oms.repository.audit(limit=10_000)) == audit
    assert len(api.oms.repository.risk_events(limit=10_000)) == risk


def test_kill_answers_only_once_the_halt_is_committed(api: Api) -> None:
    # Act
    killed = api.post("/kill", {"reason": "  durable drill  "})

    # Assert: the rows are in the database when the answer arrives (no tick needed)
    assert killed.status_code == 200
    assert killed.get_json() == {"trading_state": "HALTED", "reason": "durable drill",
                                 "durable": True}
    assert api.oms.repository.latest_trading_state() == ("HALTED", "durable drill")
    assert any(e["message"] == "durable drill" for e in api.oms.repository.risk_events(kind="KILL"))


def test_a_kill_that_cannot_be_committed_halts_and_says_not_durable(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange
    from oms.errors import PersistenceError

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise PersistenceError("database write failed: database is locked")

    monkeypatch.setattr(api.oms.repository, "record_halt", broken)

    # Act
    killed = api.post("/kill", {"reason": "locked drill"})

    # Assert: an error (not a 200), but the halt is in force and the cancel-all is queued
    body = killed.get_json()
    assert killed.status_code == 503
    assert body["trading_state"] == "HALTED" and body["durable"] is False
    assert _fields(killed) == {"durable"} and "not yet durable" in body["error"]
    assert api.oms.gate.is_halted
    assert api.get("/status").get_json()["trading_state"] == "HALTED"
    blocked = api.post("/rebalance", {"targets": TARGETS})
    assert blocked.status_code == 409


BAD_REASONS = [None, 1, 0, [], ["x"], {}, False, True, "", "   ", "\t\n", "x" * 501,
               "line one\nline two"]


@pytest.mark.parametrize("reason", BAD_REASONS, ids=repr)
def test_kill_with_a_bad_reason_is_422_and_changes_nothing(api: Api, reason: Any) -> None:
    response = api.post("/kill", {"reason": reason})
    assert response.status_code == 422 and _fields(response) == {"reason"}
    assert not api.oms.gate.is_halted
    assert api.oms.repository.latest_trading_state() is None


@pytest.mark.parametrize("reason", BAD_REASONS, ids=repr)
def test_resume_with_a_bad_reason_is_422_and_stays_halted(api: Api, reason: Any) -> None:
    # Arrange
    assert api.post("/kill", {"reason": "drill"}).status_code == 200

    # Act
    response = api.post("/resume", {"reason": reason})

    # Assert
    assert response.status_code == 422 and _fields(response) == {"reason"}
    assert api.get("/status").get_json()["trading_state"] == "HALTED"


def test_a_reason_of_exactly_500_characters_is_accepted_and_stored_whole(api: Api) -> None:
    reason = "r" * 500
    assert api.post("/kill", {"reason": reason}).status_code == 200
    assert api.oms.repository.latest_trading_state() == ("HALTED", reason)
    assert api.post("/resume", {"reason": reason}).status_code == 200


def test_a_kill_without_a_reason_uses_the_default(api: Api) -> None:
    response = api.post("/kill", {})
    assert response.status_code == 200 and response.get_json()["reason"] == "kill switch (api)"


def test_a_5_mb_kill_reason_is_refused_before_it_is_read(api: Api) -> None:
    response = api.post("/kill", {"reason": "x" * 5_000_000})
    assert response.status_code == 413 and _fields(response) == {"request"}
    assert not api.oms.gate.is_halted
    assert api.get("/status").get_json()["halt_reason"] == ""


@pytest.mark.parametrize("name", [None, 5, {"high_slippage": 1}, "", "no_such_breaker"],
                         ids=repr)
def test_breaker_reset_names_a_known_breaker_and_gives_a_reason(api: Api, name: Any) -> None:
    from oms.errors import ValidationError

    with pytest.raises(ValidationError) as bad_name:
        api.oms.service.reset_breaker(name, "checked")
    with pytest.raises(ValidationError) as both:
        api.oms.service.reset_breaker(name, {"reason": "x"})
    with pytest.raises(ValidationError) as bad_reason:
        api.oms.service.reset_breaker("high_slippage", "y" * 501)
    assert {e.field for e in bad_name.value.errors} == {"breaker"}
    assert {e.field for e in both.value.errors} == {"breaker", "reason"}
    assert {e.field for e in bad_reason.value.errors} == {"reason"}


@pytest.mark.parametrize("dry_run", ["false", "true", 0, 1, None, [], {}], ids=repr)
def test_dry_run_must_be_a_boolean(api: Api, dry_run: Any) -> None:
    response = api.post("/rebalance", {"targets": TARGETS, "dry_run": dry_run})
    assert response.status_code == 422 and _fields(response) == {"dry_run"}
    time.sleep(0.2)  # a few ticks: had anything been queued, it would show
    assert api.get("/orders").get_json()["total"] == 0


def test_dry_run_false_submits(api: Api) -> None:
    response = api.post("/rebalance", {"targets": {"BTCUSDT": 1000}, "dry_run": False})
    assert response.status_code == 201 and response.get_json()["parent_ids"]


def test_cancel_parent(api: Api) -> None:
    parent_id = api.post("/rebalance", {"targets": {"BTCUSDT": 2000}, "algo": "twap",
                                        "duration_minutes": 60}).get_json()["parent_ids"][0]
    response = api.post(f"/orders/{parent_id}/cancel", {})
    assert response.status_code == 200
    until(lambda: api.get("/orders").get_json()["rows"][0]["state"] == "CANCELED")
    again = api.post(f"/orders/{parent_id}/cancel", {})  # known, no longer working: 422
    assert again.status_code == 422 and "CANCELED" in again.get_json()["error"]


def test_cancel_of_an_unknown_parent_is_404(api: Api) -> None:
    response = api.post("/orders/p-does-not-exist/cancel", {})
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["field"] == "parent_id"


def _resubmit_once_settled(api: Api, parent_id: str, body: Any = None) -> Any:
    """POST resubmit, retried while the old parent's cancels are still being confirmed."""
    response = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = api.post(f"/orders/{parent_id}/resubmit", body)
        if not (response.status_code == 422 and "still open" in response.get_json()["error"]):
            return response
        time.sleep(0.05)
    raise AssertionError(f"the cancels of {parent_id} were never confirmed: {response}")


def test_resubmit_a_canceled_parent(api: Api) -> None:
    # Arrange: a canceled TWAP parent
    parent_id = api.post("/rebalance", {"targets": {"BTCUSDT": 2000}, "algo": "twap",
                                        "duration_minutes": 60}).get_json()["parent_ids"][0]
    api.post(f"/orders/{parent_id}/cancel", {})
    until(lambda: api.get("/orders").get_json()["rows"][0]["state"] == "CANCELED")

    # Act
    response = _resubmit_once_settled(api, parent_id, {"duration_minutes": 5})

    # Assert: a new parent for the rest, linked to the old one; a second resubmit is refused
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["resubmitted_from"] == parent_id and body["parent_id"] != parent_id
    rows = {r["parent_id"]: r for r in api.get("/orders").get_json()["rows"]}
    old, new = rows[parent_id], rows[body["parent_id"]]
    assert Decimal(new["quantity"]) == Decimal(old["quantity"]) - Decimal(old["filled_quantity"])
    assert new["duration_minutes"] == 5 and new["algo"] == "twap"
    again = api.post(f"/orders/{parent_id}/resubmit", {})
    assert again.status_code == 422 and "already resubmitted" in again.get_json()["error"]
    working = api.client.post(f"/api/v1/orders/{body['parent_id']}/resubmit", data="",
                              content_type="application/json")  # an empty body is accepted
    assert working.status_code == 422 and _fields(working) == {"parent_id"}


def test_resubmit_refusals_name_the_field(api: Api) -> None:
    unknown = api.post("/orders/p-does-not-exist/resubmit", {})
    assert unknown.status_code == 404 and _fields(unknown) == {"parent_id"}
    extra = api.post("/orders/p-does-not-exist/resubmit", {"quantity": 1})
    assert extra.status_code == 422 and _fields(extra) == {"quantity"}
    bad = api.post("/orders/p-does-not-exist/resubmit", {"duration_minutes": -1})
    assert bad.status_code == 422 and _fields(bad) == {"duration_minutes"}
    parent_id = api.post("/rebalance", {"targets": {"BTCUSDT": 2000}, "algo": "twap",
                                        "duration_minutes": 60}).get_json()["parent_ids"][0]
    assert api.post("/kill", {"reason": "drill"}).status_code == 200
    until(lambda: api.get("/orders").get_json()["rows"][0]["state"] == "HALTED")
    halted = api.post(f"/orders/{parent_id}/resubmit", {})
    assert halted.status_code == 409 and _fields(halted) == {"trading_state"}


# -- reports -----------------------------------------------------------------------------------


def test_report_404_then_json_and_csv_once_the_session_ends(api: Api) -> None:
    session_id = api.post("/rebalance", {"targets": TARGETS, "algo": "market",
                                         "urgency": 0.9}).get_json()["session_id"]
    assert api.get("/reports/s-unknown").status_code == 404
    until(lambda: api.get(f"/reports/{session_id}").status_code == 200)
    report = api.get(f"/reports/{session_id}").get_json()
    csv = api.get(f"/reports/{session_id}/fills.csv")
    assert report["session_id"] == session_id
    assert {"summary", "costs", "tca", "quality", "parents"} <= set(report)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert len(csv.get_data(as_text=True).strip().splitlines()) >= 4  # header + 3 fills


# -- JSON only, same origin ----------------------------------------------------------------------


def test_form_and_text_posts_are_refused_and_change_nothing(api: Api) -> None:
    form = api.client.post("/api/v1/kill", data={"reason": "csrf"})
    text = api.client.post("/api/v1/kill", data='{"reason": "csrf"}',
                           content_type="text/plain")
    assert form.status_code == 415 and text.status_code == 415
    assert _fields(form) == {"Content-Type"}
    assert api.get("/status").get_json()["trading_state"] == "ACTIVE"


def test_cross_origin_json_post_is_refused(api: Api) -> None:
    response = api.post("/kill", {}, headers={"Origin": "https://evil.example"})
    same = api.post("/resume", {"reason": "x"}, headers={"Origin": "http://localhost"})
    assert response.status_code == 403 and _fields(response) == {"Origin"}
    assert same.status_code == 200
    assert api.get("/status").get_json()["trading_state"] == "ACTIVE"


def test_dash_callbacks_also_refuse_form_posts(api: Api) -> None:
    response = api.client.post("/_dash-update-component", data={"output": "x"})
    assert response.status_code == 415


# -- authentication ----------------------------------------------------------------------------


def test_auth_required_on_api_pages_and_callbacks(secured: Api) -> None:
    assert secured.get("/status").status_code == 401
    assert secured.get("/status", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert secured.client.get("/").status_code == 401
    assert secured.client.get("/_dash-layout").status_code == 401
    assert secured.client.post("/_dash-update-component", json={}).status_code == 401
    assert secured.client.get("/", headers=_basic("desk", "nope")).status_code == 401


def test_bearer_token_and_basic_credentials_are_accepted(secured: Api) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert secured.get("/status", headers=bearer).status_code == 200
    assert secured.client.get("/", headers=_basic("desk", PASSWORD)).status_code == 200
    killed = secured.post("/kill", {"reason": "auth test"}, headers=_basic("desk", PASSWORD))
    assert killed.status_code == 200
    until(lambda: bool(secured.oms.service.risk_events(kind="KILL")))
    assert secured.oms.service.risk_events(kind="KILL")[0]["actor"] == "api:desk"


def _raw_basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize("header", [
    {"Authorization": "Basic"}, {"Authorization": "Basic "}, {"Authorization": "Basic !!!"},
    {"Authorization": "Basic " + "A" * 5000}, {"Authorization": "Bearer"},
    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"bearer{TOKEN}"},
    {"Authorization": f"Token {TOKEN}"}, {"Authorization": "Digest username=desk"},
    _raw_basic(b"desk"), _raw_basic(b"desk:"), _raw_basic(b":" + PASSWORD.encode()),
    _raw_basic(b"desk:" + PASSWORD.encode() + b"\xff"), _raw_basic(b"\xff\xfe:\x00"),
], ids=lambda h: repr(h["Authorization"][:24]))
def test_hostile_authorization_headers_are_a_clean_401(secured: Api,
                                                       header: dict[str, str]) -> None:
    api = secured.get("/status", headers=header)
    page = secured.client.get("/", headers=header)
    killed = secured.post("/kill", {"reason": "x"}, headers=header)
    assert api.status_code == page.status_code == killed.status_code == 401
    assert api.get_json()["errors"][0]["field"] == "Authorization"  # JSON for programs
    assert api.headers["WWW-Authenticate"] == 'Bearer realm="oms-api"'
    assert page.headers["WWW-Authenticate"].startswith('Basic realm="DipMaster OMS"')
    assert page.mimetype == "text/plain"
    assert secured.oms.service.gate.is_halted is False


def test_the_bearer_token_opens_the_api_not_the_pages(secured: Api) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert secured.get("/status", headers=bearer).status_code == 200
    assert secured.client.get("/", headers=bearer).status_code == 401
    assert secured.client.get("/metrics", headers=bearer).status_code == 200


def test_secrets_never_appear_in_responses(secured: Api) -> None:
    bodies = [secured.get("/status").get_data(as_text=True),
              secured.get("/status", headers={"Authorization": f"Bearer {TOKEN}"})
              .get_data(as_text=True),
              secured.client.get("/", headers=_basic("desk", PASSWORD)).get_data(as_text=True),
              secured.post("/rebalance", {"targets": "x"},
                           headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)]
    for body in bodies:
        assert TOKEN not in body and PASSWORD not in body
    assert TOKEN not in repr(secured.oms.settings) and PASSWORD not in repr(secured.oms.settings)


def test_hashed_passwords_are_supported(tmp_path: Path) -> None:
    from werkzeug.security import generate_password_hash

    client = Api(_settings(tmp_path, auth_users={"desk": generate_password_hash(PASSWORD)}))
    try:
        assert client.client.get("/", headers=_basic("desk", PASSWORD)).status_code == 200
        assert client.client.get("/", headers=_basic("desk", "guess")).status_code == 401
    finally:
        client.oms.close()


def test_serve_refuses_a_public_address_without_auth(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="authentication"):
        serve(_settings(tmp_path, host="0.0.0.0"))
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")


def test_unexpected_errors_answer_json_without_internals(api: Api,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(**_: Any) -> Any:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(api.oms.service, "parent_orders", boom)
    response = api.get("/orders")
    assert response.status_code == 500
    assert "secret" not in response.get_data(as_text=True)
    assert _fields(response) == {"server"}
