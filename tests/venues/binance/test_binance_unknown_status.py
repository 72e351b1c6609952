"""After a timeout / 5xx / -1007 on an order request the venue queries before any resend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from binance_helpers import TIMED_OUT_S, child
from fake_binance_server import FakeBinance, Fault

from oms.clock import TestClock
from oms.errors import OrderStatusUnknown
from oms.venues.binance import BinanceVenue
from oms.venues.events import OrderAccepted, OrderRejected


@pytest.mark.parametrize("kind", ["timeout_after_accept", "503_after_accept", "-1007_after_accept"])
def test_accepted_order_with_unknown_status_is_found_not_resent(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, kind: str
) -> None:
    server.faults.append(Fault("POST", "/api/v3/order", kind, delay_s=TIMED_OUT_S))
    order = child()

    venue.submit(order, clock.now())  # resolved by query: no exception
    venue.submit(order, clock.now())  # the engine retrying must not double the order
    events = venue.poll(clock.now())

    assert server.count("POST", "/api/v3/order") == 1
    assert server.count("GET", "/api/v3/order") >= 1
    assert next(e for e in events if isinstance(e, OrderAccepted)).client_order_id == \
        order.client_order_id
    assert len([o for o in server.orders.values()
                if o["clientOrderId"] == order.client_order_id]) == 1


def test_order_lost_before_the_venue_is_never_resent_and_ends_once_provably_absent(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    server.faults.append(Fault("POST", "/api/v3/order", "500"))
    order = child()

    with pytest.raises(OrderStatusUnknown):
        venue.submit(order, clock.now())
    with pytest.raises(OrderStatusUnknown):
        venue.submit(order, clock.now())  # the engine retrying: cannot be sure, not resent
    rejected: list[OrderRejected] = []
    for _ in range(20):  # recvWindow + request timeout + the visibility allowance, 3 queries
        clock.advance(timedelta(seconds=5))
        rejected += [e for e in venue.poll(clock.now()) if isinstance(e, OrderRejected)]
    venue.submit(order, clock.now())  # a client order id goes out once

    assert server.count("POST", "/api/v3/order") == 1
    assert [e.client_order_id for e in rejected] == [order.client_order_id]
    assert server.orders == {} and venue.open_order_ids() == []


def test_query_reports_venue_state(venue: BinanceVenue, clock: TestClock) -> None:
    order = child()
    venue.submit(order, clock.now())

    report = venue.query(order.client_order_id)
    missing = venue.query("never-sent")

    assert report is not None and report.state.value == "NEW"
    assert missing is None
