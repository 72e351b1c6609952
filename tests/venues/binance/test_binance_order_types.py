"""Order types and time in force as Binance treats them: IOC, LIMIT_MAKER, marketable limits."""

from __future__ import annotations

from decimal import Decimal

from binance_helpers import child
from fake_binance_server import FakeBinance

from oms.clock import TestClock
from oms.model.enums import Liquidity, OrderType, TimeInForce
from oms.venues.binance import BinanceVenue
from oms.venues.events import OrderAccepted, OrderExpired, OrderFilled, OrderRejected


def test_ioc_limit_that_cannot_fill_expires(venue: BinanceVenue, server: FakeBinance,
                                            clock: TestClock) -> None:
    order = child(price="49000.00", tif=TimeInForce.IOC)

    venue.submit(order, clock.now())
    events = venue.poll(clock.now())

    assert [type(e) for e in events] == [OrderAccepted, OrderExpired]
    assert server.requests[-1][2]["timeInForce"] == "IOC"
    assert venue.open_order_ids() == []


def test_limit_maker_that_would_cross_is_rejected_by_binance(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    order = child(order_type=OrderType.LIMIT_MAKER, price="50000.10")

    venue.submit(order, clock.now())
    events = venue.poll(clock.now())

    assert isinstance(events[0], OrderRejected) and events[0].code == -2010
    assert "timeInForce" not in server.requests[-1][2]
    assert venue.open_order_ids() == []


def test_marketable_limit_fills_as_taker_with_fee_in_quote(
    venue: BinanceVenue, clock: TestClock
) -> None:
    order = child(price="50001.00", qty="0.002")

    venue.submit(order, clock.now())
    fill = next(e for e in venue.poll(clock.now()) if isinstance(e, OrderFilled)).fill

    assert (fill.price, fill.quantity, fill.liquidity) == (
        Decimal("50000.10"), Decimal("0.002"), Liquidity.TAKER)
    assert fill.fee == Decimal("0.1000002")  # 0.1% of 100.0002 USDT
    assert fill.submitted_at == clock.now()
    assert fill.venue == "binance-testnet" and fill.fill_id.startswith("BTCUSDT-")
