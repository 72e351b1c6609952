"""Exchange filters from exchangeInfo; orders that cannot pass are not sent; rounding is safe."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from binance_helpers import child
from fake_binance_server import FakeBinance
from hypothesis import given
from hypothesis import strategies as st

from oms.clock import TestClock
from oms.model.enums import OrderType, Side
from oms.venues.binance import BinanceVenue
from oms.venues.events import OrderRejected
from oms.venues.filters import SymbolFilters


def test_filters_come_from_exchange_info(venue: BinanceVenue) -> None:
    flt = venue.filters("ETHUSDT")

    assert (flt.tick_size, flt.step_size) == (Decimal("0.01"), Decimal("0.00001"))
    assert (flt.min_notional, flt.max_notional) == (Decimal("5.00"), Decimal("9000000.00"))
    assert (flt.apply_min_to_market, flt.apply_max_to_market, flt.max_num_orders) == (
        True, False, 200)
    assert flt.price_band(Side.BUY) == flt.price_band(Side.SELL) == (Decimal("0.2"), Decimal("5"))
    assert flt.base_asset == "ETH"
    assert flt.status == "TRADING" and flt.tradable()


@pytest.mark.parametrize(("qty", "price", "why"), [
    ("0.000015", "49000.00", "LOT_SIZE"),  # off the step
    ("0.0001", "49000.00", "NOTIONAL"),  # 4.9 USDT < 5
    ("0.01", "49000.005", "PRICE_FILTER"),  # off the tick
    ("0.01", "300000.00", "PERCENT_PRICE"),  # > 5x the reference
])
def test_orders_failing_filters_are_not_sent(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, qty: str, price: str, why: str
) -> None:
    venue.submit(child(qty=qty, price=price), clock.now())

    events = venue.poll(clock.now())

    assert server.count("POST", "/api/v3/order") == 0
    assert isinstance(events[0], OrderRejected) and why in events[0].reason
    assert events[0].code == -1013


def test_max_num_orders_is_enforced_locally(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    venue._filters["BTCUSDT"] = SymbolFilters("BTCUSDT", max_num_orders=2)
    for _ in range(3):
        venue.submit(child(), clock.now())

    events = venue.poll(clock.now())

    assert server.count("POST", "/api/v3/order") == 2
    assert [e.reason for e in events if isinstance(e, OrderRejected)] == [
        "Filter failure: MAX_NUM_ORDERS"]


def test_exchange_info_is_refreshed(venue: BinanceVenue, server: FakeBinance,
                                    clock: TestClock) -> None:
    clock.advance(timedelta(seconds=3601))

    venue.poll(clock.now())

    assert server.count("GET", "/api/v3/exchangeInfo") == 2


def test_a_refresh_that_reports_a_break_stops_orders_locally(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    server.set_status("BTCUSDT", "BREAK")
    clock.advance(timedelta(seconds=3601))
    venue.poll(clock.now())
    venue.submit(child(), clock.now())

    events = venue.poll(clock.now())

    assert venue.filters("BTCUSDT").status == "BREAK" and not venue.filters("BTCUSDT").tradable()
    assert venue.filters("ETHUSDT").tradable()
    assert server.count("POST", "/api/v3/order") == 0
    rejected = [e for e in events if isinstance(e, OrderRejected)]
    assert [(e.code, e.reason) for e in rejected] == [(-1013, "Market is closed.")]


def test_market_order_notional_is_checked_on_the_book_mid(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    venue.submit(child(order_type=OrderType.MARKET, price=None, qty="0.00005"), clock.now())
    venue.submit(child(order_type=OrderType.MARKET, price=None, qty="0.001"), clock.now())

    events = venue.poll(clock.now())

    assert server.count("POST", "/api/v3/order") == 1  # 2.5 USDT is under the 5 USDT minimum
    assert isinstance(events[0], OrderRejected) and "NOTIONAL" in events[0].reason


@given(qty=st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("100"), places=8),
       price=st.decimals(min_value=Decimal("1"), max_value=Decimal("100000"), places=4),
       side=st.sampled_from([Side.BUY, Side.SELL]))
def test_rounding_never_goes_past_the_request(qty: Decimal, price: Decimal, side: Side) -> None:
    flt = SymbolFilters("BTCUSDT", tick_size=Decimal("0.01"), step_size=Decimal("0.00001"))

    rounded_qty = flt.round_quantity(qty)
    rounded_price = flt.round_price(price, side)

    assert rounded_qty <= qty and rounded_qty % flt.step_size == 0
    assert qty - rounded_qty < flt.step_size
    assert (rounded_price <= price) if side is Side.BUY else (rounded_price >= price)
    assert rounded_price % flt.tick_size == 0
