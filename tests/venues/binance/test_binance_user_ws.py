"""The user data stream over a real loopback WebSocket API: reconnects, terminations, faults.

Every wait polls a condition (50 ms) with a 10 s deadline; nothing asserts on elapsed time.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from binance import ThreadedWebsocketManager
from binance.async_client import AsyncClient
from binance_helpers import API_KEY, API_SECRET, ENV, child, make_settings
from fake_binance_server import FakeBinance
from fake_user_ws import FakeUserWs

from oms.clock import LiveClock, TestClock
from oms.risk.halt import HaltGate
from oms.venues.binance_factory import build_binance_venue
from oms.venues.binance_keys import ApiCredentials
from oms.venues.binance_stream import (
    StreamState,
    StreamStatus,
    StreamStatusKind,
    UserStreamHandler,
)
from oms.venues.binance_user_ws import UserStreamOptions, WsApiUserStream
from oms.venues.events import OrderFilled

FAST = UserStreamOptions(request_timeout_s=2.0, check_interval_s=0.2, backoff_initial_s=0.05,
                         backoff_max_s=0.2)


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll every 50 ms until ``condition()`` or the deadline; the result, not the time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def report(cid: str, *, order_id: int = 1, status: str = "NEW") -> dict[str, Any]:
    """A minimal executionReport for ``cid``."""
    return {"e": "executionReport", "E": int(time.time() * 1000), "s": "BTCUSDT", "c": cid,
            "x": status, "X": status, "i": order_id, "z": "0", "Z": "0", "t": -1}


def now() -> float:
    return datetime.now(UTC).timestamp()


class Recorder:
    """Passes messages to the handler and notes the handler's verdict right after each one."""

    def __init__(self, handler: UserStreamHandler) -> None:
        self.handler = handler
        self.seen: list[tuple[str, StreamState, bool]] = []
        self.statuses: list[StreamStatus] = []

    def __call__(self, message: dict[str, Any] | StreamStatus) -> None:
        self.handler.on_message(message)
        if isinstance(message, StreamStatus):
            self.statuses.append(message)
            label = message.kind.value
        else:
            label = str(message.get("event", message).get("e"))
        self.seen.append((label, self.handler.state, self.handler.is_dead(now())))

    def kinds(self) -> list[StreamStatusKind]:
        return [s.kind for s in self.statuses]


class Inbox:
    """Everything the handler has queued so far (draining as the venue would)."""

    def __init__(self, handler: UserStreamHandler) -> None:
        self.handler = handler
        self.reports: list[dict[str, Any]] = []

    def has(self, cid: str) -> bool:
        self.reports.extend(self.handler.drain())
        return any(r.get("c") == cid for r in self.reports)


@pytest.fixture
def user_ws() -> Iterator[FakeUserWs]:
    fake = FakeUserWs(API_KEY, API_SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture
def handler() -> UserStreamHandler:
    return UserStreamHandler(LiveClock())


@pytest.fixture
def recorder(handler: UserStreamHandler) -> Recorder:
    return Recorder(handler)


@pytest.fixture
def stream(user_ws: FakeUserWs) -> Iterator[WsApiUserStream]:
    transport = WsApiUserStream(user_ws.url, ApiCredentials(API_KEY, API_SECRET), FAST)
    yield transport
    transport.stop()


def subscribed(handler: UserStreamHandler, times: int = 1) -> Callable[[], bool]:
    return lambda: handler.subscriptions >= times and handler.connected


# --- the defect: python-binance 1.0.37 on its own -------------------------------------------


def _started_manager(attempts: int = 3) -> ThreadedWebsocketManager:
    """python-binance's manager, started (its start gives up after 5 s, which a loaded
    machine can take: a real failure to start happens every time, a slow start does not)."""
    for attempt in range(attempts):
        loop = asyncio.new_event_loop()  # python-binance builds sockets on the current loop
        asyncio.set_event_loop(loop)
        manager = ThreadedWebsocketManager(api_key=API_KEY, api_secret=API_SECRET,
                                           testnet=True, loop=loop)
        manager.daemon = True
        try:
            manager.start()
        except RuntimeError:
            threading.Thread(target=manager.stop, daemon=True).start()
            if attempt == attempts - 1:
                raise
            continue
        return manager
    raise AssertionError("unreachable")


def test_plain_python_binance_user_socket_goes_deaf_after_a_reconnect(
    server: FakeBinance, user_ws: FakeUserWs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AsyncClient, "API_TESTNET_URL", f"{server.url}/api")
    monkeypatch.setattr(AsyncClient, "WS_API_TESTNET_URL", user_ws.url)
    received: list[dict[str, Any]] = []
    manager = _started_manager()
    try:
        manager.start_user_socket(callback=received.append)
        first_subscribed = wait_until(lambda: user_ws.active_subscriptions() == 1)
        user_ws.send_event(report("before"))
        got_before = wait_until(lambda: any(m.get("c") == "before" for m in received))

        user_ws.drop_connections()
        reconnected = wait_until(lambda: user_ws.connections == 2
                                 and user_ws.open_connections() == 1)
        # python-binance never subscribes again; give it a fair chance before saying so
        resubscribed = wait_until(lambda: user_ws.active_subscriptions() > 0, timeout_s=1.0)
        reached = user_ws.send_event(report("after"))
    finally:  # its stop() waits 5 s on a client it cannot close; let it end on its own
        threading.Thread(target=manager.stop, daemon=True).start()
        asyncio.set_event_loop(None)  # no later test may meet this running loop as current

    assert first_subscribed and got_before and reconnected
    assert not resubscribed
    assert reached == 0  # the event had nowhere to go: the socket is open and deaf
    assert user_ws.methods.count("userDataStream.subscribe.signature") == 1


# --- the fix ------------------------------------------------------------------------------------


def test_transport_resubscribes_after_server_drops_the_connection(
    user_ws: FakeUserWs, stream: WsApiUserStream, handler: UserStreamHandler
) -> None:
    inbox = Inbox(handler)
    stream.start(handler.on_message)
    assert wait_until(subscribed(handler))
    user_ws.send_event(report("before"))
    got_before = wait_until(lambda: inbox.has("before"))

    user_ws.drop_connections()
    resubscribed = wait_until(subscribed(handler, 2))
    reached = user_ws.send_event(report("after"))
    got_after = wait_until(lambda: inbox.has("after"))

    assert got_before and resubscribed and got_after
    assert reached == 1
    assert user_ws.connections == 2
    assert len(user_ws.subscribe_params) == 2
    for params in user_ws.subscribe_params:
        assert params["apiKey"] == API_KEY and len(params["signature"]) == 64
        assert API_SECRET not in str(params)


def test_event_stream_terminated_marks_the_stream_down_at_once(
    user_ws: FakeUserWs, stream: WsApiUserStream, recorder: Recorder
) -> None:
    stream.start(recorder)
    assert wait_until(subscribed(recorder.handler))

    ended = user_ws.terminate()
    resubscribed = wait_until(subscribed(recorder.handler, 2))

    at_event = [(state, dead) for label, state, dead in recorder.seen
                if label == "eventStreamTerminated"]
    assert ended == 1
    assert at_event == [(StreamState.TERMINATED, True)]
    assert StreamStatusKind.TERMINATED in recorder.kinds()
    assert resubscribed  # the transport dials again by itself; the resync flag is raised
    assert recorder.handler.needs_resync()


def test_server_shutdown_marks_down_and_reconnects(
    user_ws: FakeUserWs, stream: WsApiUserStream, recorder: Recorder
) -> None:
    stream.start(recorder)
    assert wait_until(subscribed(recorder.handler))

    user_ws.shutdown_notice()
    resubscribed = wait_until(subscribed(recorder.handler, 2))

    at_event = [(state, dead) for label, state, dead in recorder.seen if label == "serverShutdown"]
    assert at_event == [(StreamState.DOWN, True)]
    assert resubscribed and user_ws.connections == 2


def test_subscription_ended_silently_is_found_and_renewed(
    user_ws: FakeUserWs, stream: WsApiUserStream, recorder: Recorder
) -> None:
    stream.start(recorder)
    assert wait_until(subscribed(recorder.handler))

    user_ws.forget_subscriptions()  # the socket stays up, the events stop
    renewed = wait_until(subscribed(recorder.handler, 2))

    lost = [s.detail for s in recorder.statuses if s.kind is StreamStatusKind.TERMINATED]
    assert lost == ["subscription no longer listed"]
    assert renewed and user_ws.active_subscriptions() == 1


def test_refused_subscription_is_reported_and_retried(
    user_ws: FakeUserWs, stream: WsApiUserStream, recorder: Recorder
) -> None:
    user_ws.refuse_next_subscriptions = 1

    stream.start(recorder)
    live = wait_until(subscribed(recorder.handler))

    kinds = recorder.kinds()
    refused = [s.detail for s in recorder.statuses if s.kind is StreamStatusKind.DISCONNECTED]
    assert live
    assert kinds[:3] == [StreamStatusKind.CONNECTING, StreamStatusKind.CONNECTED,
                         StreamStatusKind.DISCONNECTED]
    assert "subscription refused" in refused[0] and "-1022" in refused[0]
    assert kinds.index(StreamStatusKind.SUBSCRIBED) > kinds.index(StreamStatusKind.DISCONNECTED)


def test_expected_report_that_never_comes_makes_the_stream_dead(
    user_ws: FakeUserWs, stream: WsApiUserStream, handler: UserStreamHandler
) -> None:
    inbox = Inbox(handler)
    stream.start(handler.on_message)
    assert wait_until(subscribed(handler))
    sent_at = now()
    user_ws.send_event(report("delivered"))
    assert wait_until(lambda: inbox.has("delivered"))
    user_ws.drop_next = 1
    user_ws.send_event(report("lost"))  # the stream still looks up; this one never arrives

    handler.expect("delivered", sent_at)  # REST answered after the report: already satisfied
    handler.expect("lost", sent_at)

    assert not handler.is_dead(sent_at + 1)  # a quiet stream is not a dead one
    assert handler.is_dead(sent_at + handler.expect_s + 0.1)
    assert "lost" in (handler.dead_reason(sent_at + handler.expect_s + 0.1) or "")
    assert "delivered" not in (handler.dead_reason(sent_at + handler.expect_s + 0.1) or "")


def test_needs_resync_after_every_reconnection(
    user_ws: FakeUserWs, stream: WsApiUserStream, handler: UserStreamHandler
) -> None:
    stream.start(handler.on_message)
    assert wait_until(subscribed(handler))
    first = handler.needs_resync()
    handler.resynced()
    settled = handler.needs_resync()

    user_ws.drop_connections()
    assert wait_until(subscribed(handler, 2))
    after_reconnect = handler.needs_resync()

    assert (first, settled, after_reconnect) == (True, False, True)


def test_venue_reports_each_fill_once_from_duplicated_and_reordered_events(
    server: FakeBinance, user_ws: FakeUserWs
) -> None:
    clock = TestClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    transport = WsApiUserStream(user_ws.url, ApiCredentials(API_KEY, API_SECRET), FAST)
    venue = build_binance_venue(make_settings(server), HaltGate(), production_confirmed=False,
                                clock=clock, transport=transport, env=ENV)
    try:
        assert wait_until(subscribed(venue.stream))
        order = child(qty="0.02")
        venue.submit(order, clock.now())
        server.fill(order.client_order_id, Decimal("0.005"))
        server.fill(order.client_order_id, Decimal("0.015"))
        reports = list(server.execution_reports)  # NEW, TRADE, TRADE
        user_ws.hold()
        for msg in reports:
            user_ws.send_event(msg)
        user_ws.release(reverse=True)  # TRADE, TRADE, NEW
        user_ws.duplicate_next = len(reports)
        for msg in reports:
            user_ws.send_event(msg)  # and every one twice more
        arrived = wait_until(lambda: venue.stream.reports_received == 3 * len(reports))
        first = venue.poll(clock.now())
        again = venue.poll(clock.now())
    finally:
        venue.close()

    assert arrived
    assert sorted(e.fill.quantity for e in first if isinstance(e, OrderFilled)) == [
        Decimal("0.005"), Decimal("0.015")]
    assert [e for e in again if isinstance(e, OrderFilled)] == []
    assert venue.open_order_ids() == []


def test_stop_ends_the_thread_even_while_dialling_a_silent_server() -> None:
    silent = socket.socket()  # accepts TCP, never answers the WebSocket handshake
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    url = f"ws://127.0.0.1:{silent.getsockname()[1]}/ws-api/v3"
    patient = UserStreamOptions(request_timeout_s=60.0)
    transport = WsApiUserStream(url, ApiCredentials(API_KEY, API_SECRET), patient)
    handler = UserStreamHandler(LiveClock())
    try:
        transport.start(handler.on_message)
        transport.stop()
    finally:
        silent.close()

    assert not [t for t in threading.enumerate() if t.name == "binance-user-ws"]
    assert handler.state is StreamState.DOWN and handler.reason == "starting"
