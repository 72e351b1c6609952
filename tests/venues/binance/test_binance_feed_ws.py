"""The market feed over a real loopback websocket, through python-binance's socket manager."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from binance import ThreadedWebsocketManager
from binance.async_client import AsyncClient
from binance.ws.streams import BinanceSocketManager
from fake_binance_server import FakeBinance
from fake_binance_ws import FakeBinanceStreams

from oms.clock import LiveClock
from oms.config import BinanceSettings, Settings
from oms.market.binance_feed import BinanceMarketData, ThreadedMarketStream
from oms.market.types import Quote
from oms.venues.binance_factory import build_binance_market


@pytest.fixture
def streams() -> Iterator[FakeBinanceStreams]:
    fake = FakeBinanceStreams().start()
    yield fake
    fake.stop()


def wait_for_bid(feed: BinanceMarketData, streams: FakeBinanceStreams, bid: Decimal,
                 connections: int = 1) -> Quote | None:
    """Send a bookTicker once connected; wait (not a timing assertion) until the feed has it."""
    for _ in range(400):
        if len(streams.paths) >= connections:
            break
        time.sleep(0.025)
    streams.send("btcusdt@bookTicker", {"u": 1, "s": "BTCUSDT", "b": str(bid), "B": "2.0",
                                        "a": str(bid + Decimal("0.50")), "A": "1.0"})
    for _ in range(400):
        feed.advance_to(LiveClock().now())
        quote = feed.quote("BTCUSDT") if feed.is_open("BTCUSDT") else None
        if quote is not None and quote.bid == bid:
            return quote
        time.sleep(0.025)
    return None


def test_book_ticker_arrives_over_websocket(
    server: FakeBinance, streams: FakeBinanceStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    # python-binance's endpoints are class attributes: point them at loopback
    monkeypatch.setattr(AsyncClient, "API_TESTNET_URL", f"{server.url}/api")
    monkeypatch.setattr(BinanceSocketManager, "STREAM_TESTNET_URL", streams.url)
    settings = Settings(venue="binance-testnet", symbols=["BTCUSDT"],
                        binance=BinanceSettings(rest_base_url=server.url))
    transport = ThreadedMarketStream(
        lambda loop: ThreadedWebsocketManager(testnet=True, loop=loop))
    feed = build_binance_market(settings, clock=LiveClock(), transport=transport)
    try:
        first = wait_for_bid(feed, streams, Decimal("61000.00"))
        transport.stop()  # a reconnect: a new manager, a new event loop
        transport.start(feed.on_message, ["btcusdt@bookTicker"])
        second = wait_for_bid(feed, streams, Decimal("62000.00"), connections=2)
    finally:
        feed.stop()

    assert streams.paths[0].startswith("/stream?streams=btcusdt@bookTicker")
    assert streams.paths[0].count("@") == 3  # bookTicker, trade and kline_1m of BTCUSDT
    assert first is not None and (first.bid, first.ask) == (Decimal("61000.00"),
                                                            Decimal("61000.50"))
    assert second is not None and second.bid == Decimal("62000.00")
    assert len(streams.paths) == 2
