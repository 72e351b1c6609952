"""Fills from execution reports, each once; silent stream -> reconnect + REST; REST fallback."""

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


def test_silent_stream_is_reconnected_and_checked_by_rest(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, transport: FakeTransport
) -> None:
    order = child(qty="0.02")
    venue.submit(order, clock.now())
    venue.poll(clock.now())
    transport.silent = True  # the connection looks alive but delivers nothing
    server.fill(order.client_order_id, Decimal("0.02"))
    transport.deliver()

    clock.advance(timedelta(seconds=30))
    before = venue.poll(clock.now())
    clock.advance(timedelta(seconds=70))  # > stream_silence_s (90 s) since the last message
    after = venue.poll(clock.now())
    transport.silent = False
    transport.deliver(replay_from=0)  # the reconnected stream replays: nothing twice
    later = venue.poll(clock.now())

    assert fills(before) == []
    assert transport.starts == 2
    assert venue.stream.reconnects == 1
    assert [f.fill.quantity for f in fills(after)] == [Decimal("0.02")]
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
