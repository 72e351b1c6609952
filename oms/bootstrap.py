"""Composition of one OMS process: database, market, venue, engine, service, runtime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from oms.clock import Clock, ReplayClock
from oms.config import Settings
from oms.engine import ExecutionEngine
from oms.errors import ConfigError
from oms.market.base import MarketData
from oms.model import IdGenerator
from oms.persistence import Database, Repository
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

    def close(self) -> None:
        """Stop the scheduler, close the venue and the database."""
        self.runtime.stop()
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


def _replay_start(market: MarketData, default: datetime) -> datetime:
    start = getattr(market, "first_open", None)
    return start if isinstance(start, datetime) else default


def build_oms(settings: Settings, *, clock: Clock | None = None,
              market: MarketData | None = None, venue: Venue | None = None,
              ids: IdGenerator | None = None) -> Oms:
    """Wire a complete OMS from settings (the venue and market can be injected for tests)."""
    database = Database(settings.database_url)
    database.migrate()
    repository = Repository(database)
    gate = HaltGate()
    wall = datetime.now(UTC)
    if market is None:
        market = build_market(settings, wall)
    if clock is None:
        clock = ReplayClock(_replay_start(market, wall), settings.speed)
    if venue is None:
        venue = _build_venue(settings, gate, market)
    engine = ExecutionEngine(settings=settings, clock=clock, market=market, venue=venue,
                             repository=repository, gate=gate, ids=ids)
    service = OmsService(engine, repository, settings, gate)
    runtime = EngineRuntime(engine, settings.tick_interval_ms)
    return Oms(settings, database, repository, gate, clock, market, venue, engine, service,
               runtime)


def _build_venue(settings: Settings, gate: HaltGate, market: MarketData) -> Venue:
    if settings.venue == "paper":
        from oms.venues.paper import PaperVenue

        return PaperVenue(gate, market, settings.paper, seed=settings.seed)
    from oms.venues.binance import build_binance_venue

    return build_binance_venue(settings, gate,
                               production_confirmed=settings.binance.confirm_production)
