"""Balances: the spot account as Binance reports it (GET /api/v3/account)."""

from __future__ import annotations

from decimal import Decimal

from fake_binance_server import FakeBinance

from oms.venues.base import Balance
from oms.venues.binance import BinanceVenue


def test_balances_are_read_from_the_account_endpoint(venue: BinanceVenue,
                                                     server: FakeBinance) -> None:
    balances = venue.balances()

    assert balances == {"USDT": Balance(Decimal("100000.0"), Decimal("0.0"))}
    assert server.count("GET", "/api/v3/account") == 1


def test_set_balances_leaves_binances_account_alone(venue: BinanceVenue,
                                                    server: FakeBinance) -> None:
    venue.set_balances({"BTC": Decimal(1)})  # the exchange keeps the account: nothing to do

    assert venue.balances()["USDT"].total == Decimal(100_000)
