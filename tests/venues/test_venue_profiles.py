"""Venue profiles: bad figures and bad names are configuration errors that say what is wrong; the
default exchanges load, cite their sources and build paper venues with their own figures."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from oms.config import PaperVenueSettings
from oms.errors import ConfigError
from oms.market.synthetic import SyntheticMarket
from oms.risk.halt import HaltGate
from oms.venues.paper_factory import paper_venue_for, venue_seed
from oms.venues.paper_faults import FaultPlan
from oms.venues.paper_state import DEFAULT_SPOT_FILTERS
from oms.venues.profiles import DEFAULT_PROFILES, VenueProfile, resolve_profiles

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
START = datetime(2024, 5, 1, 14, tzinfo=UTC)


def okx_fields(**changes: Any) -> dict[str, Any]:
    fields = DEFAULT_PROFILES["okx"].model_dump()
    fields.update(changes)
    return fields


@pytest.mark.parametrize(("field", "value"), [
    ("maker_fee_bps", Decimal(-1)), ("taker_fee_bps", Decimal("-0.5")), ("latency_ms", 0.0),
    ("latency_jitter_ms", -1.0), ("depth_scale", 0.0), ("basis_sd_bps", -0.1),
    ("basis_half_life_s", 0.0), ("reject_rate", 1.0), ("name", "OKX"), ("source", ""),
])
def test_a_bad_figure_is_a_config_error_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ConfigError) as raised:
        VenueProfile(**okx_fields(**{field: value}))

    message = str(raised.value)
    assert f"{field}:" in message and "venue profile" in message


def test_a_negative_fee_in_the_schedule_names_its_tier() -> None:
    tiers = list(okx_fields()["fee_tiers"])
    tiers[2] = {**tiers[2], "maker_bps": Decimal("-0.2")}  # OKX's VIP 6 rebate, say

    with pytest.raises(ConfigError, match=r"fee_tiers\.2\.maker_bps"):
        VenueProfile(**okx_fields(fee_tiers=tiers, fee_tier=2))


def test_an_unknown_tier_or_an_unordered_schedule_is_refused() -> None:
    fields = okx_fields(fee_tier=9)
    fields.pop("maker_fee_bps")
    fields.pop("taker_fee_bps")
    with pytest.raises(ConfigError, match="fee_tier 9"):
        VenueProfile(**fields)
    tiers = okx_fields()["fee_tiers"]
    with pytest.raises(ConfigError, match="min_volume_usd must increase"):
        VenueProfile(**okx_fields(fee_tiers=[tiers[0], tiers[2], tiers[1]]))


def test_the_tier_gives_the_fees_unless_they_are_given() -> None:
    fields = okx_fields(fee_tier=3)
    fields.pop("maker_fee_bps")
    fields.pop("taker_fee_bps")

    vip3 = VenueProfile(**fields)
    negotiated = VenueProfile(**okx_fields(fee_tier=3, maker_fee_bps=Decimal(1)))

    assert vip3.tier.name == "VIP 3"
    assert (vip3.maker_fee_bps, vip3.taker_fee_bps) == (Decimal(3), Decimal(6))
    assert (negotiated.maker_fee_bps, negotiated.taker_fee_bps) == (Decimal(1), Decimal(10))


@pytest.mark.parametrize(("names", "pattern"), [
    ("binance,kraken", r"^venues: unknown venue 'kraken' \(known: binance, okx, bybit\)$"),
    ("okx, binance ,OKX", r"^venues: venue 'okx' listed twice"),
    ("", r"^venues: no venue named"),
    (" , ", r"^venues: no venue named"),
    ([], r"^venues: no venue named"),
    ("binance,,okx", r"^venues: empty venue name in 'binance,,okx'"),
])
def test_resolve_refuses_bad_lists_naming_the_setting(names: Any, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        resolve_profiles(names)


def test_resolve_names_the_setting_it_was_given() -> None:
    with pytest.raises(ConfigError, match=r"^router\.venues: unknown venue 'ftx'"):
        resolve_profiles(["ftx"], setting="router.venues")


def test_resolve_keeps_the_order_given() -> None:
    profiles = resolve_profiles(" bybit,Binance ,okx")

    assert [p.name for p in profiles] == ["bybit", "binance", "okx"]
    assert profiles[1] is DEFAULT_PROFILES["binance"]


@pytest.mark.parametrize("name", ["binance", "okx", "bybit"])
def test_each_default_profile_loads_and_cites_its_sources(name: str) -> None:
    profile = DEFAULT_PROFILES[name]

    assert profile.fee_tier == 0 and profile.fee_tiers[0].min_volume_usd == 0
    assert (profile.maker_fee_bps, profile.taker_fee_bps) == (
        profile.fee_tiers[0].maker_bps, profile.fee_tiers[0].taker_bps)
    assert set(profile.symbols) == set(SYMBOLS)
    assert "https://" in profile.source and "2026-12-01" in profile.source
    assert "fee" in profile.source.lower() and "assumption" in profile.source
    filters = profile.filters()
    for symbol, rules in profile.symbols.items():
        assert filters[symbol].tick_size == rules.tick_size
        assert filters[symbol].assets() == (rules.base_asset, "USDT")
    # a profile is data: it round-trips through its fields
    assert VenueProfile(**profile.model_dump()) == profile


def test_the_published_base_rates() -> None:
    rates = {name: (p.maker_fee_bps, p.taker_fee_bps) for name, p in DEFAULT_PROFILES.items()}

    assert rates == {"binance": (Decimal(10), Decimal(10)), "okx": (Decimal(8), Decimal(10)),
                     "bybit": (Decimal(10), Decimal(10))}


def test_binance_s_rules_are_the_exchange_info_ones_the_paper_venue_uses() -> None:
    assert DEFAULT_PROFILES["binance"].filters() == DEFAULT_SPOT_FILTERS
    assert DEFAULT_PROFILES["binance"].depth_scale == 1.0
    assert DEFAULT_PROFILES["binance"].basis_sd_bps == 0.0


def test_the_factory_builds_a_venue_with_the_profile_s_figures() -> None:
    # Arrange
    profile = VenueProfile(**okx_fields(reject_rate=0.05))
    base = PaperVenueSettings(impact_coefficient=0.3, queue_ahead_factor=0.5)
    faults = FaultPlan()

    # Act
    venue = paper_venue_for(profile, HaltGate(), SyntheticMarket(SYMBOLS, START, seed=3), seed=9,
                            base=base, faults=faults, balances={"USDT": Decimal(5)})

    # Assert
    assert venue.name == "okx"
    settings = venue.settings
    assert (settings.maker_fee_bps, settings.taker_fee_bps) == (Decimal(8), Decimal(10))
    assert (settings.latency_ms, settings.latency_jitter_ms) == (25.0, 10.0)
    assert (settings.impact_coefficient, settings.queue_ahead_factor) == (0.3, 0.5)
    assert venue.faults is faults and faults.reject_rate == 0.05
    assert venue.filters("BTCUSDT").tick_size == Decimal("0.1")
    assert venue.filters("BTCUSDT").min_notional == 0
    assert venue.balances()["USDT"].free == Decimal(5)
    shape = venue._view.shape
    assert shape is not None and shape.depth_scale == 0.5 and shape.venue == "okx"
    assert venue._view.tick("BTCUSDT") == Decimal("0.1")
    assert venue_seed(9, "okx") != venue_seed(9, "bybit")
