"""Composition of one OMS process: database, market, venue, engine, service, runtime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from oms.alerts.feed import AlertFeed
from oms.alerts.notify import Notifier
from oms.clock import Clock, LiveClock, ReplayClock
from oms.config import Settings
from oms.engine import ExecutionEngine
from oms.errors import ConfigError
from oms.market.base import MarketData
from oms.model import IdGenerator
from oms.persistence import Database, Repository
from oms.restart import check_identity, check_sqlite, replay_start
from oms.risk.halt import HaltGate
from oms.runtime import EngineRuntime
from oms.service import OmsService
from oms.venues.base import Venue

__all__ = ["Oms", "build_market", "build_oms"]


@dataclass(slots=True)
class Oms:
    """The parts of one OMS process."""

    settings: Settings
    database: Database
    repository: Repository
    gate: HaltGate
    clock: Clock
    market: MarketData
    venue: Venue
    engine: ExecutionEngine
    service: OmsService
    runtime: EngineRuntime
    alerts: AlertFeed
    notifier: Notifier | None = None  # only with OMS_ALERTS__URLS

    def close(self) -> None:
        """Stop the scheduler and the alert sender, close the venue and the database."""
        self.runtime.stop()
        if self.notifier is not None:
            self.notifier.stop()
        self.venue.close()
        self.database.dispose()


def build_market(settings: Settings, start: datetime) -> MarketData:
    """Replay ``settings.market_data`` if given, otherwise the calibrated synthetic market."""
    if settings.market_data is not None:
        from oms.market.replay import KlineReplayMarket

        if not settings.market_data.exists():
            raise ConfigError(f"market data file {settings.market_data} does not exist")
        return KlineReplayMarket(settings.market_data, seed=settings.seed)
    from oms.market.synthetic import SyntheticMarket

    return SyntheticMarket(settings.symbols, start, seed=settings.seed)


def _replay_start(settings: Settings, repository: Repository, market: MarketData,
                  default: datetime) -> datetime:
    """The replay file's first bar, or where a previous run on it stopped (oms.restart)."""
    first, last = getattr(market, "first_open", None), getattr(market, "last_close", None)
    if not isinstance(first, datetime) or not isinstance(last, datetime):
        return default
    if settings.market_data is None:
        return first
    return replay_start(repository, settings.market_data, first, last)


def build_oms(settings: Settings, *, clock: Clock | None = None,
              market: MarketData | None = None, venue: Venue | None = None,
              ids: IdGenerator | None = None) -> Oms:
    """Wire a complete OMS from settings (the venue and market can be injected for tests)."""
    check_sqlite(settings.database_url)
    if settings.routing.venues:  # bad routing settings: nothing started
        from oms.venues.routed import check_routing

        if settings.venue == "binance":
            raise ConfigError("OMS_ROUTING__VENUES beside OMS_VENUE=binance is refused: the "
                              "router would send part of real-money orders to paper venues "
                              "(combine paper venues with binance-testnet)")
        check_routing(settings.routing, settings.symbols)
    database = Database(settings.database_url)
    database.migrate()
    repository = Repository(database)
    check_identity(repository, venue=settings.venue, account=settings.account)
    # an injected venue checks its own gate before the wire: that is the process's halt gate
    gate = venue.gate if venue is not None else HaltGate()
    wall = datetime.now(UTC)
    if settings.venue != "paper":
        return _build_live(settings, database, repository, gate, clock, market, venue, ids)
    if market is None:
        market = build_market(settings, wall)
    if not set(settings.symbols) <= set(market.symbols):  # a replay file holds one symbol
        settings = settings.model_copy(update={"symbols": list(market.symbols)})
    if clock is None:
        clock = ReplayClock(_replay_start(settings, repository, market, wall), settings.speed)
    if venue is None and settings.routing.venues:  # several paper venues, routed
        from oms.venues.routed import routed_paper_venues

        venue = routed_paper_venues(
            settings.routing, settings.symbols, base=settings.paper, seed=settings.seed,
            balances={settings.quote_asset: settings.starting_balance})(gate, market)
    if venue is None:
        from oms.venues.paper import PaperVenue

        venue = PaperVenue(gate, market, settings.paper, seed=settings.seed,
                           balances={settings.quote_asset: settings.starting_balance})
    return _assemble(settings, database, repository, gate, clock, market, venue, ids)


def _build_live(settings: Settings, database: Database, repository: Repository, gate: HaltGate,
                clock: Clock | None, market: MarketData | None, venue: Venue | None,
                ids: IdGenerator | None) -> Oms:
    """Binance (testnet unless production is confirmed): live clock, Binance market data."""
    from oms.venues.binance_factory import (
        build_binance_market,
        build_binance_venue,
        shared_limiter,
    )

    clock = clock or LiveClock()
    limiter = shared_limiter(settings, market, venue)  # bans are per IP: one limiter for all
    if market is None:
        market = build_binance_market(settings, clock=clock, limiter=limiter)
    if venue is None:
        venue = build_binance_venue(settings, gate,
                                    production_confirmed=settings.binance.confirm_production,
                                    market=market, clock=clock, limiter=limiter)
    if settings.routing.venues:  # the testnet venue and paper venues, routed as one set
        from oms.venues.routed import beside_paper_venues

        venue = beside_paper_venues(venue, settings.routing, settings.symbols,
                                    base=settings.paper, seed=settings.seed,
                                    balances={settings.quote_asset: settings.starting_balance},
                                    )(gate, market)
    return _assemble(settings, database, repository, gate, clock, market, venue, ids)


def _assemble(settings: Settings, database: Database, repository: Repository, gate: HaltGate,
              clock: Clock, market: MarketData, venue: Venue, ids: IdGenerator | None) -> Oms:
    engine = ExecutionEngine(settings=settings, clock=clock, market=market, venue=venue,
                             repository=repository, gate=gate, ids=ids)
    service = OmsService(engine, repository, settings, gate)
    runtime = EngineRuntime(engine, settings.tick_interval_ms)
    notifier = Notifier(settings.alerts) if settings.alerts.urls else None
    alerts = AlertFeed(settings.alerts, notifier)
    engine.journal.taps.append(alerts.tap)  # alerts are derived from what was committed
    if notifier is not None:
        notifier.start()
    return Oms(settings, database, repository, gate, clock, market, venue, engine, service,
               runtime, alerts, notifier)

