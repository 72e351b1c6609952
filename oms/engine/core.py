"""ExecutionEngine: the single writer of OMS state; wires the parts and runs the tick.

One ``tick()``: advance the market, drain commands, apply venue events, run the algorithms,
check every new child against pre-trade risk, commit the new children, send them, end finished
parents, write the journal and publish an immutable snapshot. The runtime calls ``tick`` from one
APScheduler job; backtests call it in a plain loop on a TestClock.

The parts never import this module: the OrderBook owns the order state, OrderLifecycle applies
its changes, Dispatcher sends, CommandHandler answers commands (and holds the one halt), RiskGuard
checks and feeds the breakers and returns its decisions, which the tick applies.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Mapping
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.algos.base import ExecutionAlgo
from oms.clock import Clock
from oms.commands import Command
from oms.config import Settings
from oms.engine.book import OrderBook, Pending
from oms.engine.commands import CommandHandler, CommandSource
from oms.engine.dispatch import Dispatcher
from oms.engine.history import EquitySampler
from oms.engine.lifecycle import OrderLifecycle
from oms.engine.planning import plan_inputs
from oms.engine.quotes import QuoteBoard
from oms.engine.reconcile import Reconciler, reconcile_interval
from oms.engine.reconcile_actions import MismatchResolver
from oms.engine.recovery import CLOCK_KEY, recover
from oms.engine.reports import ReportBuilder
from oms.engine.resubmit import Resubmitter
from oms.engine.risk_guard import RiskGuard
from oms.engine.routing import routing_for
from oms.engine.sessions import SessionDesk
from oms.engine.signals import SignalDesk
from oms.engine.snapshot import build_snapshot
from oms.journal import Journal
from oms.market.base import MarketData
from oms.market.types import Quote
from oms.model import Account, ChildOrder, ChildState, IdGenerator, ParentOrder, ParentState
from oms.persistence.repository import Repository
from oms.rebalance import PlanInputs
from oms.risk.halt import HaltGate
from oms.snapshot import EngineSnapshot
from oms.venues.base import Venue

__all__ = ["MAX_TICK_FAILURES", "ExecutionEngine"]

log = logging.getLogger(__name__)

MAX_TICK_FAILURES = 3  # consecutive failed ticks before the engine halts trading
CLOCK_EVERY = timedelta(minutes=1)  # the market time is recorded at least this often


class ExecutionEngine:
    """Owns the parts of one account's engine; only ``tick`` mutates their state."""

    def __init__(self, *, settings: Settings, clock: Clock, market: MarketData, venue: Venue,
                 repository: Repository, gate: HaltGate, ids: IdGenerator | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.market = market
        self.venue = venue
        self.repository = repository
        self.gate = gate
        self.ids = ids or IdGenerator()
        self.journal = Journal(repository)
        self.journal.state_sources.append(venue.state_changes)
        self.account = Account(cash=settings.starting_balance)
        self.book = OrderBook()
        self.board = QuoteBoard()
        self.tick_count = 0
        self.last_error: str | None = None
        self.failures = 0
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        #: drained by each tick after the in-process queue (oms.cluster.source: command rows)
        self.command_sources: list[CommandSource] = []
        self.lifecycle = OrderLifecycle(book=self.book, journal=self.journal, venue=venue,
                                        quotes=self.board, market=market, account=self.account,
                                        ids=self.ids)
        self.risk = RiskGuard(settings=settings, gate=gate, account=self.account,
                              quotes=self.board, book=self.book, filters=venue.filters,
                              journal=self.journal, clock=clock)
        self.lifecycle.risk = self.risk
        self.dispatcher = Dispatcher(lifecycle=self.lifecycle, journal=self.journal, venue=venue)
        self.dispatcher.risk = self.risk
        self.routing = routing_for(venue, settings.routing, quotes=self.board, book=self.book,
                                   quote_asset=settings.quote_asset)
        if self.routing is not None:  # several venues: the router, fed every fill
            self.dispatcher.routing = self.routing
            self.lifecycle.fill_taps.append(self.routing.on_fill)
        self.reports = ReportBuilder(repository=repository, journal=self.journal, market=market,
                                     venue_name=venue.name,
                                     trading_state=lambda: self.risk.trading_state.value)
        self.sessions = SessionDesk(settings=settings, ids=self.ids, journal=self.journal,
                                    quotes=self.board, lifecycle=self.lifecycle,
                                    venue_name=venue.name,
                                    trading_state=lambda: self.risk.trading_state,
                                    on_session_ended=self.reports.session_ended)
        self.signals = SignalDesk(sessions=self.sessions, quotes=self.board, book=self.book,
                                  filters=venue.filters,
                                  position=lambda s: self.account.position(s).quantity,
                                  min_notional=settings.min_notional,
                                  equity=lambda: self.account.equity(self.board.mids()),
                                  bars=market.bars, sizing=settings.sizing,
                                  cap_usd=min(settings.risk.max_position_usd,
                                              settings.risk.max_order_notional_usd))
        self.lifecycle.fill_listeners.append(self.signals.on_fill)
        self.lifecycle.parent_end_listeners.append(self.signals.on_parent_ended)
        self.reconciler = Reconciler(
            interval=reconcile_interval(settings), book=self.book, account=self.account,
            venue=venue, filters=venue.filters, quote_asset=settings.quote_asset,
            symbols=settings.symbols, new_id=lambda: self.ids.next("rc"),
            # the paper account is the OMS's at start; a set of venues, like a live venue,
            # takes its first comparison as the baseline (funded "each", it holds a multiple)
            zero_baseline=settings.venue == "paper" and self.routing is None)
        resolver = MismatchResolver(reconciler=self.reconciler, book=self.book,
                                    lifecycle=self.lifecycle, sessions=self.sessions,
                                    venue=venue, journal=self.journal, ids=self.ids,
                                    repository=repository, symbols=settings.symbols)
        self.handler = CommandHandler(book=self.book, lifecycle=self.lifecycle,
                                      sessions=self.sessions, signals=self.signals,
                                      journal=self.journal, gate=gate, risk=self.risk,
                                      plan_inputs=self.plan_inputs, reconcile=resolver,
                                      resubmitter=Resubmitter(book=self.book,
                                                              sessions=self.sessions,
                                                              journal=self.journal,
                                                              records=repository))
        self._snapshot: EngineSnapshot | None = None
        self._started = False
        self._clock_written: datetime | None = None
        self._writes_seen = 0
        self._equity: EquitySampler | None = None  # from start(): samples carry the start time

    # -- thread-safe entry points -------------------------------------------------------

    def enqueue(self, command: Command) -> Future[Any]:
        """Queue a command for the next tick; its ``reply`` future carries the answer."""
        self._commands.put(command)
        return command.reply

    def queued_commands(self) -> int:
        """Commands waiting for the next tick (approximate while other threads enqueue)."""
        return self._commands.qsize()

    @property
    def snapshot(self) -> EngineSnapshot:
        """The latest published snapshot (an immutable object; reading it is thread-safe)."""
        snapshot = self._snapshot
        return snapshot if snapshot is not None else self._build_snapshot(self.clock.now())

    # -- read-only views for tests, benchmarks and tools ----------------------------------

    @property
    def parents(self) -> Mapping[str, ParentOrder]:
        """Parents not yet retired."""
        return self.book.parents

    @property
    def open_children(self) -> Mapping[str, ChildOrder]:
        """Children that may still fill."""
        return self.book.open_children

    @property
    def quotes(self) -> Mapping[str, Quote]:
        """This tick's quotes."""
        return self.board.quotes

    def mid(self, symbol: str) -> Decimal | None:
        """Mid price of ``symbol`` this tick, or None when its market is closed."""
        return self.board.mid(symbol)

    def plan_inputs(self, symbols: list[str] | None = None) -> PlanInputs:
        """What a rebalance plans against now (the snapshot carries the same for previews)."""
        return plan_inputs(book=self.book, account=self.account, quotes=self.board,
                           filters=self.venue.filters, settings=self.settings,
                           symbols=symbols if symbols is not None else self.settings.symbols)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Recover state from the database (positions, halt, orders left by a previous run)."""
        if self._started:
            return
        self._started = True
        now = self.clock.now()
        resumes = recover(repository=self.repository, journal=self.journal,
                          account=self.account, book=self.book, venue=self.venue, gate=self.gate,
                          state=self.risk.state, breakers=self.risk.breakers,
                          quote_asset=self.settings.quote_asset, mode=self.settings.recovery,
                          now=now)
        self.market.advance_to(now)
        self.board.refresh(self.market)
        self._equity = EquitySampler(now, timedelta(seconds=self.settings.equity_sample_s))
        self.signals.restore(self.repository.open_signal_entries())  # owed automatic exits
        if self.routing is not None:  # what each venue holds, from the fills naming it
            self.routing.rebuild(self.repository.load_fills())
        for resume in resumes:  # re-planned with this instant's quotes, sent by the first tick
            ctx = self.lifecycle.context(resume.parent, now)
            self.book.defer(resume.parent, resume.algo.resume(ctx, resume.history))
        self._snapshot = self._build_snapshot(now)

    def tick(self, *, publish: bool = True, at: datetime | None = None,
             reports: bool = True) -> EngineSnapshot:
        """Run one engine step at ``at`` (default: the clock's now) and publish its snapshot
        (sub-steps and backtests may skip publishing; the previous snapshot is returned then),
        then build queued execution reports unless ``reports`` is False (a sub-step).

        A failing tick never wedges the engine: the error is shown, and after
        MAX_TICK_FAILURES failures in a row trading is HALTED with the error as the reason.
        """
        if not self._started:
            self.start()
        now = at or self.clock.now()
        try:
            self._step(now)
            self.last_error = None
            self.failures = 0
        except Exception as exc:  # keep running; the snapshot shows the error
            self._failed(exc, now)
        finally:
            self.handler.answer()  # after the commit (or the failure): effects are readable
        self.tick_count += 1
        if publish or self._snapshot is None:
            self._snapshot = self._build_snapshot(now)
        if reports:
            self._build_reports(now)
        return self._snapshot

    def _build_reports(self, now: datetime) -> None:
        """Queued execution reports, once the tick's snapshot is out: building one takes a few
        queries, and it must never delay what the tick changed (a kill's HALTED, a command's
        effect) from being shown."""
        if not self.reports.pending:
            return
        try:
            self.reports.build_pending(busy=self._cancels_in_flight(), now=now)
            self.journal.flush()
        except Exception as exc:  # keep running, as for the tick itself
            self._failed(exc, now)

    def _step(self, now: datetime) -> None:
        self.market.advance_to(now)
        self.board.refresh(self.market)
        self.risk.on_tick(now)
        self._apply_risk_decisions(now)
        self._drain_commands(now)
        self.signals.on_tick(now)
        self.lifecycle.apply_events(self.venue.poll(now), now)
        self.lifecycle.retry_cancels(now)
        self._apply_risk_decisions(now)
        if now >= self.reconciler.due_at:  # running reconciliation: one comparison unless due
            self.risk.on_reconcile(self.reconciler.run(now), now)
            self._apply_risk_decisions(now)
        self.dispatcher.dispatch(self._run_algos(now), now)
        self._apply_risk_decisions(now)
        for session_id in self.lifecycle.end_finished_parents(now):
            self.sessions.session_finished(session_id, now)
        self._record_equity(now)
        self._record_clock(now)
        self.journal.flush()
        self.handler.answer()

    def _cancels_in_flight(self) -> bool:
        """True while a cancel waits for the venue's confirmation (a kill's, say)."""
        return any(c.state is ChildState.PENDING_CANCEL for c in self.book.open_children.values())

    def _record_clock(self, now: datetime) -> None:
        """Record the market time in every tick that writes, and at least once a minute of it,
        so that a restart resumes the market where it stood (``oms.bootstrap``), never before
        a recorded event, and can state the gap."""
        journal = self.journal
        if journal.pending or journal.writes != self._writes_seen or (
                self._clock_written is None or now - self._clock_written >= CLOCK_EVERY):
            self.journal.state("engine_state", CLOCK_KEY, {
                "key": CLOCK_KEY, "updated_at": now, "value": {
                    "market_time": now.isoformat(),
                    "wall_time": datetime.now(UTC).isoformat()}})
            self._clock_written = now
            self._writes_seen = journal.writes + 1  # the flush that follows writes it

    def _record_equity(self, now: datetime) -> None:
        """Sample equity and P&L into the tick's transaction (the overview's history survives
        page loads and restarts), and thin the old samples when due (oms.engine.history)."""
        sampler = self._equity
        if sampler is None or not sampler.due(now):  # most ticks: no valuation at all
            return
        equity = self.account.equity(self.board.mids())
        row = sampler.sample(now, equity=equity, cash=self.account.cash,
                             pnl=equity - self.settings.starting_balance)
        if row is None:
            return
        self.journal.equity_sample(row)
        prune = sampler.prune(now)
        if prune is not None:
            self.journal.prune_equity(prune)

    def _failed(self, exc: Exception, now: datetime) -> None:
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.exception("engine tick failed (%d in a row)", self.failures)
        if self.failures < MAX_TICK_FAILURES or self.gate.is_halted:
            return
        reason = f"engine tick failed {self.failures} times in a row: {self.last_error}"
        try:
            self.handler.halt(reason, "engine", now)
            self.journal.flush()
        except Exception:  # the gate is closed whatever happens to the rows
            self.gate.halt(reason, now)
            log.exception("could not record the engine halt")

    def _apply_risk_decisions(self, now: datetime) -> None:
        """Apply what risk decided (a breaker trip halting the account), at a point of the tick
        where every event has been applied whole."""
        for halt in self.risk.take_halts():
            self.handler.halt(halt.reason, halt.actor, now)

    def _drain_commands(self, now: datetime) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            self.handler.handle(command, now)
            self._apply_risk_decisions(now)
        for source in self.command_sources:
            for command in source.take(now):
                self.handler.handle(command, now)
                self._apply_risk_decisions(now)

    def _run_algos(self, now: datetime) -> list[Pending]:
        intents = self.book.take_deferred()
        for parent in list(self.book.parents.values()):
            if parent.state is not ParentState.WORKING:
                continue
            algo: ExecutionAlgo | None = self.book.algo(parent.parent_id)
            if algo is None or (algo.wake_at is not None and now < algo.wake_at):
                continue  # asleep: nothing it could do is due before its wake-up time
            ctx = self.lifecycle.context(parent, now)
            for intent in algo.on_market_data(ctx) + algo.on_timer(ctx):
                intents.append((parent, intent))
        return intents

    def _build_snapshot(self, now: datetime) -> EngineSnapshot:
        return build_snapshot(
            book=self.book, account=self.account, quotes=self.board, risk=self.risk,
            settings=self.settings, now=now, tick=self.tick_count, venue=self.venue.name,
            venue_status=self.venue.status_text(), halt_reason=self.gate.reason,
            market_symbols=list(self.market.symbols), last_error=self.last_error,
            plan_inputs=self.plan_inputs(), reconciliation=self.reconciler.view(),
            executions=self.lifecycle.counters.freeze(),
            venues=self.routing.views(now) if self.routing is not None else ())
