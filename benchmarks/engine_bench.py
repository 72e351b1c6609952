"""Engine throughput: market child orders through pre-trade risk, the paper venue, fills and
persistence to a SQLite file (or the database ``database_url`` names), in a TestClock loop (no
scheduler).

``run`` is the parametrised runner (total children, and how many parents work at once per
symbol); ``run_once`` and ``measure`` are the figure ``oms bench`` reports, all parents
submitted at once. ``benchmarks/scaling_bench.py`` varies both on the same runner.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from oms.bootstrap import build_market
from oms.commands import SubmitParentOrder
from oms.config import PaperVenueSettings, RiskLimits, Settings
from oms.engine import ExecutionEngine, SubmitResult
from oms.execution_harness import ExecutionHarness
from oms.model import AlgoName, Side
from oms.progress import Progress
from oms.venues.paper_state import DEFAULT_SPOT_FILTERS

__all__ = ["SLICES", "EngineRun", "measure", "run", "run_once"]

START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
TICK = timedelta(seconds=1)


def _settings() -> Settings:
    return Settings(paper=PaperVenueSettings(latency_ms=0.0, latency_jitter_ms=0.0,
                                             max_open_orders=100_000))


_LIMITS = RiskLimits(max_position_usd=Decimal(10**12), max_gross_exposure_usd=Decimal(10**12),
                     max_daily_loss_usd=Decimal(10**12), max_orders_per_minute=10**9,
                     max_order_notional_usd=Decimal(10**9), duplicate_window_s=0.001)
_QUANTITY = {"BTCUSDT": Decimal("0.02"), "ETHUSDT": Decimal("0.4"), "SOLUSDT": Decimal("10")}
SLICES = 20


@dataclass(frozen=True)
class EngineRun:
    """What one run pushed through the engine, and in how much wall time."""

    children: int  # filled children (the funding children excluded)
    parents: int
    elapsed_s: float
    ticks: int
    peak_parents_per_symbol: int  # the most parents of one symbol working at once
    # wall time, after the last parent retired, to build the execution reports still queued
    # (the engine builds two a tick; None: not drained, that work stays outside the figure)
    report_drain_s: float | None = None

    @property
    def children_per_s(self) -> float:
        """Filled children per wall-clock second."""
        return self.children / self.elapsed_s

    @property
    def us_per_child(self) -> float:
        """Wall-clock microseconds per filled child."""
        return self.elapsed_s * 1e6 / self.children

    @property
    def us_per_child_with_reports(self) -> float | None:
        """The same with the queued execution reports drained (None if they were not)."""
        if self.report_drain_s is None:
            return None
        return (self.elapsed_s + self.report_drain_s) * 1e6 / self.children


class _ParentPlan:
    """The run's parents: parent ``i`` trades ``symbols[i % n]``, buys on even ``i``, sells on
    odd ones, with a quantity distinct per parent (identical children of different parents at
    one instant are duplicates that risk denies), so every slice of every parent differs."""

    def __init__(self, symbols: Sequence[str], parents: int) -> None:
        self.symbols = tuple(symbols)
        self.parents = parents
        self._steps = {s: DEFAULT_SPOT_FILTERS[s].step_size for s in self.symbols}

    def symbol(self, i: int) -> str:
        return self.symbols[i % len(self.symbols)]

    def quantity(self, i: int) -> Decimal:
        symbol = self.symbol(i)
        return _QUANTITY[symbol] + (i // len(self.symbols)) * SLICES * self._steps[symbol]

    def command(self, i: int) -> SubmitParentOrder:
        return SubmitParentOrder(
            self.symbol(i), Side.BUY if i % 2 == 0 else Side.SELL, self.quantity(i),
            AlgoName.TWAP, duration_minutes=1,
            algo_options={"slices": SLICES, "placement": "aggressive"})

    def holdings(self) -> dict[str, Decimal]:
        """Base quantity per symbol bought before the run, so that every sell is covered
        (spot is spot)."""
        held = dict.fromkeys(self.symbols, Decimal(0))
        for i in range(self.parents):
            held[self.symbol(i)] += self.quantity(i)
        return held


class _Feeder:
    """Keeps ``per_symbol`` parents of each symbol working (None: every parent at once),
    submitting the next one of a symbol as soon as one of its parents retires."""

    def __init__(self, engine: ExecutionEngine, plan: _ParentPlan,
                 per_symbol: int | None) -> None:
        self._engine = engine
        self._plan = plan
        self._limit = per_symbol if per_symbol is not None else plan.parents
        self._queues = {s: [i for i in range(plan.parents - 1, -1, -1) if plan.symbol(i) == s]
                        for s in plan.symbols}  # reversed: pop() takes the lowest index
        self._replies: dict[str, list[Future[Any]]] = {s: [] for s in plan.symbols}
        self._working: dict[str, list[str]] = {s: [] for s in plan.symbols}
        self.peak = 0

    @property
    def exhausted(self) -> bool:
        """Every parent submitted and answered."""
        return not any(self._queues.values()) and not any(self._replies.values())

    def top_up(self) -> None:
        """Submit parents until each symbol has its quota working (or has none left)."""
        if self.exhausted:
            return
        parents = self._engine.parents
        for symbol, queue in self._queues.items():
            replies = self._replies[symbol]
            working = self._working[symbol]
            answered = [r for r in replies if r.done()]
            replies[:] = [r for r in replies if not r.done()]
            for reply in answered:
                result: SubmitResult = reply.result(timeout=0)
                working.extend(result.parent_ids)
            working[:] = [p for p in working if p in parents]
            while queue and len(working) + len(replies) < self._limit:
                replies.append(self._engine.enqueue(self._plan.command(queue.pop())))
            self.peak = max(self.peak, len(working) + len(replies))


def run(children: int = 20_000, *, parents_per_symbol: int | None = None,
        drain_reports: bool = False, progress: bool = True,
        label: str = "engine children", database_url: str | None = None) -> EngineRun:
    """About ``children`` market children (20-slice one-minute TWAPs, buys and sells, the sells
    from holdings bought before the run), with at most ``parents_per_symbol`` parents of each
    symbol working at once (None: all submitted before the first tick). ``drain_reports``
    then ticks on until every session's execution report is built, timed apart.
    ``database_url``: an empty database to migrate and write (default a new SQLite file)."""
    if children < SLICES:
        raise ValueError(f"children={children} is fewer than one parent ({SLICES} slices)")
    if parents_per_symbol is not None and parents_per_symbol < 1:
        raise ValueError(f"parents_per_symbol={parents_per_symbol} must be at least 1")
    settings = _settings()
    market = build_market(settings, START)
    plan = _ParentPlan(settings.symbols, children // SLICES)
    holdings = plan.holdings()
    per_symbol = -(-plan.parents // len(plan.symbols))
    waves = -(-per_symbol // (parents_per_symbol or per_symbol))
    deadline_ticks = int((timedelta(minutes=10 + 2 * (waves - 1))) / TICK)
    with tempfile.TemporaryDirectory() as tmp, ExecutionHarness(
            market, start=START, symbols=plan.symbols, settings=settings, risk=_LIMITS,
            holdings=holdings,
            database_url=database_url or f"sqlite:///{Path(tmp) / 'bench.db'}",
            id_token="b") as harness:
        engine = harness.engine
        feeder = _Feeder(engine, plan, parents_per_symbol)
        feeder.top_up()  # every parent at once, or the first quota of each symbol
        ticks = 0
        started = time.perf_counter()
        with Progress(label, children, enabled=progress) as bar:
            while ticks < deadline_ticks:
                harness.clock.advance(TICK)
                engine.tick()
                ticks += 1
                bar.set(engine.journal.children_written)
                feeder.top_up()
                if feeder.exhausted and not engine.parents:
                    break
            elapsed = time.perf_counter() - started
        ended = feeder.exhausted and not engine.parents
        report_drain_s = _drain_reports(harness, deadline_ticks) if drain_reports else None
        filled = harness.repository.children_page(page_size=1, state="FILLED").total
        filled -= sum(1 for held in holdings.values() if held > 0)  # the funding children
    # every parent must end; a final cross that risk denies as a duplicate of another parent's
    # identical child (same symbol, side and quantity at one instant) stays unfilled
    if not ended:
        raise RuntimeError(f"parents still working after {deadline_ticks * TICK} of market time")
    return EngineRun(children=filled, parents=plan.parents, elapsed_s=elapsed, ticks=ticks,
                     peak_parents_per_symbol=feeder.peak, report_drain_s=report_drain_s)


def _drain_reports(harness: ExecutionHarness, max_ticks: int) -> float:
    """Tick until the engine has no execution report left to build; the wall time it took."""
    engine = harness.engine
    started = time.perf_counter()
    for _ in range(max_ticks):
        if not engine.reports.pending:
            break
        harness.clock.advance(TICK)
        engine.tick()
    if engine.reports.pending:
        raise RuntimeError(f"execution reports still queued after {max_ticks} more ticks")
    return time.perf_counter() - started


def run_once(children: int = 20_000, progress: bool = True, *,
             database_url: str | None = None) -> float:
    """Filled children per second of one ``run`` with every parent submitted at once."""
    return run(children, progress=progress, database_url=database_url).children_per_s


def measure(quick: bool = False, repeats: int = 3) -> dict[str, float]:
    """Median children/s over ``repeats`` runs."""
    children = 2_000 if quick else 20_000
    runs = [run_once(children) for _ in range(1 if quick else repeats)]
    return {"engine_child_orders_per_s": round(statistics.median(runs), 1)}


if __name__ == "__main__":
    print(measure())
