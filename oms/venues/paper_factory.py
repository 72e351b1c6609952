"""A PaperVenue modelled on a real exchange: built from a VenueProfile (oms.venues.profiles)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal

from oms.config import PaperVenueSettings
from oms.market.base import MarketData
from oms.risk.halt import HaltGate
from oms.venues.paper import PaperVenue
from oms.venues.paper_faults import FaultPlan
from oms.venues.profiles import VenueProfile
from oms.venues.venue_shape import VenueShape

__all__ = ["paper_venue_for", "venue_seed", "venue_settings", "venue_shape"]


def venue_seed(seed: int, name: str) -> int:
    """The RNG seed of venue ``name`` in a run seeded ``seed`` (venues draw apart, reproducibly)."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def venue_settings(profile: VenueProfile,
                   base: PaperVenueSettings | None = None) -> PaperVenueSettings:
    """``base`` (impact, queue, cancel latency, ...) with the profile's fees, latency and
    reject rate."""
    settings = base or PaperVenueSettings()
    return settings.model_copy(update={
        "maker_fee_bps": profile.maker_fee_bps, "taker_fee_bps": profile.taker_fee_bps,
        "latency_ms": profile.latency_ms, "latency_jitter_ms": profile.latency_jitter_ms,
        "reject_rate": profile.reject_rate})


def venue_shape(profile: VenueProfile, *, seed: int) -> VenueShape:
    """The profile's basis, depth and price ticks against the reference market."""
    return VenueShape(profile.name, seed=seed, depth_scale=profile.depth_scale,
                      basis_sd_bps=profile.basis_sd_bps,
                      basis_half_life_s=profile.basis_half_life_s,
                      ticks={symbol: rules.tick_size for symbol, rules in profile.symbols.items()})


def paper_venue_for(profile: VenueProfile, gate: HaltGate, market: MarketData, *, seed: int,
                    base: PaperVenueSettings | None = None, faults: FaultPlan | None = None,
                    balances: Mapping[str, Decimal] | None = None) -> PaperVenue:
    """A PaperVenue named ``profile.name`` with the profile's fees, latency, reject rate, rules
    and shape; impact and queue settings from ``base``. ``faults``: scripted outages and spikes
    (its reject rate is the profile's when it sets none). Several venues built with one
    ``seed`` over one market draw their latencies and bases independently."""
    if faults is not None and faults.reject_rate == 0.0:
        faults.reject_rate = profile.reject_rate
    return PaperVenue(gate, market, venue_settings(profile, base), profile.filters(),
                      venue_seed(seed, profile.name), faults=faults, balances=balances,
                      name=profile.name, shape=venue_shape(profile, seed=seed))
