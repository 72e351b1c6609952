"""Cancel one, cancel-all per symbol, and the kill switch's loop over every symbol."""

from __future__ import annotations

from decimal import Decimal

from binance_helpers import child
from fake_binance_server import FakeBinance

from oms.clock import TestClock
from oms.model.enums import Side
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.events import OrderCanceled, OrderFilled


def test_cancel_all_per_symbol_leaves_other_symbols(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    btc = [child(), child()]
    eth = child(symbol="ETHUSDT", price="2900.00", qty="0.1")
    for order in [*btc, eth]:
        venue.submit(order, clock.now())

    asked = venue.cancel_all(clock.now(), "BTCUSDT")
    events = venue.poll(clock.now())

    assert sorted(asked) == sorted(o.client_order_id for o in btc)
    canceled = [e.client_order_id for e in events if isinstance(e, OrderCanceled)]
    assert sorted(canceled) == sorted(asked)
    assert venue.open_order_ids() == [eth.client_order_id]
    assert server.count("DELETE", "/api/v3/openOrders") == 1


def test_kill_switch_cancels_every_symbol_while_halted(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, gate: HaltGate
) -> None:
    orders = [child(), child(symbol="ETHUSDT", price="2900.00", qty="0.1", side=Side.BUY)]
    for order in orders:
        venue.submit(order, clock.now())
    gate.halt("kill switch")

    venue.cancel_all(clock.now())
    venue.poll(clock.now())

    assert venue.open_order_ids() == []
    assert all(o["status"] == "CANCELED" for o in server.orders.values())
    assert server.count("DELETE", "/api/v3/openOrders") == 2


def test_cancel_of_an_order_filled_meanwhile_reports_its_fill(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    order = child()
    venue.submit(order, clock.now())
    server.fill(order.client_order_id, Decimal("0.01"))

    venue.cancel(order.client_order_id, clock.now())
    events = venue.poll(clock.now())

    assert [type(e) for e in events if type(e).__name__ != "OrderAccepted"] == [OrderFilled]
    assert venue.open_order_ids() == []


def test_restarted_process_can_query_then_cancel_an_order_it_did_not_send(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, gate: HaltGate
) -> None:
    # the start-up recovery path: query(cid), then cancel(cid) on a fresh venue
    order = child(symbol="ETHUSDT", price="2900.00", qty="0.1")
    venue.submit(order, clock.now())
    fresh = BinanceVenue(gate, venue.rest.client, venue.settings, symbols=venue.symbols,
                         clock=clock)
    fresh.start()

    report = fresh.query(order.client_order_id)
    fresh.cancel(order.client_order_id, clock.now())

    assert report is not None and report.state.value == "NEW"
    assert next(iter(server.orders.values()))["status"] == "CANCELED"
