"""Binance market data: stream messages -> Quote/Trade/Bar; REST fallback over loopback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from binance.client import Client
from binance_helpers import START
from fake_binance_server import FakeBinance, Fault

from oms.clock import TestClock
from oms.errors import MarketClosed
from oms.market.binance_feed import BinanceMarketData
from oms.model.enums import Side
from oms.venues.binance_factory import point_client_at
from oms.venues.binance_limits import RateLimit, RateLimiter, VenueStatus


class FeedTransport:
    """Records the subscription; the test pushes messages through ``callback``."""

    def __init__(self) -> None:
        self.callback: Callable[[dict[str, Any]], None] | None = None
        self.streams: list[str] = []

    def start(self, callback: Callable[[dict[str, Any]], None], streams: list[str]) -> None:
        self.callback, self.streams = callback, streams

    def stop(self) -> None:
        self.callback = None

    def push(self, stream: str, data: dict[str, Any]) -> None:
        assert self.callback is not None
        self.callback({"stream": stream, "data": data})


def make_feed(server: FakeBinance, clock: TestClock,
              transport: FeedTransport | None = None) -> BinanceMarketData:
    client = Client(None, None, ping=False, requests_params={"timeout": 2})
    point_client_at(client, server.url)
    feed = BinanceMarketData(client, ["BTCUSDT"], clock=clock, transport=transport)
    feed.start()
    return feed


def ms(offset_s: float) -> int:
    return int((START.timestamp() + offset_s) * 1000)


def test_stream_messages_feed_quotes_trades_and_closed_bars(
    server: FakeBinance, clock: TestClock
) -> None:
    transport = FeedTransport()
    feed = make_feed(server, clock, transport)
    transport.push("btcusdt@bookTicker", {"u": 1, "s": "BTCUSDT", "b": "60000.10", "B": "1.2",
                                          "a": "60000.20", "A": "0.8"})
    transport.push("btcusdt@trade", {"e": "trade", "E": ms(-30), "s": "BTCUSDT", "t": 7,
                                     "p": "60000.10", "q": "0.5", "T": ms(-30), "m": True})
    for closed in (True, False):
        transport.push("btcusdt@kline_1m", {"e": "kline", "E": ms(-1), "s": "BTCUSDT", "k": {
            "t": ms(-60 if closed else 0), "T": ms(-1), "s": "BTCUSDT", "i": "1m",
            "o": "59990", "c": "60000", "h": "60010", "l": "59980", "v": "12.5", "n": 99,
            "x": closed, "q": "750000"}})

    feed.advance_to(clock.now())
    quote = feed.quote("BTCUSDT")
    bars = feed.bars("BTCUSDT", START - timedelta(minutes=1), START)

    assert "btcusdt@bookTicker" in transport.streams and "btcusdt@kline_1m" in transport.streams
    assert (quote.bid, quote.ask, quote.bid_size) == (Decimal("60000.10"), Decimal("60000.20"),
                                                      Decimal("1.2"))
    assert [b.close for b in bars] == [60000.0]  # the open bar is not reported
    assert server.count("GET", "/api/v3/ticker/bookTicker") == 0  # stream fresh: no REST
    assert feed._trades["BTCUSDT"][0].aggressor is Side.SELL


def test_rest_fallback_when_stream_is_quiet(server: FakeBinance, clock: TestClock) -> None:
    feed = make_feed(server, clock)  # no stream at all

    feed.advance_to(clock.now())
    quote = feed.quote("BTCUSDT")
    bars = feed.bars("BTCUSDT", START - timedelta(minutes=3), START)
    book = feed.book("BTCUSDT", depth=5)
    volume = feed.traded_volume("BTCUSDT", START - timedelta(minutes=3), START)

    assert quote.mid == Decimal("50000.05")
    assert [b.open_time for b in bars] == [START - timedelta(minutes=m) for m in (3, 2, 1)]
    assert book.bids[0].price == Decimal("50000.00")
    assert volume == Decimal("30.0")


def test_no_price_means_market_closed(server: FakeBinance, clock: TestClock) -> None:
    feed = make_feed(server, clock)
    server.stop()  # REST down too

    feed.advance_to(clock.now())

    with pytest.raises(MarketClosed):
        feed.quote("BTCUSDT")


def test_rest_fallback_waits_out_a_429_and_serves_what_it_holds(
    server: FakeBinance, clock: TestClock
) -> None:
    feed = make_feed(server, clock)  # no stream: REST bookTicker whenever the quote is stale
    feed.advance_to(clock.now())
    # Binance answers 429 to everything until the Retry-After has passed
    server.faults += [Fault("GET", "/api/v3/ticker/bookTicker", "429", retry_after=30)
                      for _ in range(20)]
    clock.advance(timedelta(seconds=11))
    feed.advance_to(clock.now())  # stale: REST, answered 429: nothing more for 30 s

    served = []
    for _ in range(10):  # a REST try every second (rest_interval_s) without the limiter
        clock.advance(timedelta(seconds=1))
        feed.advance_to(clock.now())
        served.append(feed.is_open("BTCUSDT"))
    requests_during_back_off = server.count("GET", "/api/v3/ticker/bookTicker")
    status_during = feed.rest_status()
    clock.advance(timedelta(seconds=20))  # 30 s after the 429
    server.faults.clear()
    feed.advance_to(clock.now())

    assert requests_during_back_off == 2  # the first quote and the one answered 429
    assert status_during is VenueStatus.BACKING_OFF
    assert served[0] and not served[-1]  # the held quote, until it is too old to trade on
    assert server.count("GET", "/api/v3/ticker/bookTicker") == 3
    assert feed.quote("BTCUSDT").ts == clock.now()


def test_book_is_served_from_cache_while_backing_off(server: FakeBinance,
                                                     clock: TestClock) -> None:
    feed = make_feed(server, clock)
    held = feed.book("BTCUSDT", depth=5)
    feed.limiter.back_off(clock.now().timestamp(), 30)
    clock.advance(timedelta(seconds=5))
    feed.advance_to(clock.now())

    book = feed.book("BTCUSDT", depth=5)

    assert book is held
    assert server.count("GET", "/api/v3/depth") == 1


class _HeaderClient:
    """A python-binance client stand-in whose every answer carries usage headers."""

    def __init__(self, used_weight: int) -> None:
        self.response = SimpleNamespace(headers={"X-MBX-USED-WEIGHT-1M": str(used_weight)})
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get_orderbook_ticker(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("get_orderbook_ticker", params))
        return {"symbol": "BTCUSDT", "bidPrice": "100", "bidQty": "1", "askPrice": "101",
                "askQty": "1"}

    def get_order_book(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("get_order_book", params))
        return {"bids": [["100", "1"]], "asks": [["101", "1"]]}


def test_feed_reads_binance_usage_headers_into_the_limiter(clock: TestClock) -> None:
    limiter = RateLimiter(limits=[RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000)])
    feed = BinanceMarketData(_HeaderClient(used_weight=4321), ["BTCUSDT"], clock=clock,
                             limiter=limiter)

    feed.advance_to(clock.now())

    assert limiter.limits[0].used == 4321


def test_feed_requests_count_their_real_weight(clock: TestClock) -> None:
    limiter = RateLimiter(limits=[RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000)])
    client = _HeaderClient(used_weight=0)
    feed = BinanceMarketData(client, ["BTCUSDT"], clock=clock, limiter=limiter)

    feed.advance_to(clock.now())  # bookTicker with a symbol: 2
    feed.book("BTCUSDT", depth=500)  # depth limit 500: 25

    assert limiter.limits[0].used == 27
    assert client.calls[1] == ("get_order_book", {"symbol": "BTCUSDT", "limit": 500})
