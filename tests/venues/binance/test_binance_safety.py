"""Keys never shown; production needs confirmation and a trade-only key; key file rules."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from binance_helpers import API_KEY, API_SECRET, ENV, FakeTransport, child, make_settings
from fake_binance_server import FakeBinance, Fault

from oms.clock import TestClock
from oms.config import BinanceSettings, Settings
from oms.errors import ConfigError, OrderStatusUnknown, VenueBanned, VenueUnavailable
from oms.risk.halt import HaltGate
from oms.venues.binance_factory import build_binance_venue
from oms.venues.binance_keys import ApiCredentials, load_credentials

PROD_ENV = {"BINANCE_API_KEY": API_KEY, "BINANCE_API_SECRET": API_SECRET}


def production(server: FakeBinance) -> Settings:
    return make_settings(server).model_copy(update={"venue": "binance"})


def test_keys_never_appear_in_logs_or_reprs(
    server: FakeBinance, clock: TestClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # including urllib3 and python-binance debug output
    transport = FakeTransport(server)
    venue = build_binance_venue(make_settings(server), HaltGate(), production_confirmed=False,
                                clock=clock, transport=transport, env=ENV)
    order = child(qty="0.02")
    venue.submit(order, clock.now())
    server.fill(order.client_order_id, Decimal("0.01"))
    transport.deliver()
    server.faults += [Fault("POST", "/api/v3/order", "500"), Fault("GET", "/api/v3/order", "500"),
                      Fault("POST", "/api/v3/order", "429")]
    with pytest.raises(OrderStatusUnknown) as unknown:
        venue.submit(child(), clock.now())
    clock.advance(timedelta(seconds=20))
    with pytest.raises(VenueUnavailable) as limited:
        venue.submit(child(), clock.now())
    clock.advance(timedelta(seconds=31))
    events = venue.poll(clock.now())
    venue.cancel_all(clock.now())
    server.api_key = "rotated"  # our key is now invalid: -2015
    with pytest.raises(VenueBanned) as bad_key:
        venue.query(order.client_order_id)

    shown = " ".join([caplog.text, repr(venue), str(venue), repr(venue.settings),
                      repr(make_settings(server)), str(unknown.value), str(limited.value),
                      str(bad_key.value), repr(events), repr(venue.tracker.orders)])
    assert caplog.records  # something was logged, at DEBUG too
    assert API_KEY not in shown and API_SECRET not in shown


def test_credentials_mask_themselves() -> None:
    creds = ApiCredentials(API_KEY, API_SECRET)

    assert API_KEY not in repr(creds) and API_SECRET not in str(creds) and "****" in repr(creds)
    assert creds.reveal() == (API_KEY, API_SECRET)


def test_production_requires_explicit_confirmation(server: FakeBinance) -> None:
    with pytest.raises(ConfigError, match="confirmation"):
        build_binance_venue(production(server), HaltGate(), production_confirmed=False,
                            env=PROD_ENV)
    assert server.requests == []  # refused before any connection


def test_production_refuses_a_key_that_can_withdraw(server: FakeBinance) -> None:
    server.permissions["enableWithdrawals"] = True

    with pytest.raises(ConfigError, match="withdraw"):
        build_binance_venue(production(server), HaltGate(), production_confirmed=True,
                            env=PROD_ENV)
    assert server.count("POST", "/api/v3/order") == 0


def test_production_warns_without_ip_restriction(
    server: FakeBinance, clock: TestClock, caplog: pytest.LogCaptureFixture
) -> None:
    server.permissions["ipRestrict"] = False
    caplog.set_level(logging.WARNING)

    venue = build_binance_venue(production(server), HaltGate(), production_confirmed=True,
                                clock=clock, env=PROD_ENV)

    assert venue.name == "binance" and not venue.testnet
    assert "no IP restriction" in caplog.text
    assert server.count("GET", "/sapi/v1/account/apiRestrictions") == 1


def test_testnet_keys_are_separate_from_production_keys() -> None:
    with pytest.raises(ConfigError, match="BINANCE_TESTNET_API_KEY"):
        load_credentials(BinanceSettings(), testnet=True, env=PROD_ENV)


def test_key_file_must_be_outside_the_repository(tmp_path: Path) -> None:
    outside = tmp_path / "binance.keys"
    outside.write_text(f"# testnet\napi_key={API_KEY}\napi_secret={API_SECRET}\n")
    outside.chmod(0o600)
    repo_root = Path(__file__).resolve().parents[3]

    loaded = load_credentials(BinanceSettings(key_file=outside), testnet=True, env={})
    with pytest.raises(ConfigError, match="outside the repository"):
        load_credentials(BinanceSettings(key_file=repo_root / "pyproject.toml"), testnet=True,
                         env={}, repo_root=repo_root)

    assert loaded.reveal() == (API_KEY, API_SECRET)
