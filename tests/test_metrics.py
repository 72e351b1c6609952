"""/metrics: the Prometheus text format from an app's own registry; every family present, the
counters move with orders, rejections by reason code, guarded like the REST API."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from oms_harness import T_START
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app.py lives at the repository root
    sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from oms.bootstrap import Oms, build_oms  # noqa: E402
from oms.clock import TestClock  # noqa: E402
from oms.config import RiskLimits, Settings  # noqa: E402
from oms.model import IdGenerator  # noqa: E402

TOKEN = "tok-metrics-5c2a"
PASSWORD = "correct horse battery staple"
LIFTED = RiskLimits(max_orders_per_minute=1000, max_position_usd=10**7,
                    max_gross_exposure_usd=10**7, max_order_notional_usd=10**7)
FAMILIES = {
    "oms_tick_duration_seconds": "histogram",
    "oms_children_sent": "counter",
    "oms_children_filled": "counter",
    "oms_children_rejected": "counter",
    "oms_breaker_tripped": "gauge",
    "oms_breaker_state": "gauge",
    "oms_trading_state": "gauge",
    "oms_command_queue_depth": "gauge",
    "oms_scheduler_missed": "counter",
    "oms_venue_round_trip_milliseconds": "summary",
    "oms_venue_last_round_trip_milliseconds": "gauge",
    "oms_alerts": "counter",
}


@dataclass
class Site:
    """An app on a TestClock, its engine ticked by hand (no scheduler thread)."""

    oms: Oms
    clock: TestClock
    client: Any

    def run(self, seconds: int) -> None:
        from datetime import timedelta

        for _ in range(seconds):
            self.clock.advance(timedelta(seconds=1))
            self.oms.runtime._run()  # the scheduler's job body: ticks and feeds the histogram

    def scrape(self, **headers: str) -> dict[str, Any]:
        response = self.client.get("/metrics", headers=headers)
        assert response.status_code == 200, response.data
        return {f.name: f for f in text_string_to_metric_families(response.data.decode())}


def _site(tmp_path: Path, name: str = "m", **overrides: Any) -> Site:
    settings = Settings(database_url=f"sqlite:///{tmp_path / f'{name}.db'}", **overrides)
    clock = TestClock(T_START)
    oms = build_oms(settings, clock=clock, ids=IdGenerator(name))
    oms.engine.start()
    app = create_app(settings, oms, start_engine=False)
    return Site(oms, clock, app.server.test_client())


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = _site(tmp_path, risk=LIFTED)
    yield s
    s.oms.close()


def _value(families: dict[str, Any], family: str, sample: str | None = None,
           **labels: str) -> float:
    name = sample or family
    return sum(s.value for s in families[family].samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_every_family_is_present_with_its_type(site: Site) -> None:
    site.run(2)

    families = site.scrape()

    assert {name: families[name].type for name in FAMILIES} == FAMILIES
    assert _value(families, "oms_trading_state", state="ACTIVE") == 1.0
    assert _value(families, "oms_tick_duration_seconds", "oms_tick_duration_seconds_count") == 2
    assert {s.labels["breaker"] for s in families["oms_breaker_tripped"].samples} == {
        "high_slippage", "high_rejection", "high_latency", "market_stress"}


def test_children_sent_and_filled_move_after_an_order(site: Site) -> None:
    before = site.scrape()
    future = site.oms.service.submit_order("BTCUSDT", "BUY", "0.05", "twap", 1, wait=False,
                                           algo_options={"slices": 4,
                                                         "placement": "aggressive"})
    site.run(1)
    future.result(timeout=1)
    site.run(90)

    after = site.scrape()

    assert _value(before, "oms_children_sent", "oms_children_sent_total") == 0
    assert _value(after, "oms_children_sent", "oms_children_sent_total") >= 4
    assert _value(after, "oms_children_filled", "oms_children_filled_total") >= 4
    assert _value(after, "oms_venue_round_trip_milliseconds",
                  "oms_venue_round_trip_milliseconds_count") >= 4


def test_rejections_are_counted_by_reason_code_and_the_breaker_shows(site: Site) -> None:
    site.oms.venue.faults.reject_rate = 1.0  # type: ignore[attr-defined]
    future = site.oms.service.submit_order("BTCUSDT", "BUY", "0.06", "twap", 2, wait=False,
                                           algo_options={"slices": 10,
                                                         "placement": "aggressive"})
    site.run(1)
    future.result(timeout=1)
    site.run(150)

    families = site.scrape()

    rejected = {s.labels["code"]: s.value for s in families["oms_children_rejected"].samples
                if s.name == "oms_children_rejected_total"}
    assert rejected and all(value > 0 for value in rejected.values())
    assert _value(families, "oms_breaker_tripped", breaker="high_rejection") == 1.0
    assert _value(families, "oms_trading_state", state="HALTED") == 1.0
    assert _value(families, "oms_alerts", "oms_alerts_total", kind="breaker_trip") == 1.0


def test_each_app_has_its_own_registry(tmp_path: Path) -> None:
    first, second = _site(tmp_path, "a"), _site(tmp_path, "b")
    try:
        first.run(3)
        second.run(1)
        assert _value(first.scrape(), "oms_tick_duration_seconds",
                      "oms_tick_duration_seconds_count") == 3
        assert _value(second.scrape(), "oms_tick_duration_seconds",
                      "oms_tick_duration_seconds_count") == 1
    finally:
        first.oms.close()
        second.oms.close()


def test_metrics_are_loopback_only_without_authentication(site: Site) -> None:
    refused = site.client.get("/metrics", headers={"Host": "metrics.attacker.example"})
    assert refused.status_code == 403
    assert refused.headers["Cache-Control"] == "no-store"


def test_metrics_need_the_token_or_a_user_with_authentication(tmp_path: Path) -> None:
    s = _site(tmp_path, auth_users={"desk": PASSWORD}, api_token=TOKEN)
    try:
        basic = base64.b64encode(f"desk:{PASSWORD}".encode()).decode()
        anonymous = s.client.get("/metrics")
        wrong = s.client.get("/metrics", headers={"Authorization": "Bearer nope"})
        bearer = s.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        user = s.client.get("/metrics", headers={"Authorization": f"Basic {basic}"})
        assert (anonymous.status_code, wrong.status_code) == (401, 401)
        assert (bearer.status_code, user.status_code) == (200, 200)
        assert bearer.content_type == CONTENT_TYPE_LATEST  # once: no doubled charset
        assert b"oms_children_sent_total" in bearer.data
        assert TOKEN.encode() not in bearer.data
    finally:
        s.oms.close()


def test_a_state_changing_request_to_metrics_is_refused(site: Site) -> None:
    response = site.client.post("/metrics", data="x", content_type="text/plain")
    assert response.status_code in (405, 415)
