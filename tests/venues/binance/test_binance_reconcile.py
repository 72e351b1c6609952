"""Reconcile at start: resume known open orders, report foreign ones, resolve the rest by query."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from binance_helpers import ENV, child, make_settings
from fake_binance_server import FakeBinance

from oms.clock import TestClock
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.binance_factory import build_binance_venue
from oms.venues.events import OrderFilled, OrderRejected


def test_reconcile_at_start(venue: BinanceVenue, server: FakeBinance, clock: TestClock) -> None:
    # Arrange: a first process placed three orders, then "crashed"
    resting, filled_while_down, never_placed = child(), child(qty="0.03"), child()
    long_gone = replace(child(), created_at=clock.now() - timedelta(hours=1))
    venue.submit(resting, clock.now())
    venue.submit(filled_while_down, clock.now())
    server.fill(filled_while_down.client_order_id, Decimal("0.03"))
    server.place_foreign("ETHUSDT", "SELL", "1.0", "3100.00", "manual-1")
    restarted = build_binance_venue(make_settings(server), HaltGate(), production_confirmed=False,
                                    clock=clock, env=ENV)
    known = {o.client_order_id: o for o in (resting, filled_while_down, never_placed,
                                            long_gone)}

    # Act
    result = restarted.reconcile(known)
    events = restarted.poll(clock.now())

    # Assert
    assert result.resumed == [resting.client_order_id]
    assert [f.client_order_id for f in result.foreign] == ["manual-1"]
    assert result.resolved[filled_while_down.client_order_id].state.value == "FILLED"
    # an order Binance does not show is declared never placed only when it is not recent (a
    # send just before the crash may not be visible yet): the recent one is resolved later
    assert result.not_found == [long_gone.client_order_id]
    assert result.unresolved == [never_placed.client_order_id]
    assert [e.fill.quantity for e in events if isinstance(e, OrderFilled)] == [Decimal("0.03")]
    assert [e.client_order_id for e in events if isinstance(e, OrderRejected)] == [
        long_gone.client_order_id]
    later: list[str] = []
    for _ in range(20):
        clock.advance(timedelta(seconds=5))
        later += [e.client_order_id for e in restarted.poll(clock.now())
                  if isinstance(e, OrderRejected)]
    assert later == [never_placed.client_order_id]
    assert restarted.open_order_ids() == [resting.client_order_id]
    assert server.count("DELETE", "/api/v3/order") == 0  # the foreign order was not touched
    assert any(o["clientOrderId"] == "manual-1" and o["status"] == "NEW"
               for o in server.orders.values())
