"""Alerts: derived from what the engine commits, sent through apprise to a loopback JSON
webhook from their own thread; a stalled receiver never holds up the engine; the queue bound
and the per-kind rate limit hold; URLs are refused at start and never shown whole."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from oms_harness import OmsHarness, make_harness
from pydantic import ValidationError

from oms.alerts.feed import AlertFeed
from oms.alerts.model import Alert, AlertKind, Severity
from oms.alerts.notify import Notifier
from oms.alerts.redact import redact_url
from oms.config import AlertSettings, RiskLimits, Settings
from oms.persistence.repository import WriteBatch
from oms.persistence.rows import json_text

LIFTED = RiskLimits(max_orders_per_minute=1000, max_position_usd=10**7,
                    max_gross_exposure_usd=10**7, max_order_notional_usd=10**7)
T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


class Receiver:
    """A JSON webhook on 127.0.0.1 (port 0): records every body; ``stall()`` makes each request
    wait until ``release()``, signalling ``entered`` when one is held."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.received = threading.Condition()
        self.entered = threading.Event()
        self.go = threading.Event()
        self.go.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                receiver.entered.set()
                receiver.go.wait(timeout=30)
                with receiver.received:
                    receiver.bodies.append(body)
                    receiver.received.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hooks/s3cr3t-hook-token"

    def stall(self) -> None:
        self.go.clear()

    def release(self) -> None:
        self.go.set()

    def wait_for(self, count: int, timeout_s: float = 20.0) -> list[dict[str, Any]]:
        with self.received:
            self.received.wait_for(lambda: len(self.bodies) >= count, timeout=timeout_s)
            return list(self.bodies)

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _alert(alert_id: int, kind: AlertKind = AlertKind.BREAKER_TRIP) -> Alert:
    return Alert(alert_id, kind, Severity.CRITICAL, f"alert {alert_id}", "m", T0, T0, "x")


def _trip_high_rejection(h: OmsHarness) -> None:
    """Every child rejected by the venue: the high_rejection breaker trips and halts."""
    h.oms.venue.faults.reject_rate = 1.0  # type: ignore[attr-defined]
    futures = [h.service.submit_order(s, "BUY", q, "twap", 2, wait=False,
                                      algo_options={"slices": 10, "placement": "aggressive"})
               for s, q in (("BTCUSDT", "0.06"), ("ETHUSDT", "1.2"))]
    h.tick()
    for future in futures:
        future.result(timeout=1)  # type: ignore[attr-defined]
    h.run(150)


def test_a_breaker_trip_reaches_the_webhook_with_the_expected_json(
        tmp_path: Path, receiver: Receiver) -> None:
    h = make_harness(tmp_path, risk=LIFTED, alerts={"urls": [receiver.url]})
    try:
        _trip_high_rejection(h)

        alerts = {a.kind: a for a in h.oms.alerts.latest()}
        assert {AlertKind.BREAKER_TRIP, AlertKind.HALT, AlertKind.REJECT_BURST} <= set(alerts)
        assert alerts[AlertKind.BREAKER_TRIP].severity is Severity.CRITICAL  # it halts
        # read from the committed payloads: the venue's code, never a placeholder
        assert "?" not in alerts[AlertKind.REJECT_BURST].message
        assert "HALTED" not in alerts[AlertKind.REJECT_BURST].message  # halt denials left out
        bodies = receiver.wait_for(1)
        trip = next(b for b in bodies if "Breaker high_rejection tripped" in b["title"])
        assert trip["title"] == "[OMS CRITICAL] Breaker high_rejection tripped"
        assert trip["type"] == "failure"
        assert "breaker_trip" in trip["message"] and "UTC" in trip["message"]
    finally:
        h.oms.close()


def test_the_latest_alerts_are_newest_first_with_their_ids(tmp_path: Path) -> None:
    h = make_harness(tmp_path, risk=LIFTED)
    try:
        _trip_high_rejection(h)
        alerts = h.oms.alerts.latest()
        assert [a.alert_id for a in alerts] == sorted((a.alert_id for a in alerts), reverse=True)
        assert all(a.raised_at.tzinfo is UTC for a in alerts)
        assert h.oms.notifier is None  # nothing configured: nothing sent, still listed
    finally:
        h.oms.close()


def test_a_stalled_receiver_never_blocks_the_engine_tick(
        tmp_path: Path, receiver: Receiver) -> None:
    receiver.stall()
    h = make_harness(tmp_path, risk=LIFTED,
                     alerts={"urls": [receiver.url], "queue_size": 3, "send_timeout_s": 30})
    try:
        _trip_high_rejection(h)
        assert receiver.entered.wait(timeout=20)  # the sender is held inside a request
        before = h.engine.tick_count

        for _ in range(50):  # more alerts arrive while the receiver sleeps
            h.oms.alerts.publish([_alert(10_000 + _, AlertKind.PARENT_COMPLETED)])
            h.run(1)

        assert h.engine.tick_count - before == 50  # every tick ran while the request hung
        assert receiver.bodies == []  # ... and the receiver has still answered nothing
        stats = h.oms.notifier.stats()  # type: ignore[union-attr]
        assert stats.queued == 3 and stats.dropped > 0
    finally:
        receiver.release()
        h.oms.close()


def test_a_full_queue_drops_the_oldest_and_counts_the_drops() -> None:
    sent: list[int] = []
    notifier = Notifier(AlertSettings(queue_size=3, rate_limit_count=100),
                        send=lambda a: sent.append(a.alert_id) is None)

    for alert_id in range(1, 8):  # not started: nothing leaves the queue
        notifier.submit(_alert(alert_id))
    stats = notifier.stats()
    kept = [a.alert_id for a in notifier._queue]

    assert stats.queued == 3 and stats.dropped == 4
    assert kept == [5, 6, 7]  # the newest say most about now
    assert sent == []


def test_the_rate_limit_holds_per_kind_and_lifts_after_the_window() -> None:
    now = [0.0]
    notifier = Notifier(AlertSettings(rate_limit_count=2, rate_limit_window_s=60,
                                      rate_limit_per_kind={"parent_completed": 1}),
                        monotonic=lambda: now[0], send=lambda _a: True)

    trips = [notifier.submit(_alert(i)) for i in range(5)]
    completed = [notifier.submit(_alert(10 + i, AlertKind.PARENT_COMPLETED)) for i in range(3)]
    now[0] = 59.9
    still_limited = notifier.submit(_alert(20))
    now[0] = 60.0
    after_window = notifier.submit(_alert(21))

    assert trips == [True, True, False, False, False]
    assert completed == [True, False, False]
    assert still_limited is False and after_window is True
    assert notifier.stats().suppressed == 6


def test_the_feed_derives_each_kind_from_committed_rows() -> None:
    feed = AlertFeed(AlertSettings(reject_burst_count=3, reject_burst_window_s=10))
    batch = WriteBatch()
    batch.risk_events = [
        {"ts": T0, "kind": "BREAKER_TRIP", "code": "high_latency", "message": "5 > 1000 ms",
         "actor": "breaker:high_latency", "payload": json_text({"action": "REDUCING"})},
        {"ts": T0, "kind": "TRADING_STATE", "code": "HALTED", "message": "kill switch",
         "actor": "desk", "payload": "{}"},
        {"ts": T0, "kind": "TRADING_STATE", "code": "REDUCING", "message": "x",
         "actor": "engine", "payload": "{}"},
        {"ts": T0, "kind": "RECONCILE", "code": "UNKNOWN_ORDER", "message": "venue has it",
         "entity_id": "v-1", "actor": "reconcile", "payload": "{}"},
    ]
    batch.audit = [
        {"ts": T0, "event": "ParentCompleted", "entity_id": "P-1",
         "payload": json_text({"reason": "done", "filled": "2", "quantity": "2"})},
        {"ts": T0, "event": "ParentFailed", "entity_id": "P-2",
         "payload": json_text({"reason": "x"})},
        *({"ts": T0, "event": "OrderDenied", "entity_id": f"c{i}",
           "payload": json_text({"source": "HALT", "code": "HALTED"})} for i in range(5)),
        *({"ts": T0, "event": "OrderRejected", "entity_id": f"r{i}",
           "payload": json_text({"source": "VENUE", "code": "-2010"})} for i in range(3)),
    ]

    feed.tap(batch)

    got = {a.kind: a for a in feed.latest()}
    assert set(got) == set(AlertKind)
    assert got[AlertKind.BREAKER_TRIP].severity is Severity.WARNING  # it only reduces
    assert got[AlertKind.HALT].message == "kill switch (by desk)"
    assert got[AlertKind.RECONCILE_MISMATCH].severity is Severity.CRITICAL
    assert got[AlertKind.REJECT_BURST].message == "reason codes: -2010 x3"  # halt denials out
    assert got[AlertKind.PARENT_COMPLETED].message == "filled 2 of 2: done"


def test_a_malformed_row_never_raises_into_the_engine() -> None:
    feed = AlertFeed(AlertSettings())
    batch = WriteBatch()
    batch.risk_events = [{"kind": "BREAKER_TRIP"}]  # no code, no ts

    feed.tap(batch)

    assert feed.latest() == ()


@pytest.mark.parametrize("url", ["not a url", "bogus://x", ""])
def test_a_bad_url_is_refused_at_start_naming_the_setting(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(alerts={"urls": ["json://127.0.0.1:9/ok", url]})
    assert "OMS_ALERTS__URLS[1]" in str(info.value)
    if url:
        assert url not in str(info.value)


def test_an_unknown_kind_in_the_rate_limits_is_refused() -> None:
    with pytest.raises(ValidationError, match="RATE_LIMIT_PER_KIND"):
        AlertSettings(rate_limit_per_kind={"breaker": 1})


@pytest.mark.parametrize(("url", "secret"), [
    ("json://127.0.0.1:8080/hooks/s3cr3t-hook-token", "s3cr3t-hook-token"),
    ("tgram://123456789:AAEbotTokenSecretValue/987654", "AAEbotTokenSecretValue"),
    ("slack://TA1B2C3/BXXXXYYYY/zzzzSECRETzzzz/#desk", "zzzzSECRETzzzz"),
    ("mailtos://desk:hunter2pass@example.com", "hunter2pass"),
])
def test_urls_are_shown_without_their_secrets(url: str, secret: str) -> None:
    shown = redact_url(url)
    assert secret not in shown and shown.split("://")[0] in url


def test_the_log_never_holds_a_url_whole(tmp_path: Path, receiver: Receiver,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    notifier = Notifier(AlertSettings(urls=[receiver.url]))
    notifier.start()
    notifier.submit(_alert(1))
    receiver.wait_for(1)
    logging.getLogger("apprise").warning("posting to %s", receiver.url)  # as a plugin might
    notifier.stop()

    assert receiver.bodies and "s3cr3t-hook-token" not in caplog.text
