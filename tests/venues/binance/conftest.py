"""Fixtures: a loopback Binance-compatible server and a BinanceVenue pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from binance_helpers import API_KEY, API_SECRET, ENV, START, FakeTransport, make_settings
from fake_binance_server import FakeBinance

from oms.clock import TestClock
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.binance_factory import build_binance_venue


@pytest.fixture
def server() -> Iterator[FakeBinance]:
    fake = FakeBinance(API_KEY, API_SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> TestClock:
    return TestClock(START)


@pytest.fixture
def transport(server: FakeBinance) -> FakeTransport:
    return FakeTransport(server)


@pytest.fixture
def gate() -> HaltGate:
    return HaltGate()


@pytest.fixture
def venue(server: FakeBinance, clock: TestClock, transport: FakeTransport,
          gate: HaltGate) -> Iterator[BinanceVenue]:
    built = build_binance_venue(make_settings(server), gate, production_confirmed=False,
                                clock=clock, transport=transport, env=ENV)
    yield built
    built.close()
