"""Commission in any asset on the Binance venue: BNB valued at its price at the fill time (feed,
klines, ticker, last price; cached), the base asset kept out of the position, an unpriced fee
marked instead of booked as 0 silently; the engine's P&L, positions and restart agree."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from binance_helpers import START, child, live_oms
from fake_binance_server import FakeBinance

from oms.bootstrap import Oms
from oms.clock import TestClock
from oms.errors import VenueUnavailable
from oms.market.types import Quote
from oms.model.orders import FeePaidIn, Fill
from oms.venues.binance import BinanceVenue
from oms.venues.binance_fees import FeeValuer
from oms.venues.binance_orders import OrderTracker, OrderUpdate, TradeUpdate
from oms.venues.events import OrderFilled

D = Decimal
BNB_BOOK = (D("600.00"), D("600.20"))  # mid 600.10


def _fills(events: Sequence[object]) -> list[Fill]:
    return [e.fill for e in events if isinstance(e, OrderFilled)]


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _report(server: FakeBinance, cid: str, qty: str, *, commission: str, asset: str,
            ts: datetime) -> dict[str, Any]:
    """The server's execution report of a fill of ``cid``, paying ``commission`` in ``asset``."""
    server.fill(cid, D(qty))
    msg = dict(server.execution_reports[-1])
    msg.update({"n": commission, "N": asset, "T": _ms(ts), "E": _ms(ts)})
    return msg


@pytest.fixture
def valued(venue: BinanceVenue, server: FakeBinance, clock: TestClock) -> BinanceVenue:
    """The venue with its fee valuer, as binance.py wires it, and a BNBUSDT book at the server."""
    server.books["BNBUSDT"] = BNB_BOOK
    venue.tracker.value_fee = FeeValuer(venue.rest.call, venue.market, clock=clock)
    return venue


# -- the venue ----------------------------------------------------------------------------------


def test_a_bnb_commission_is_valued_at_the_bnb_price_and_the_price_is_recorded(
        valued: BinanceVenue, server: FakeBinance, clock: TestClock) -> None:
    # Arrange: a resting buy of 0.02 BTC at 49,000; two fills in one minute, fees in BNB
    order = child(qty="0.02")
    valued.submit(order, clock.now())
    first = _report(server, order.client_order_id, "0.01", commission="0.0005", asset="BNB",
                    ts=clock.now())
    second = _report(server, order.client_order_id, "0.01", commission="0.0004", asset="BNB",
                     ts=clock.now() + timedelta(seconds=20))

    # Act
    valued.stream.on_message(first)
    valued.stream.on_message(second)
    fills = _fills(valued.poll(clock.now()))

    # Assert: BNB at the kline price of the fill's minute (the server's BNBUSDT mid), not 0
    assert [f.fee for f in fills] == [D("0.0005") * D("600.10"), D("0.0004") * D("600.10")]
    assert all(f.fee_asset == "BNB" and f.fee_paid_in is FeePaidIn.OTHER for f in fills)
    assert [f.fee_quantity for f in fills] == [D("0.0005"), D("0.0004")]
    assert all(f.fee_price == D("600.10") and f.fee_valued for f in fills)
    assert server.count("GET", "/api/v3/klines") == 1  # the second fill read the cache


def test_a_base_asset_commission_is_recorded_in_the_base_asset(
        valued: BinanceVenue, server: FakeBinance, clock: TestClock) -> None:
    order = child(qty="0.01")
    valued.submit(order, clock.now())
    valued.stream.on_message(_report(server, order.client_order_id, "0.01",
                                     commission="0.00001", asset="BTC", ts=clock.now()))

    (fill,) = _fills(valued.poll(clock.now()))

    assert fill.fee_paid_in is FeePaidIn.BASE and fill.base_fee == D("0.00001")
    assert fill.fee_asset == "BTC" and fill.fee_price == D("49000.00")
    assert fill.fee == D("0.00001") * D("49000.00")
    assert fill.quantity == D("0.01")  # the order executed its gross quantity


def test_a_quote_commission_keeps_its_record(valued: BinanceVenue, server: FakeBinance,
                                             clock: TestClock) -> None:
    order = child(qty="0.01")
    valued.submit(order, clock.now())
    valued.stream.on_message(_report(server, order.client_order_id, "0.01", commission="0.49",
                                     asset="USDT", ts=clock.now()))

    (fill,) = _fills(valued.poll(clock.now()))

    assert (fill.fee, fill.fee_asset, fill.fee_quantity, fill.fee_price, fill.fee_paid_in) == (
        D("0.49"), "USDT", D("0.49"), D(1), FeePaidIn.QUOTE)


def test_an_unpriced_bnb_commission_is_marked_and_logged_not_booked_silently(
        venue: BinanceVenue, server: FakeBinance, clock: TestClock,
        caplog: pytest.LogCaptureFixture) -> None:
    # Arrange: Binance answers no price request, there is no feed, no price was seen before
    venue.tracker.value_fee = FeeValuer(_Rest(), None, clock=clock)
    order = child(qty="0.01")
    venue.submit(order, clock.now())
    msg = _report(server, order.client_order_id, "0.01", commission="0.0005", asset="BNB",
                  ts=clock.now() - timedelta(hours=1))

    # Act
    with caplog.at_level(logging.ERROR):
        venue.stream.on_message(msg)
        (fill,) = _fills(venue.poll(clock.now()))

    # Assert
    assert fill.fee == 0 and fill.fee_price is None and not fill.fee_valued
    assert fill.fee_asset == "BNB" and fill.fee_quantity == D("0.0005")
    assert any("BNB" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


# -- the valuer -----------------------------------------------------------------------------------


class _Rest:
    """A ``rest_call`` twin: answers from ``replies`` by method (an exception is raised)."""

    def __init__(self, **replies: Any) -> None:
        self.replies = replies
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, method: str, **params: Any) -> Any:
        self.calls.append((method, params))
        reply = self.replies.get(method, VenueUnavailable(f"{method}: down"))
        if isinstance(reply, Exception):
            raise reply
        return reply


class _Feed:
    """A market feed quoting BNBUSDT only."""

    symbols = ("BNBUSDT",)

    def __init__(self, clock: TestClock) -> None:
        self.clock = clock

    def quote(self, symbol: str) -> Quote:
        if symbol != "BNBUSDT":
            raise KeyError(symbol)
        return Quote(symbol, self.clock.now(), D("599"), D("601"), D(1), D(1))


def _kline(open_time: datetime, close: str) -> list[Any]:
    return [_ms(open_time), close, close, close, close, "1", _ms(open_time) + 59_999]


def test_the_feed_prices_a_recent_fill_without_a_request() -> None:
    clock = TestClock(START)
    rest = _Rest()
    valuer = FeeValuer(rest, _Feed(clock), clock=clock)  # type: ignore[arg-type]

    assert valuer("BNB", D("0.001"), "USDT", START - timedelta(seconds=3)) == D("0.600")
    assert rest.calls == []


def test_an_old_fill_is_priced_by_the_kline_of_its_minute() -> None:
    clock = TestClock(START)
    fill_ts = START - timedelta(hours=2, seconds=-17)  # 10:00:17
    minute = fill_ts.replace(second=0)
    rest = _Rest(get_klines=[_kline(minute, "580.5")])
    valuer = FeeValuer(rest, _Feed(clock), clock=clock)  # type: ignore[arg-type]

    assert valuer.price("BNB", "USDT", fill_ts) == D("580.5")
    (method, params), = rest.calls
    assert method == "get_klines" and params["symbol"] == "BNBUSDT"
    assert params["startTime"] == _ms(minute) and params["interval"] == "1m"


def test_the_ticker_prices_a_recent_fill_when_klines_fail() -> None:
    clock = TestClock(START)
    rest = _Rest(get_symbol_ticker={"symbol": "BNBUSDT", "price": "612.3"})

    recent = FeeValuer(rest, None, clock=clock).price("BNB", "USDT", START - timedelta(seconds=5))
    old = FeeValuer(rest, None, clock=clock).price("BNB", "USDT", START - timedelta(hours=1))

    assert recent == D("612.3")
    assert old is None  # the ticker is now: too late for an hour-old fill


def test_without_any_source_the_last_price_found_is_used() -> None:
    clock = TestClock(START)
    rest = _Rest(get_klines=[_kline(START, "590")])
    valuer = FeeValuer(rest, None, clock=clock, cache_s=30)
    assert valuer.price("BNB", "USDT", START) == D("590")
    rest.replies.clear()  # Binance stops answering
    clock.advance(timedelta(minutes=3))

    assert valuer.price("BNB", "USDT", clock.now()) == D("590")


def test_the_cache_is_brief() -> None:
    clock = TestClock(START)
    rest = _Rest(get_klines=[_kline(START, "590")])
    valuer = FeeValuer(rest, None, clock=clock, cache_s=30)

    valuer.price("BNB", "USDT", START)
    valuer.price("BNB", "USDT", START + timedelta(seconds=10))
    clock.advance(timedelta(seconds=31))
    valuer.price("BNB", "USDT", START + timedelta(seconds=10))

    assert len(rest.calls) == 2


def test_a_tracker_without_a_valuer_marks_the_fee_unvalued(
        caplog: pytest.LogCaptureFixture) -> None:
    tracker = OrderTracker("binance-testnet", {"BTCUSDT": ("BTC", "USDT")})
    order = child(qty="0.01")
    tracker.track(order)
    trade = TradeUpdate("BTCUSDT", 7, D("49000"), D("0.01"), D("0.0005"), "BNB", False, START)
    update = OrderUpdate(order.client_order_id, "BTCUSDT", "1", "FILLED", D("0.01"), D("490"),
                         START, trades=(trade,))

    with caplog.at_level(logging.ERROR):
        (fill,) = _fills(tracker.apply(update))

    assert fill.fee == 0 and not fill.fee_valued
    assert caplog.records and caplog.records[-1].levelno == logging.ERROR


# -- the engine: P&L, positions, restart ----------------------------------------------------------


def _tick_until(oms: Oms, check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        oms.engine.tick()
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def _commission(server: FakeBinance, amount: str, asset: str) -> None:
    """The last trade at the server paid ``amount`` of ``asset`` (REST shows it so)."""
    server.trades[-1].update({"commission": amount, "commissionAsset": asset})


def test_the_engine_books_base_and_bnb_fees_and_a_restart_rebuilds_the_same_account(
        server: FakeBinance, tmp_path: Path) -> None:
    # Arrange: a resting ETH buy at Binance (the iceberg's first display)
    server.books["BNBUSDT"] = BNB_BOOK
    oms, venue = live_oms(server, tmp_path / "oms.db")
    try:
        _tick_until(oms, lambda: True)
        oms.service.submit_order("ETHUSDT", "BUY", "1.0", algo="iceberg",
                                 duration_minutes=10, wait=False)
        _tick_until(oms, lambda: bool(venue.open_order_ids("ETHUSDT")))
        (cid,) = venue.open_order_ids("ETHUSDT")
        start_pnl, start_cash = oms.engine.risk.daily_pnl(), oms.engine.account.cash

        # Act: the display (0.1) fills in two halves, one paying its fee in ETH, one in BNB
        server.fill(cid, D("0.05"), D("3000.00"), symbol="ETHUSDT")
        _commission(server, "0.0001", "ETH")
        server.fill(cid, D("0.05"), D("3000.00"), symbol="ETHUSDT")
        _commission(server, "0.0005", "BNB")
        _tick_until(oms, lambda: len(oms.service.fills()) == 2)
        account = oms.engine.account
        live = (account.position("ETHUSDT").quantity, account.position("ETHUSDT").avg_cost,
                account.cash, account.fees_paid, dict(account.other_asset_fees),
                account.other_asset_fee_value)
        mid = oms.engine.mid("ETHUSDT")
        pnl = oms.engine.risk.daily_pnl()
        parent_filled = oms.service.parent_orders().rows[0]["filled_quantity"]
    finally:
        oms.close()

    # Assert: the position holds what the wallet received; cash paid the notional only; the
    # BNB fee is a cost in the daily P&L; the child executed its gross quantity
    bnb_fee = D("0.0005") * D("600.10")
    assert live[0] == D("0.0999")
    assert live[2] == start_cash - D("300.00")
    assert live[3] == D("0.0001") * D("3000.00") + bnb_fee
    assert live[4] == {"BNB": D("0.0005")} and live[5] == bnb_fee
    assert parent_filled == D("0.1")
    assert mid is not None
    assert pnl - start_pnl == D("0.0999") * mid - D("300.00") - bnb_fee

    # Act: restart on the same database: the account is rebuilt from the stored fills
    restarted, _ = live_oms(server, tmp_path / "oms.db")
    try:
        restarted.engine.start()
        again = restarted.engine.account
        rebuilt = (again.position("ETHUSDT").quantity, again.position("ETHUSDT").avg_cost,
                   again.cash, again.fees_paid, dict(again.other_asset_fees),
                   again.other_asset_fee_value)
        stored = {f.fill_id: f for f in restarted.service.repository.load_fills()}
    finally:
        restarted.close()

    assert rebuilt == live
    assert {f.fee_paid_in for f in stored.values()} == {FeePaidIn.BASE, FeePaidIn.OTHER}
    assert {f.fee_price for f in stored.values()} == {D("3000.00"), D("600.10")}
    assert all(f.ts.tzinfo is UTC or f.ts.utcoffset() == timedelta(0) for f in stored.values())
