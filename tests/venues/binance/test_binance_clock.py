"""Server time offset: measured at start and periodically; a -1021 resyncs and does not recur."""

from __future__ import annotations

from datetime import timedelta

import pytest
from binance_helpers import ENV, child, make_settings
from fake_binance_server import FakeBinance

from oms.clock import TestClock
from oms.errors import VenueUnavailable
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.binance_factory import build_binance_venue


def test_offset_measured_at_start_avoids_1021(server: FakeBinance, clock: TestClock) -> None:
    server.skew_ms = -8_000  # the local clock runs 8 s ahead of Binance's
    venue = build_binance_venue(make_settings(server), HaltGate(), production_confirmed=False,
                                clock=clock, env=ENV)

    venue.submit(child(), clock.now())

    assert venue.time_offset_ms == pytest.approx(-8_000, abs=500)
    assert server.count("POST", "/api/v3/order") == 1
    assert len(server.orders) == 1


def test_1021_resyncs_then_the_retry_passes(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    server.skew_ms = 9_000  # Binance's clock jumped: requests now look 9 s old
    with pytest.raises(VenueUnavailable) as err:
        venue.submit(child(), clock.now())

    venue.submit(child(), clock.now())

    assert err.value.code == -1021
    assert venue.time_offset_ms == pytest.approx(9_000, abs=500)
    assert len(server.orders) == 1


def test_offset_is_remeasured_periodically(
    venue: BinanceVenue, server: FakeBinance, clock: TestClock
) -> None:
    syncs_at_start = server.count("GET", "/api/v3/time")
    server.skew_ms = 3_000

    clock.advance(timedelta(seconds=301))  # time_sync_interval_s = 300
    venue.poll(clock.now())

    assert server.count("GET", "/api/v3/time") == syncs_at_start + 1
    assert venue.time_offset_ms == pytest.approx(3_000, abs=500)
