"""Rate limits: 429 back-off until Retry-After, 418 halts, local margin, headers read back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from binance_helpers import ENV, child, make_settings
from fake_binance_server import FakeBinance, Fault

from oms.clock import TestClock
from oms.errors import TradingHalted, VenueBanned, VenueUnavailable
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.binance_factory import build_binance_venue
from oms.venues.binance_limits import VenueStatus


def test_429_sends_nothing_until_retry_after(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    server.faults.append(Fault("POST", "/api/v3/order", "429", retry_after=30))
    with pytest.raises(VenueUnavailable) as first:
        venue.submit(child(), clock.now())
    requests_after_429 = len(server.requests)

    clock.advance(timedelta(seconds=20))
    with pytest.raises(VenueUnavailable) as during:
        venue.submit(child(), clock.now())
    venue.poll(clock.now())  # housekeeping must not send either
    requests_during_back_off = len(server.requests)
    status_during = venue.status()
    clock.advance(timedelta(seconds=11))
    venue.submit(child(), clock.now())

    assert first.value.retry_after_s == 30
    assert during.value.retry_after_s == pytest.approx(10)
    assert requests_during_back_off == requests_after_429
    assert status_during is VenueStatus.BACKING_OFF
    assert server.count("POST", "/api/v3/order") == 2
    assert venue.status() is VenueStatus.OK


def test_418_halts_the_venue_and_says_so(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock, gate: HaltGate
) -> None:
    server.faults.append(Fault("POST", "/api/v3/order", "418"))
    with pytest.raises(VenueBanned):
        venue.submit(child(), clock.now())
    requests_after_ban = len(server.requests)

    clock.advance(timedelta(hours=1))
    with pytest.raises(TradingHalted):
        venue.submit(child(), clock.now())
    with pytest.raises(VenueBanned):
        venue._send(child(), clock.now())  # even past the gate, the venue refuses to send

    assert venue.status() is VenueStatus.BANNED
    assert "HALTED" in venue.status_text() and "418" in venue.status_text()
    assert gate.is_halted
    assert len(server.requests) == requests_after_ban


def test_local_weight_limit_is_kept_under_margin(server: FakeBinance, clock: TestClock) -> None:
    server.weight_limit = 100  # margin 80% -> 80 weight per minute for this venue
    venue = build_binance_venue(make_settings(server), HaltGate(), production_confirmed=False,
                                clock=clock, env=ENV)
    used_by_start = sum(lim.used for lim in venue.limiter.limits if lim.kind == "REQUEST_WEIGHT")
    sent = 0
    with pytest.raises(VenueUnavailable) as refused:
        for _ in range(200):
            venue.query("unknown-id")  # weight 4 x 2 symbols
            sent += 1

    assert used_by_start >= 21
    assert server._weight and max(server._weight.values()) <= 80
    assert refused.value.retry_after_s is not None and refused.value.retry_after_s <= 60
    assert sent < 20


def test_usage_headers_are_read_back(venue: BinanceVenue, clock: TestClock) -> None:
    venue.submit(child(), clock.now())

    weight = next(lim for lim in venue.limiter.limits if lim.kind == "REQUEST_WEIGHT")
    orders = next(lim for lim in venue.limiter.limits if lim.interval == "SECOND")

    assert weight.header == "X-MBX-USED-WEIGHT-1M"
    assert weight.used >= 22  # time + exchangeInfo + order
    assert orders.used == 1
