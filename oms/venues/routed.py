"""Several paper venues as one VenueSet, from the routing settings (``OMS_ROUTING__*``).

``check_routing`` refuses bad settings at start, naming the setting: an unknown venue name, a
name listed twice, a route that is neither ``sor`` nor a listed venue, a limit for a venue not
listed, or a limit below that venue's minimum notional. ``routed_paper_venues`` builds the
factory the composition root and the backtests call: one PaperVenue per profile (its fees,
latency, rules, depth and basis; oms.venues.profiles), each funded with an equal share of the
account's starting balance (``funding="each"``: each the whole of it, for comparisons), behind
one VenueSet whose health breaker follows the settings. A
fixed ``route`` (one venue's name, for comparison) builds the set of that venue alone, holding
the whole account.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from oms.config import PaperVenueSettings, RoutingSettings
from oms.errors import ConfigError
from oms.market.base import MarketData
from oms.risk.halt import HaltGate
from oms.venues.base import Venue
from oms.venues.paper_factory import paper_venue_for
from oms.venues.paper_faults import FaultPlan
from oms.venues.profiles import VenueProfile, resolve_profiles
from oms.venues.venue_set import HealthSettings, VenueSet, VenueTerms, split_evenly

__all__ = ["beside_paper_venues", "check_routing", "routed_paper_venues"]

VenueFactory = Callable[[HaltGate, MarketData], Venue]


def check_routing(settings: RoutingSettings, symbols: list[str]) -> list[VenueProfile]:
    """The profiles of ``settings.venues``; ConfigError naming the setting when any is bad."""
    profiles = resolve_profiles(settings.venues, setting="OMS_ROUTING__VENUES")
    names = [p.name for p in profiles]
    if settings.route != "sor" and settings.route not in names:
        raise ConfigError(f"OMS_ROUTING__ROUTE: {settings.route!r} is neither 'sor' nor one of "
                          f"the venues ({', '.join(names)})")
    for setting, limits in (("OMS_ROUTING__MAX_VENUE_NOTIONAL_USD",
                             settings.max_venue_notional_usd),
                            ("OMS_ROUTING__MAX_SYMBOL_VENUE_NOTIONAL_USD",
                             settings.max_symbol_venue_notional_usd)):
        for venue, limit in limits.items():
            profile = next((p for p in profiles if p.name == venue), None)
            if profile is None:
                raise ConfigError(f"{setting}: {venue!r} is not one of the venues "
                                  f"({', '.join(names)})")
            rules = profile.filters()
            floor = max((rules[s].min_notional for s in symbols if s in rules),
                        default=Decimal(0))
            if limit < floor:
                raise ConfigError(f"{setting}[{venue}] = {limit} is below {venue}'s minimum "
                                  f"notional {floor}: nothing could ever be sent there")
    return profiles


def _terms(profile: VenueProfile) -> VenueTerms:
    return VenueTerms(float(profile.maker_fee_bps), float(profile.taker_fee_bps),
                      float(profile.latency_ms))


def _health(settings: RoutingSettings) -> HealthSettings:
    return HealthSettings(failures=settings.health_failures,
                          window=timedelta(seconds=settings.health_window_s),
                          cooldown=timedelta(seconds=settings.health_cooldown_s))


def _paper_venues(profiles: list[VenueProfile], settings: RoutingSettings, gate: HaltGate,
                  market: MarketData, *, base: PaperVenueSettings | None, seed: int,
                  balances: dict[str, Decimal] | None,
                  faults: dict[str, FaultPlan] | None = None) -> list[Venue]:
    """One PaperVenue per profile, funded as ``settings.funding`` says."""
    if not profiles:
        return []
    totals = dict(balances or {})
    shares = (split_evenly(totals, len(profiles)) if settings.funding == "split"
              else [totals] * len(profiles))
    return [paper_venue_for(profile, gate, market, seed=seed, base=base,
                            faults=(faults or {}).get(profile.name), balances=share or None)
            for profile, share in zip(profiles, shares, strict=True)]


def routed_paper_venues(settings: RoutingSettings, symbols: list[str], *,
                        base: PaperVenueSettings | None = None, seed: int = 7,
                        balances: dict[str, Decimal] | None = None,
                        faults: dict[str, FaultPlan] | None = None) -> VenueFactory:
    """A factory of the VenueSet of ``settings.venues`` (checked first, see check_routing);
    ``balances`` (the account's) are split equally across the venues, ``faults`` per venue."""
    profiles = check_routing(settings, symbols)
    if settings.route != "sor":  # one venue for comparison: the account trades there alone
        profiles = [p for p in profiles if p.name == settings.route]

    def build(gate: HaltGate, market: MarketData) -> Venue:
        venues = _paper_venues(profiles, settings, gate, market, base=base, seed=seed,
                               balances=balances, faults=faults)
        return VenueSet(gate, venues, terms={p.name: _terms(p) for p in profiles},
                        health=_health(settings), split_balances=settings.funding == "split")

    return build


def beside_paper_venues(live: Venue, settings: RoutingSettings, symbols: list[str], *,
                        base: PaperVenueSettings | None = None, seed: int = 7,
                        balances: dict[str, Decimal] | None = None) -> VenueFactory:
    """A live venue (the Binance testnet) and the paper venues of ``settings.venues`` routed
    as one set: the live venue keeps its own account, the paper venues are funded as in
    ``routed_paper_venues``; the live venue is told the binance profile's fees and latency. A
    paper profile of the live venue's exchange ("binance") is left out (one Binance)."""
    profiles = [p for p in check_routing(settings, symbols) if p.name != "binance"]
    binance = resolve_profiles(["binance"])[0]

    def build(gate: HaltGate, market: MarketData) -> Venue:
        paper = _paper_venues(profiles, settings, gate, market, base=base, seed=seed,
                              balances=balances)
        terms = {live.name: _terms(binance), **{p.name: _terms(p) for p in profiles}}
        return VenueSet(gate, [live, *paper], terms=terms, health=_health(settings))

    return build
