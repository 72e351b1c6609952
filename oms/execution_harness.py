"""Parent orders through the real engine, as fast as the CPU allows: what we measure is what trades.

``ExecutionHarness`` composes one isolated account: the real ``ExecutionEngine``, a venue (the
PaperVenue by default, or any ``VenueFactory``), a fresh SQLite database (in memory by default:
a copy of a migrated schema built once per process, see ``_copy_migrated_schema``) and a
TestClock; it submits parents with ``SubmitParentOrder`` and ticks in a plain loop (no
scheduler), deterministic for a seed. ``run_parent`` does that for one parent and returns what the
database holds at the end. The algorithm tests, ``benchmarks/algo_eval.py`` and ``oms backtest``
run on it. Only the engine's public surface is used (constructor, ``start``, ``enqueue``,
``tick``); results are read back through the Repository.

A run measures execution, not the account's limits: size limits are lifted
(``BACKTEST_LIMITS``), the exchange filters, spot balances and circuit breakers still apply.
Spot is spot, so a sell needs holdings: ``holdings`` (base quantity per symbol) are bought before
the run by a funding session written to the database (so the engine's account holds them, as if
an earlier session had bought them at the start mid) and handed to the venue with the cash.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any

from oms.clock import TestClock
from oms.commands import Command, SubmitParentOrder
from oms.config import CircuitBreakerSettings, PaperVenueSettings, RiskLimits, Settings
from oms.engine import ExecutionEngine, SubmitResult
from oms.errors import ConfigError, MarketClosed
from oms.journal import Journal
from oms.market.base import MarketData
from oms.model import (
    AlgoName,
    ChildOrder,
    ChildState,
    Fill,
    IdGenerator,
    Liquidity,
    OrderType,
    ParentOrder,
    ParentState,
    Side,
    split_symbol,
)
from oms.persistence import Database, Repository
from oms.risk.halt import HaltGate
from oms.venues.base import Venue
from oms.venues.filters import SymbolFilters
from oms.venues.paper import PaperVenue
from oms.venues.paper_faults import FaultPlan

__all__ = [
    "BACKTEST_CASH",
    "BACKTEST_LIMITS",
    "ExecutionHarness",
    "ExecutionResult",
    "ScriptedCommand",
    "VenueFactory",
    "paper_venue",
    "run_parent",
]

# Size limits lifted, and the account's order-rate limit: a run measures execution (exchange
# filters, price collar, duplicate check, spot balances and circuit breakers still apply).
BACKTEST_LIMITS = RiskLimits(
    max_position_usd=Decimal(10**12), max_gross_exposure_usd=Decimal(10**12),
    max_daily_loss_usd=Decimal(10**12), max_orders_per_minute=10_000,
    max_order_notional_usd=Decimal(10**12), max_target_usd=Decimal(10**12))
BACKTEST_CASH = Decimal(10**12)  # quote asset the account starts with

#: builds the run's venue on the harness's halt gate and market
VenueFactory = Callable[[HaltGate, MarketData], Venue]
#: a command to enqueue once the clock reaches its time (kill, resume, breaker reset, ...)
ScriptedCommand = tuple[datetime, Command]


def paper_venue(settings: PaperVenueSettings | None = None, *,
                filters: Mapping[str, SymbolFilters] | None = None,
                faults: FaultPlan | None = None, seed: int = 7) -> VenueFactory:
    """A factory of the PaperVenue with these settings, filters, fault plan and seed."""
    def build(gate: HaltGate, market: MarketData) -> Venue:
        return PaperVenue(gate, market, settings, dict(filters or {}), seed, faults=faults)
    return build


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """One parent's run as the database holds it: the parent, its children (in creation order),
    its fills (oldest first); ``ended`` is False when the deadline came first."""

    session_id: str
    parent: ParentOrder
    children: list[ChildOrder]
    fills: list[Fill]
    ticks: int
    ended: bool

    @property
    def end_reason(self) -> str:
        """Why the parent ended ("filled", the algorithm's stop reason, a halt), "" if working."""
        return self.parent.end_reason or ""

    @property
    def ended_at(self) -> datetime | None:
        """When the parent ended (None if it did not)."""
        return self.parent.ended_at

    @property
    def rejects(self) -> list[str]:
        """Reasons of the children denied by risk or rejected by the venue, in order."""
        return [c.reason or "" for c in self.children if c.state is ChildState.REJECTED]


def _child_order(child: ChildOrder) -> tuple[datetime, int, str]:
    counter = child.client_order_id.rsplit("-", 1)[-1]
    return child.created_at, int(counter, 36) if counter.isalnum() else 0, child.client_order_id


class ExecutionHarness:
    """One isolated account on a TestClock (see the module docstring); close it after use."""

    def __init__(self, market: MarketData, *, start: datetime,
                 symbols: Iterable[str] | None = None, settings: Settings | None = None,
                 risk: RiskLimits | None = None, breakers: CircuitBreakerSettings | None = None,
                 venue: VenueFactory | None = None, holdings: Mapping[str, Decimal] | None = None,
                 cash: Decimal = BACKTEST_CASH, seed: int = 7,
                 database_url: str = "sqlite://", id_token: str = "h") -> None:
        """``settings`` is the base (its paper, breaker and other settings are kept); the run's
        own are laid over it: ``symbols`` (default the market's), ``seed``, ``risk`` (default
        BACKTEST_LIMITS), ``breakers`` if given, the database and the starting ``cash``. The
        venue (default a PaperVenue) is built on the harness's halt gate."""
        base = settings or Settings()
        self.clock = TestClock(start)
        self.market = market
        market.advance_to(start)
        funding = _funding_fills(market, holdings or {}, start)
        update: dict[str, Any] = {
            "database_url": database_url, "symbols": list(symbols or market.symbols),
            "seed": seed, "risk": risk or BACKTEST_LIMITS,
            "starting_balance": cash + sum((f.notional for f in funding), Decimal(0))}
        if breakers is not None:
            update["breakers"] = breakers
        self.settings = base.model_copy(update=update)
        self.database = Database(database_url)
        _create_schema(self.database)
        self.repository = Repository(self.database)
        self.gate = HaltGate()
        self.venue = (venue or paper_venue(self.settings.paper, seed=seed))(self.gate, market)
        balances = {self.settings.quote_asset: cash}
        for fill in funding:
            asset = split_symbol(fill.symbol)[0]
            balances[asset] = balances.get(asset, Decimal(0)) + fill.quantity
        self.venue.set_balances(balances)
        if funding:
            _record_funding(Journal(self.repository), funding, self.venue.name)
        self.engine = ExecutionEngine(settings=self.settings, clock=self.clock, market=market,
                                      venue=self.venue, repository=self.repository,
                                      gate=self.gate, ids=IdGenerator(id_token))
        self.engine.start()
        self.session_ids: list[str] = []
        self.ticks = 0

    @property
    def now(self) -> datetime:
        """The harness clock."""
        return self.clock.now()

    def submit(self, symbol: str, side: Side, quantity: Decimal, algo: AlgoName,
               duration_minutes: float, *, urgency: float = 0.5,
               limit_price: Decimal | None = None, algo_options: Mapping[str, Any] | None = None,
               session_kind: str = "backtest", actor: str = "harness") -> SubmitResult:
        """Submit one parent and tick once at the current time (it starts working then)."""
        reply = self.engine.enqueue(SubmitParentOrder(
            symbol=symbol, side=side, quantity=quantity, algo=algo,
            duration_minutes=duration_minutes, urgency=urgency, limit_price=limit_price,
            algo_options=dict(algo_options or {}), session_kind=session_kind, actor=actor))
        self.tick()
        result: SubmitResult = reply.result(timeout=0)
        self.session_ids.append(result.session_id)
        return result

    def tick(self) -> None:
        """One engine tick at the current time (no snapshot published)."""
        self.engine.tick(publish=False)
        self.ticks += 1

    def run(self, session_id: str, *, until: datetime,
            tick: timedelta = timedelta(milliseconds=250),
            script: Iterable[ScriptedCommand] = (),
            observe: Callable[[ExecutionHarness], None] | None = None,
            check_every: timedelta = timedelta(seconds=30)) -> bool:
        """Advance the clock by ``tick`` and tick until ``session_id`` has ended or ``until``;
        scripted commands are enqueued once their time has come, ``observe`` runs after each
        tick. Returns True if the session ended. The end is read from the database every
        ``check_every`` of market time (the parent's own end time is exact either way)."""
        pending = sorted(script, key=lambda item: item[0])
        next_check = self.now + check_every
        while self.now < until:
            self.clock.advance(tick)
            now = self.now
            while pending and pending[0][0] <= now:
                self.engine.enqueue(pending.pop(0)[1])
            self.tick()
            if observe is not None:
                observe(self)
            if now >= next_check and not self._working(session_id):
                if self.session_ended(session_id):
                    return True
                next_check = now + check_every
        return self.session_ended(session_id)

    def _working(self, session_id: str) -> bool:
        """True while the engine still holds a parent of the session (no database read)."""
        return any(p.session_id == session_id for p in self.engine.parents.values())

    def session_ended(self, session_id: str) -> bool:
        """True once every parent of the session has ended and its children are settled."""
        row = self.repository.session(session_id)
        return row is not None and row.get("ended_at") is not None

    def parents(self, session_id: str) -> list[ParentOrder]:
        """The parents of a session as stored now."""
        return self.repository.parents_of_session(session_id)

    def result(self, session_id: str) -> ExecutionResult:
        """The session's (first) parent, its children and fills as stored now."""
        parents = self.parents(session_id)
        if not parents:
            raise KeyError(f"session {session_id} has no parent")
        parent = parents[0]
        children = sorted(self.repository.children_of([parent.parent_id]), key=_child_order)
        fills = self.repository.fills_for(parent_id=parent.parent_id)
        return ExecutionResult(session_id, parent, children, fills, self.ticks,
                               self.session_ended(session_id))

    def close(self) -> None:
        """Close the venue and the database."""
        self.venue.close()
        self.database.dispose()

    def __enter__(self) -> ExecutionHarness:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def run_parent(market: MarketData, *, symbol: str, side: Side, quantity: Decimal,
               algo: AlgoName, start: datetime, duration_minutes: float,
               urgency: float = 0.5, limit_price: Decimal | None = None,
               algo_options: Mapping[str, Any] | None = None, seed: int = 7,
               venue: VenueFactory | None = None, settings: Settings | None = None,
               risk: RiskLimits | None = None, breakers: CircuitBreakerSettings | None = None,
               holdings: Mapping[str, Decimal] | None = None,
               tick: timedelta = timedelta(milliseconds=250),
               max_duration: timedelta | None = None,
               script: Iterable[ScriptedCommand] = (),
               observe: Callable[[ExecutionHarness], None] | None = None) -> ExecutionResult:
    """Execute one parent from ``start`` through the real engine until its session ends (or
    ``max_duration``, default the window plus 30 minutes). ``holdings`` default: a sell starts
    holding what it sells, a buy nothing (the cash is ``BACKTEST_CASH``)."""
    if holdings is None:
        holdings = {symbol: quantity} if side is Side.SELL else {}
    limit = max_duration or timedelta(minutes=duration_minutes + 30)
    with ExecutionHarness(market, start=start, symbols=[symbol], settings=settings, risk=risk,
                          breakers=breakers, venue=venue, holdings=holdings,
                          seed=seed) as harness:
        submitted = harness.submit(symbol, side, quantity, algo, duration_minutes,
                                   urgency=urgency, limit_price=limit_price,
                                   algo_options=algo_options)
        harness.run(submitted.session_id, until=start + limit, tick=tick, script=script,
                    observe=observe)
        return harness.result(submitted.session_id)


# -- schema -------------------------------------------------------------------------------------

_SCHEMA_LOCK = threading.Lock()
_SCHEMA: list[sqlite3.Connection] = []  # the migrated template, once built


def _in_memory_sqlite(database: Database) -> bool:
    url = database.url
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _create_schema(database: Database) -> None:
    """Bring ``database`` to the migrated schema: an in-memory SQLite one is a page copy of a
    template migrated once per process, any other is migrated (Alembic costs ~40 ms a run)."""
    if not _in_memory_sqlite(database):
        database.migrate()
        return
    _copy_migrated_schema(database)


def _copy_migrated_schema(database: Database) -> None:
    """Copy the template into ``database`` with SQLite's backup API: the schema is the
    migrated one by construction (alembic_version included), at the cost of a page copy. The
    copy lands on the pooled connection of this thread, which an in-memory database keeps."""
    with _SCHEMA_LOCK:
        if not _SCHEMA:
            source = Database("sqlite://")
            try:
                source.migrate()
                template = sqlite3.connect(":memory:", check_same_thread=False)
                with source.engine.connect() as connection:
                    _driver(connection.connection.driver_connection).backup(template)
            finally:
                source.dispose()
            _SCHEMA.append(template)
        with database.engine.connect() as connection:
            _SCHEMA[0].backup(_driver(connection.connection.driver_connection))


def _driver(connection: Any) -> sqlite3.Connection:
    if not isinstance(connection, sqlite3.Connection):
        raise ConfigError(f"an in-memory SQLite database has no sqlite3 connection: "
                          f"{type(connection).__name__}")
    return connection


# -- holdings -----------------------------------------------------------------------------------

_FUNDING = "funding"


def _funding_fills(market: MarketData, holdings: Mapping[str, Decimal],
                   start: datetime) -> list[Fill]:
    """One buy per held symbol at the start mid, just before ``start``."""
    fills: list[Fill] = []
    at = start - timedelta(seconds=1)
    for symbol, quantity in sorted(holdings.items()):
        if quantity <= 0:
            continue
        try:
            price = market.quote(symbol).mid
        except MarketClosed as exc:
            raise ConfigError(f"holdings of {symbol} need a price at {start}") from exc
        fills.append(Fill(f"{_FUNDING}-{symbol}", f"{_FUNDING}-{symbol}", f"{_FUNDING}-{symbol}",
                          symbol, Side.BUY, price, quantity, Decimal(0), Liquidity.TAKER, at,
                          _FUNDING))
    return fills


def _record_funding(journal: Journal, fills: list[Fill], venue: str) -> None:
    """Write the funding session: one COMPLETED parent and one FILLED child per fill."""
    at = fills[0].ts
    journal.session({"session_id": _FUNDING, "kind": _FUNDING, "created_at": at,
                     "ended_at": at, "venue": venue, "actor": "harness", "targets": {},
                     "params": {}})
    for fill in fills:
        parent = ParentOrder(parent_id=fill.parent_id, session_id=_FUNDING, symbol=fill.symbol,
                             side=Side.BUY, quantity=fill.quantity, algo=AlgoName.MARKET,
                             created_at=at, duration_minutes=0.0,
                             algo_reason="holdings at the start of the run")
        parent.transition(ParentState.WORKING, at)
        parent.record_fill(fill)
        parent.transition(ParentState.COMPLETED, at, "filled")
        child = ChildOrder(client_order_id=fill.client_order_id, parent_id=fill.parent_id,
                           symbol=fill.symbol, side=Side.BUY, quantity=fill.quantity,
                           order_type=OrderType.MARKET, created_at=at, venue=venue,
                           updated_at=at)
        child.transition(ChildState.NEW, at)
        child.apply_fill(fill)
        journal.parent_created(parent)
        journal.child_created(child, _FUNDING)
        journal.fill(fill)
    journal.flush()
