"""One rate limiter per IP: the market feed's REST calls and the venue's share it, bans too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from binance_helpers import ENV, FakeTransport, child, make_settings
from fake_binance_server import FakeBinance, Fault

from oms.bootstrap import build_oms
from oms.clock import TestClock
from oms.errors import VenueBanned, VenueUnavailable
from oms.market.binance_feed import BinanceMarketData
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.binance_factory import build_binance_market, build_binance_venue
from oms.venues.binance_limits import VenueStatus

BOOK_TICKER = "/api/v3/ticker/bookTicker"


@pytest.fixture
def feed(server: FakeBinance, clock: TestClock) -> BinanceMarketData:
    return build_binance_market(make_settings(server), clock=clock)


@pytest.fixture
def shared_venue(server: FakeBinance, clock: TestClock, transport: FakeTransport, gate: HaltGate,
                 feed: BinanceMarketData) -> Iterator[BinanceVenue]:
    built = build_binance_venue(make_settings(server), gate, production_confirmed=False,
                                clock=clock, transport=transport, env=ENV, market=feed)
    yield built
    built.close()


def test_a_429_seen_by_the_feed_backs_off_the_venue(
    shared_venue: BinanceVenue, feed: BinanceMarketData, server: FakeBinance, clock: TestClock
) -> None:
    server.faults.append(Fault("GET", BOOK_TICKER, "429", retry_after=30))
    feed.advance_to(clock.now())  # no stream: REST bookTicker, answered 429

    with pytest.raises(VenueUnavailable) as refused:
        shared_venue.submit(child(), clock.now())
    status_during = shared_venue.status()
    clock.advance(timedelta(seconds=30))
    shared_venue.submit(child(), clock.now())

    assert refused.value.retry_after_s == pytest.approx(30)
    assert status_during is VenueStatus.BACKING_OFF
    assert server.count("POST", "/api/v3/order") == 1  # only the one after the back-off


def test_a_418_seen_by_the_feed_bans_the_venue_until_it_lifts(
    shared_venue: BinanceVenue, feed: BinanceMarketData, server: FakeBinance, clock: TestClock,
    gate: HaltGate
) -> None:
    resting = child()
    shared_venue.submit(resting, clock.now())
    server.faults.append(Fault("GET", BOOK_TICKER, "418", retry_after=120))
    feed.advance_to(clock.now())
    tickers_at_ban = server.count("GET", BOOK_TICKER)

    with pytest.raises(VenueBanned):
        shared_venue.query(resting.client_order_id)
    shared_venue.cancel(resting.client_order_id, clock.now())  # held back during the ban
    clock.advance(timedelta(seconds=60))
    feed.advance_to(clock.now())
    status_during, halted_during = shared_venue.status(), gate.is_halted
    cancels_during = server.count("DELETE", "/api/v3/order")
    tickers_during = server.count("GET", BOOK_TICKER)
    clock.advance(timedelta(seconds=60))
    shared_venue.cancel(resting.client_order_id, clock.now())
    shared_venue.poll(clock.now())
    feed.advance_to(clock.now())

    assert status_during is VenueStatus.BANNED and halted_during
    assert cancels_during == 0
    assert server.count("DELETE", "/api/v3/order") == 1
    assert next(iter(server.orders.values()))["status"] == "CANCELED"
    assert tickers_during == tickers_at_ban
    assert feed.is_open("BTCUSDT") and feed.is_open("ETHUSDT")


def test_the_feed_stops_at_the_weight_the_venue_used(
    server: FakeBinance, clock: TestClock, transport: FakeTransport
) -> None:
    server.weight_limit = 100  # 80 under the margin, for the feed and the venue together
    feed = build_binance_market(make_settings(server), clock=clock)
    venue = build_binance_venue(make_settings(server), HaltGate(), production_confirmed=False,
                                clock=clock, transport=transport, env=ENV, market=feed)
    with pytest.raises(VenueUnavailable):
        for _ in range(50):
            venue.query("unknown-id")
    sent_before = len(server.requests)

    feed.advance_to(clock.now())

    assert len(server.requests) == sent_before
    assert venue.limiter is feed.limiter


def test_bootstrap_builds_one_limiter_for_feed_and_venue(
    server: FakeBinance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    settings = make_settings(server).model_copy(
        update={"database_url": f"sqlite:///{tmp_path}/oms.db"})

    oms = build_oms(settings)
    try:
        market, venue = oms.market, oms.venue
    finally:
        oms.close()

    assert isinstance(market, BinanceMarketData) and isinstance(venue, BinanceVenue)
    assert market.limiter is venue.limiter
