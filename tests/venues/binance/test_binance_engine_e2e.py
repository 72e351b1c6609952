"""The real engine trading through BinanceVenue + BinanceMarketData over loopback."""

from __future__ import annotations

import time
from pathlib import Path

from binance_helpers import live_oms
from fake_binance_server import FakeBinance, Fault


def test_engine_trades_and_kill_switch_cancels_on_binance(server: FakeBinance,
                                                           tmp_path: Path) -> None:
    oms, venue = live_oms(server, tmp_path / "oms.db")
    try:
        oms.engine.tick()
        oms.service.submit_order("BTCUSDT", "BUY", "0.01", algo="market", wait=False)
        oms.service.submit_order("ETHUSDT", "BUY", "1.0", algo="iceberg", duration_minutes=10,
                                 wait=False)
        for _ in range(50):
            oms.engine.tick()
            if venue.open_order_ids("ETHUSDT") and oms.service.fills():
                break
        resting = venue.open_order_ids("ETHUSDT")
        oms.service.kill("test", wait=False)
        for _ in range(3):
            oms.engine.tick()
        fills = oms.service.fills()
    finally:
        oms.close()

    assert len(fills) >= 1 and server.count("POST", "/api/v3/order") >= 2
    assert resting and venue.open_order_ids() == []
    assert all(o["status"] in ("FILLED", "CANCELED") for o in server.orders.values())
    assert oms.gate.is_halted


def test_a_restart_follows_orders_still_working_at_binance(server: FakeBinance,
                                                           tmp_path: Path) -> None:
    oms, venue = live_oms(server, tmp_path / "oms.db")
    try:
        oms.engine.tick()
        oms.service.submit_order("ETHUSDT", "BUY", "1.0", algo="iceberg", duration_minutes=10,
                                 wait=False)
        for _ in range(50):
            oms.engine.tick()
            if venue.open_order_ids("ETHUSDT"):
                break
        resting = venue.open_order_ids("ETHUSDT")
    finally:
        oms.close()  # the process "crashes" with an order resting at Binance
    assert len(resting) == 1

    restarted, _ = live_oms(server, tmp_path / "oms.db")
    try:
        restarted.engine.start()
        assert set(restarted.engine.open_children) == set(resting)  # followed, not canceled
        assert server.orders and all(o["status"] == "NEW" for o in server.orders.values())
        child = restarted.engine.open_children[resting[0]]
        server.fill(resting[0], child.quantity, symbol="ETHUSDT")
        for _ in range(50):
            restarted.engine.tick()
            if resting[0] not in restarted.engine.open_children:
                break
        restarted.engine.tick()
        parents = restarted.service.parent_orders().rows
        fills = restarted.service.fills()
        shown = set(restarted.engine.open_children)
    finally:
        restarted.close()
    assert [f.client_order_id for f in fills] == resting
    assert parents[0]["filled_quantity"] == child.quantity
    # the iceberg was rebuilt (OMS_RECOVERY=resume): it goes on showing the next display
    assert parents[0]["state"] == "WORKING" and parents[0]["resumes"] == 1
    assert shown and resting[0] not in shown


def test_the_kill_switch_cancels_an_order_whose_send_outcome_was_unknown(
        server: FakeBinance, tmp_path: Path) -> None:
    # a 500 on POST, and Binance places the order anyway a moment later: the child stays live
    # (it may exist), the kill cancels it by client order id once it is visible
    server.faults.append(Fault("POST", "/api/v3/order", "500_then_place", place_after_s=1.5))
    oms, _ = live_oms(server, tmp_path / "oms.db")
    try:
        oms.engine.tick()
        oms.service.submit_order("ETHUSDT", "BUY", "1.0", algo="iceberg", duration_minutes=10,
                                 wait=False)
        for _ in range(50):
            oms.engine.tick()
            if oms.engine.open_children:
                break
        (cid, sent), = oms.engine.open_children.items()
        unknown = (sent.state.value, sent.sent_at is not None, list(server.orders))
        oms.service.kill("drill", wait=False)
        deadline = time.monotonic() + 10
        while oms.engine.open_children or any(o["status"] == "NEW"
                                              for o in server.orders.values()):
            assert time.monotonic() < deadline, (oms.engine.open_children, server.orders)
            oms.engine.tick()
            time.sleep(0.05)
        child = oms.service.child_orders(parent_id=sent.parent_id).rows[0]
    finally:
        oms.close()

    assert unknown == ("PENDING_NEW", True, [])  # sent, outcome unknown, not at Binance yet
    assert [o["status"] for o in server.orders.values()] == ["CANCELED"]
    deletes = [p.get("origClientOrderId") for m, path, p in server.requests
               if m == "DELETE" and path == "/api/v3/order"]
    assert cid in deletes
    assert child["state"] == "CANCELED"
