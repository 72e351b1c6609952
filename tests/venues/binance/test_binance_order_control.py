"""Never lose control of an order at Binance: sends of unknown outcome stay live until Binance
settles them, cancels are retried until Binance confirms them, housekeeping errors never escape.

The loopback server places some orders after the API gave up on them, and shows accepted orders
to queries with a lag (``visibility_lag_s``), as Binance does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from binance.exceptions import BinanceAPIException
from binance_helpers import REQUEST_TIMEOUT_S, TIMED_OUT_S, FakeTransport, child
from fake_binance_server import FakeBinance, Fault

from oms.clock import TestClock
from oms.errors import OrderStatusUnknown, VenueRejected
from oms.venues.binance import BinanceVenue
from oms.venues.binance_errors import is_not_open, translate_exception
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)


def _poll_until(venue: BinanceVenue, clock: TestClock, done: Callable[[list[VenueEvent]], bool],
                *, step_s: float = 1.0, timeout_s: float = 10.0) -> list[VenueEvent]:
    """Poll (advancing the venue's clock ``step_s`` each time) until ``done(all events)``."""
    events: list[VenueEvent] = []
    deadline = time.monotonic() + timeout_s
    while not done(events):
        assert time.monotonic() < deadline, f"not reached; events {events}"
        clock.advance(timedelta(seconds=step_s))
        events.extend(venue.poll(clock.now()))
        time.sleep(0.05)
    return events


def _of(events: list[VenueEvent], kind: type) -> list[VenueEvent]:
    return [e for e in events if isinstance(e, kind)]


# -- unknown outcomes ------------------------------------------------------------------------

def test_an_order_placed_after_the_api_gave_up_is_not_declared_absent_on_one_miss(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, transport: FakeTransport
) -> None:
    # a read timeout, then "does not exist" while Binance is still placing it (and its
    # queries lag): it must stay live, appear, and have its fill booked; never resent
    server.visibility_lag_s = 0.4
    server.faults.append(Fault("POST", "/api/v3/order", "timeout_then_place",
                               delay_s=TIMED_OUT_S, place_after_s=REQUEST_TIMEOUT_S + 0.2))
    order = child()

    with pytest.raises(OrderStatusUnknown):
        venue.submit(order, clock.now())
    clock.advance(timedelta(seconds=11))  # past recvWindow + the old 5 s grace
    early = venue.poll(clock.now())
    events = _poll_until(venue, clock, lambda ev: bool(_of(ev, OrderAccepted)))
    server.fill(order.client_order_id, Decimal("0.01"))
    transport.deliver()
    events += _poll_until(venue, clock, lambda ev: bool(_of(ev, OrderFilled)))

    assert not _of(early + events, OrderRejected)
    assert server.count("POST", "/api/v3/order") == 1
    assert [e.fill.quantity for e in _of(events, OrderFilled)] == [Decimal("0.01")]  # type: ignore[attr-defined]
    assert venue.unknown_outcomes() == []


def test_a_send_that_never_reached_the_book_is_declared_absent_only_after_the_rule(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    server.faults.append(Fault("POST", "/api/v3/order", "timeout_never_placed",
                               delay_s=TIMED_OUT_S))
    order = child()
    sent = clock.now()
    with pytest.raises(OrderStatusUnknown):
        venue.submit(order, sent)
    rule = venue.control.absence

    early = _poll_until(venue, clock, lambda ev: (clock.now() - sent).total_seconds()
                        >= rule.after_s - 2, step_s=2.0)
    late = _poll_until(venue, clock, lambda ev: bool(_of(ev, OrderRejected)), step_s=5.0)

    assert not _of(early, OrderRejected)
    rejected = _of(late, OrderRejected)
    assert [e.client_order_id for e in rejected] == [order.client_order_id]
    assert "never placed" in rejected[0].reason  # type: ignore[attr-defined]
    assert server.count("GET", "/api/v3/order") >= rule.min_misses
    assert server.count("POST", "/api/v3/order") == 1
    assert venue.open_order_ids() == []


@pytest.mark.parametrize("kind", ["500_then_place", "-1007_then_place"])
def test_an_order_of_unknown_outcome_is_canceled_by_client_id_once_it_appears(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, kind: str
) -> None:
    server.faults.append(Fault("POST", "/api/v3/order", kind, place_after_s=0.5))
    order = child()
    with pytest.raises(OrderStatusUnknown):
        venue.submit(order, clock.now())

    venue.cancel_all(clock.now())  # the kill switch, before the order is even visible
    events = _poll_until(venue, clock, lambda ev: bool(_of(ev, OrderCanceled)), step_s=0.5)

    assert [o["status"] for o in server.orders.values()] == ["CANCELED"]
    deletes = [p for m, path, p in server.requests if m == "DELETE" and path == "/api/v3/order"]
    assert deletes and deletes[-1]["origClientOrderId"] == order.client_order_id
    assert [e.client_order_id for e in _of(events, OrderCanceled)] == [order.client_order_id]
    assert venue.unconfirmed_cancels() == [] and venue.open_order_ids() == []


# -- cancels that finish ---------------------------------------------------------------------

@pytest.mark.parametrize("fault", [
    Fault("DELETE", "/api/v3/order", "500"),
    Fault("DELETE", "/api/v3/order", "429", retry_after=5),
    Fault("DELETE", "/api/v3/order", "cancel_500_after_cancel"),
])
def test_a_failed_cancel_is_retried_until_binance_confirms_it(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, fault: Fault
) -> None:
    order = child()
    venue.submit(order, clock.now())
    venue.poll(clock.now())
    server.faults.append(fault)

    venue.cancel(order.client_order_id, clock.now())  # fails once; never raises
    pending = venue.unconfirmed_cancels()
    events = _poll_until(venue, clock, lambda ev: bool(_of(ev, OrderCanceled)))

    assert pending == [order.client_order_id]
    assert [o["status"] for o in server.orders.values()] == ["CANCELED"]
    assert venue.unconfirmed_cancels() == []
    assert len(_of(events, OrderCanceled)) == 1


def test_a_refused_cancel_is_not_taken_for_a_closed_order(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    # -2011 "This account may not place or cancel orders." is a refused cancel, not "not open"
    order = child()
    venue.submit(order, clock.now())
    server.can_trade = False

    venue.cancel(order.client_order_id, clock.now())
    for _ in range(3):
        clock.advance(timedelta(seconds=2))
        venue.poll(clock.now())
    still = venue.open_order_ids()
    server.can_trade = True
    events = _poll_until(venue, clock, lambda ev: bool(_of(ev, OrderCanceled)), step_s=30.0)

    assert still == [order.client_order_id]
    assert [o["status"] for o in server.orders.values()] == ["CANCELED"]
    assert len(_of(events, OrderCanceled)) == 1


def test_the_kill_switch_cancels_all_per_symbol_then_verifies_with_open_orders(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    orders = [child(), child(), child(symbol="ETHUSDT", price="2900.00", qty="0.1")]
    for order in orders:
        venue.submit(order, clock.now())

    asked = venue.cancel_all(clock.now())

    assert sorted(asked) == sorted(o.client_order_id for o in orders)
    assert server.count("DELETE", "/api/v3/openOrders") == 2
    assert server.count("GET", "/api/v3/openOrders") >= 2  # verified per symbol
    assert all(o["status"] == "CANCELED" for o in server.orders.values())
    assert venue.unconfirmed_cancels() == [] and venue.open_order_ids() == []


# -- error semantics -------------------------------------------------------------------------

def _api_error(status: int, code: int, msg: str) -> BinanceAPIException:
    text = f'{{"code": {code}, "msg": "{msg}"}}'
    return BinanceAPIException(SimpleNamespace(status_code=status, headers={}, text=text),
                               status, text)


@pytest.mark.parametrize("code", [-1000, -1001, -1006, -1007])
def test_unknown_error_codes_on_placement_are_unknown_outcomes(code: int) -> None:
    error = translate_exception(_api_error(400, code, "An unknown error occurred"), placing=True)
    assert isinstance(error, OrderStatusUnknown)


def test_minus_2011_is_split_by_its_message() -> None:
    not_open = translate_exception(_api_error(400, -2011, "Unknown order sent."))
    refused = translate_exception(_api_error(400, -2011,
                                             "This account may not place or cancel orders."))
    assert is_not_open(not_open) and not is_not_open(refused)


def test_a_housekeeping_rejection_never_escapes_poll(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = child()
    venue.submit(order, clock.now())

    def invalid_symbol() -> None:
        raise VenueRejected("Invalid symbol.", code=-1121)

    monkeypatch.setattr(venue, "refresh_exchange_info", invalid_symbol)
    venue._next_info_refresh = 0.0  # due now
    events = venue.poll(clock.now())  # must not raise

    assert [type(e) for e in events] == [OrderAccepted]
    assert "-1121" in venue.last_problem
