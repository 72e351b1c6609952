"""Smoke: the venue starts against the fake server and trades a market order."""

from __future__ import annotations

from binance_helpers import child
from fake_binance_server import FakeBinance

from oms.clock import TestClock
from oms.model.enums import OrderType
from oms.venues.binance import BinanceVenue
from oms.venues.events import OrderAccepted, OrderFilled


def test_market_order_is_accepted_and_filled(venue: BinanceVenue, server: FakeBinance,
                                             clock: TestClock) -> None:
    order = child(order_type=OrderType.MARKET, price=None)

    venue.submit(order, clock.now())
    events = venue.poll(clock.now())

    assert [type(e) for e in events] == [OrderAccepted, OrderFilled]
    assert server.count("POST", "/api/v3/order") == 1
