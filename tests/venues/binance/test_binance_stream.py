"""Fills from execution reports, each once; dead stream -> reconnect + REST; REST fallback;
the handler's liveness rules (terminated, shut down, owed reports, resync per subscription)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from binance_helpers import ENV, FakeTransport, child, make_settings
from fake_binance_server import FakeBinance

from oms.clock import TestClock
from oms.model.enums import Liquidity
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.binance_factory import build_binance_venue
from oms.venues.binance_orders import update_from_execution_report
from oms.venues.binance_stream import (
    StreamState,
    StreamStatus,
    StreamStatusKind,
    UserStreamHandler,
)
from oms.venues.events import OrderAccepted, OrderCanceled, OrderFilled


def fills(events: Sequence[object]) -> list[OrderFilled]:
    return [e for e in events if isinstance(e, OrderFilled)]


def test_fill_from_execution_report_is_reported_once_even_if_repeated(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, transport: FakeTransport
) -> None:
    order = child(qty="0.02")
    venue.submit(order, clock.now())
    server.fill(order.client_order_id, Decimal("0.01"))

    transport.deliver()
    first = venue.poll(clock.now())
    transport.deliver(replay_from=0)  # the stream sends every report again (duplicates)
    second = venue.poll(clock.now())

    assert len(fills(first)) == 1
    assert fills(first)[0].fill.quantity == Decimal("0.01")
    assert fills(first)[0].fill.liquidity is Liquidity.MAKER
    assert fills(first)[0].fill.fee == Decimal("0.49")  # 0.1% of 490 USDT
    assert fills(second) == []
    assert [e for e in first + second if isinstance(e, OrderAccepted)].__len__() == 1


def test_a_deaf_stream_is_found_by_the_rest_audit_and_reconnected(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, transport: FakeTransport
) -> None:
    order = child(qty="0.02")
    venue.submit(order, clock.now())
    transport.deliver()
    venue.poll(clock.now())
    transport.silent = True  # the connection looks alive but delivers nothing
    server.fill(order.client_order_id, Decimal("0.02"))
    transport.deliver()

    clock.advance(timedelta(seconds=30))
    before = venue.poll(clock.now())  # a quiet stream is not a dead one
    clock.advance(timedelta(seconds=70))  # the REST audit (every stream_silence_s) finds the fill
    after = venue.poll(clock.now())
    audited_reconnects = venue.stream.reconnects
    clock.advance(timedelta(seconds=11))  # the stream owed its report 10 s: it is deaf
    venue.poll(clock.now())
    transport.silent = False
    transport.deliver(replay_from=0)  # the reconnected stream replays: nothing twice
    later = venue.poll(clock.now())

    assert fills(before) == []
    assert [f.fill.quantity for f in fills(after)] == [Decimal("0.02")]
    assert audited_reconnects == 0
    assert transport.starts == 2 and venue.stream.reconnects == 1
    assert fills(later) == []
    assert venue.open_order_ids() == []


def test_rest_polling_fallback_without_stream(server: FakeBinance, clock: TestClock) -> None:
    settings = make_settings(server, use_user_stream=False, rest_poll_interval_s=2.0)
    venue = build_binance_venue(settings, HaltGate(), production_confirmed=False, clock=clock,
                                env=ENV)
    order = child(qty="0.02")
    venue.submit(order, clock.now())
    venue.poll(clock.now())
    server.fill(order.client_order_id, Decimal("0.005"))

    clock.advance(timedelta(seconds=3))
    events = venue.poll(clock.now())
    clock.advance(timedelta(seconds=3))
    again = venue.poll(clock.now())

    assert [f.fill.quantity for f in fills(events)] == [Decimal("0.005")]
    assert fills(again) == []
    assert server.count("GET", "/api/v3/myTrades") == 1


def test_cancel_report_uses_the_original_client_order_id(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, transport: FakeTransport
) -> None:
    order = child()
    venue.submit(order, clock.now())
    venue.cancel(order.client_order_id, clock.now())
    report = server.execution_reports[-1]

    update = update_from_execution_report(report)
    transport.deliver()
    events = venue.poll(clock.now())

    assert update.client_order_id == order.client_order_id
    assert len([e for e in events if isinstance(e, OrderCanceled)]) == 1


class BrokenTransport(FakeTransport):
    """A websocket that cannot connect."""

    def start(self, callback: Callable[[dict[str, Any]], None]) -> None:
        self.starts += 1
        raise OSError("connection refused")


def test_stream_that_cannot_connect_falls_back_to_rest_and_retries(
    server: FakeBinance, clock: TestClock
) -> None:
    transport = BrokenTransport(server)
    venue = build_binance_venue(make_settings(server), HaltGate(), production_confirmed=False,
                                clock=clock, transport=transport, env=ENV)
    order = child()
    venue.submit(order, clock.now())
    server.fill(order.client_order_id, Decimal("0.01"))

    clock.advance(timedelta(seconds=3))
    events = venue.poll(clock.now())
    starts_before_spacing = transport.starts
    clock.advance(timedelta(seconds=30))
    venue.poll(clock.now())

    assert [f.fill.quantity for f in fills(events)] == [Decimal("0.01")]
    assert starts_before_spacing == 1  # no reconnect storm
    assert transport.starts == 2


# --- the handler's liveness rules (no network) --------------------------------------------------


def _report(cid: str, exec_type: str = "NEW", orig: str = "") -> dict[str, Any]:
    return {"e": "executionReport", "s": "BTCUSDT", "c": cid, "C": orig, "x": exec_type,
            "X": exec_type, "i": 7, "z": "0", "Z": "0", "t": -1}


def _live(clock: TestClock) -> UserStreamHandler:
    handler = UserStreamHandler(clock)
    handler.on_message(StreamStatus(StreamStatusKind.SUBSCRIBED, "", 0))
    return handler


def test_event_stream_terminated_and_server_shutdown_take_the_stream_down(
    clock: TestClock,
) -> None:
    terminated, shut = _live(clock), _live(clock)
    epoch = clock.now().timestamp()

    terminated.on_message({"subscriptionId": 0, "event": {"e": "eventStreamTerminated", "E": 1}})
    shut.on_message({"event": {"e": "serverShutdown", "E": 1}})  # no subscriptionId at Binance

    assert terminated.state is StreamState.TERMINATED and terminated.is_dead(epoch)
    assert shut.state is StreamState.DOWN and shut.is_dead(epoch)
    assert not terminated.connected and not shut.connected


def test_terminated_stream_is_reconnected_by_the_venue(
    venue: BinanceVenue, clock: TestClock, transport: FakeTransport
) -> None:
    assert transport.callback is not None
    transport.callback({"subscriptionId": 0, "event": {"e": "eventStreamTerminated", "E": 1}})
    clock.advance(timedelta(seconds=31))  # the venue's reconnect spacing

    venue.poll(clock.now())

    assert transport.starts == 2
    assert venue.stream.connected


def test_a_quiet_stream_is_alive_and_an_owed_report_is_not_forgotten(clock: TestClock) -> None:
    handler = _live(clock)
    epoch = clock.now().timestamp()

    handler.expect("oms-1", epoch)
    due = handler.is_dead(epoch + handler.expect_s - 0.1)
    overdue = handler.dead_reason(epoch + handler.expect_s + 0.1)
    handler.on_message(_report("oms-1"))  # late, but it came: alive again
    late = handler.is_dead(epoch + handler.expect_s + 0.2)

    assert not _live(clock).is_dead(epoch + 3600)  # nothing owed: silence proves nothing
    assert not due
    assert overdue is not None and overdue.startswith("EXPECTED_REPORT_OVERDUE: orders=oms-1")
    assert not late


def test_a_report_that_beat_the_rest_answer_satisfies_the_expectation(clock: TestClock) -> None:
    handler = _live(clock)
    handler.on_message(_report("oms-old"))
    handler.drain()
    clock.advance(timedelta(seconds=5))
    handler.on_message(_report("oms-new"))  # still queued when the REST answer comes
    handler.on_message(_report("oms-cxl-2", "CANCELED", orig="oms-cxl"))  # a cancel names it in C
    later = clock.now().timestamp() + 1

    handler.expect("oms-new", later)
    handler.expect("oms-cxl", later)
    handler.expect("oms-old", later)  # its last report is drained and older: a new one is owed

    reason = handler.dead_reason(later + handler.expect_s + 1)
    assert reason is not None and "oms-old" in reason
    assert "oms-new" not in reason and "oms-cxl" not in reason


def test_status_reporting_transport_is_live_only_once_subscribed(clock: TestClock) -> None:
    handler = UserStreamHandler(clock)
    epoch = clock.now().timestamp()

    handler.on_message(StreamStatus(StreamStatusKind.CONNECTING, "starting"))
    handler.mark_connected(epoch)  # the venue after start(): not proof of a subscription
    before = handler.is_dead(epoch)
    handler.on_message(StreamStatus(StreamStatusKind.CONNECTED, "socket open"))
    open_only = handler.is_dead(epoch)
    handler.on_message(StreamStatus(StreamStatusKind.SUBSCRIBED, "", 3))

    assert before and open_only
    assert not handler.is_dead(epoch) and handler.subscription_id == 3


def test_a_subscription_during_a_resync_needs_its_own_resync(clock: TestClock) -> None:
    handler = _live(clock)

    asked = handler.needs_resync()  # the venue starts its REST resync ...
    handler.on_message(StreamStatus(StreamStatusKind.DISCONNECTED, "socket closed"))
    handler.on_message(StreamStatus(StreamStatusKind.SUBSCRIBED, "", 1))  # ... a reconnect ...
    handler.resynced()  # ... the resync ends, before the new gap
    still = handler.needs_resync()
    handler.resynced()

    assert asked and still
    assert not handler.needs_resync()
