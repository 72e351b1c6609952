"""Soak: memory over a long run. Rebalances through the real engine (paper venue, synthetic market,
SQLite file, TestClock, no scheduler) until about 20,000 children, with RSS sampled as it goes.

Each rebalance moves the three symbols between two sets of USD targets, alternating MARKET and
TWAP parents; children are capped at ``CHILD_NOTIONAL`` so one rebalance sends a few dozen. The
clock then pauses ``PAUSE`` before the next one, so market time passes too (about ten market
days for 20,000 children, well past the market's history bound). RSS (VmRSS) is read after a
garbage collection every ``SAMPLE_EVERY`` children once the warm-up is over: the first
``WARM_UP`` children (caches, the SQLite page cache and the allocator settle) and the first
``MARKET_WARM_UP`` of market time (until then the market is still filling the history it keeps;
a smaller run scales both down). A least-squares line of RSS against children then gives
``rss_mb_per_1000_children``: flat memory reads about 0. The sizes of the engine's main
in-memory collections at the end say which one grew, if something did.
"""

from __future__ import annotations

import gc
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from oms.commands import SubmitRebalance
from oms.config import CircuitBreakerSettings, PaperVenueSettings, RiskLimits, Settings
from oms.execution_harness import ExecutionHarness
from oms.market.base import HISTORY_HORIZON
from oms.market.synthetic import SyntheticMarket
from oms.model import AlgoName, TradingState
from oms.progress import Progress

__all__ = ["SoakRun", "measure", "rss_mb"]

START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
TARGETS = (  # USD per symbol; consecutive rebalances alternate between them
    {"BTCUSDT": Decimal(40_000), "ETHUSDT": Decimal(10_000), "SOLUSDT": Decimal(25_000)},
    {"BTCUSDT": Decimal(10_000), "ETHUSDT": Decimal(35_000), "SOLUSDT": Decimal(5_000)},
)
ALGOS = (AlgoName.MARKET, AlgoName.TWAP)
CHILD_NOTIONAL = Decimal(2_000)  # max_order_notional_usd: the algorithms split to this size
TWAP_MINUTES = 4.0
TICK = timedelta(seconds=2)
PAUSE = timedelta(minutes=30)
WARM_UP = 2_000
MARKET_WARM_UP = HISTORY_HORIZON + timedelta(days=1)  # the market holds the most from then on
FULL_RUN = 20_000  # the run the warm-ups are sized for
SAMPLE_EVERY = 500
_DEADLINE = timedelta(minutes=30)  # a rebalance still working after this is an error

_LIMITS = RiskLimits(max_position_usd=Decimal(10**12), max_gross_exposure_usd=Decimal(10**12),
                     max_daily_loss_usd=Decimal(10**12), max_orders_per_minute=10**9,
                     max_order_notional_usd=CHILD_NOTIONAL, duplicate_window_s=0.001,
                     max_target_usd=Decimal(10**9))
# The clock jumps PAUSE between rebalances, so a mid move between two ticks is that of half an
# hour, not of one live tick: market stress is still counted (its window fills and empties), but
# only a move of 20 % trips it. The other breakers keep the product's defaults.
_BREAKERS = CircuitBreakerSettings.model_validate({"market_stress": {"threshold": 2_000.0}})


def rss_mb() -> float:
    """Resident set size of this process in MB (VmRSS of /proc/self/status; 0.0 elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def _slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of y against x (None with fewer than two distinct x)."""
    if len({x for x, _ in points}) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx


class SoakRun:
    """One soak: ``run()`` drives the rebalances and returns the figures."""

    def __init__(self, children: int = FULL_RUN, *, warm_up: int | None = None,
                 market_warm_up: timedelta | None = None, sample_every: int | None = None,
                 progress: bool = True, seed: int = 7) -> None:
        """``warm_up``, ``market_warm_up`` and ``sample_every`` default to WARM_UP,
        MARKET_WARM_UP and SAMPLE_EVERY, scaled down for a run smaller than FULL_RUN."""
        self.target = children
        scale = min(1.0, children / FULL_RUN)
        self.warm_up = warm_up if warm_up is not None else min(WARM_UP, children // 10)
        self.market_warm_up = (market_warm_up if market_warm_up is not None
                               else MARKET_WARM_UP * scale)
        self.sample_every = max(1, sample_every if sample_every is not None
                                else min(SAMPLE_EVERY, children // 40))
        self.progress = progress
        self.seed = seed
        self.samples: list[tuple[int, float]] = []

    def run(self) -> dict[str, Any]:
        """Rebalance until ``children`` have been written; the figures as one JSON object."""
        settings = Settings(paper=PaperVenueSettings(latency_ms=0.0, latency_jitter_ms=0.0,
                                                     max_open_orders=100_000))
        market = SyntheticMarket(list(SYMBOLS), START, seed=self.seed)
        with tempfile.TemporaryDirectory() as tmp, ExecutionHarness(
                market, start=START, symbols=SYMBOLS, settings=settings, risk=_LIMITS,
                breakers=_BREAKERS, seed=self.seed,
                database_url=f"sqlite:///{Path(tmp) / 'soak.db'}", id_token="k") as harness:
            started = time.perf_counter()
            rebalances = self._drive(harness)
            wall_s = time.perf_counter() - started
            figures = self._figures(harness, market, rebalances, wall_s)
        return figures

    def _drive(self, harness: ExecutionHarness) -> int:
        engine = harness.engine
        next_sample = self.warm_up
        rebalances = 0
        with Progress("soak children", self.target, enabled=self.progress) as bar:
            while engine.journal.children_written < self.target:
                self._rebalance(harness, rebalances)
                rebalances += 1
                written = engine.journal.children_written
                bar.set(written)
                if written >= next_sample and harness.now - START >= self.market_warm_up:
                    gc.collect()
                    self.samples.append((written, rss_mb()))
                    next_sample = written + self.sample_every
                harness.clock.advance(PAUSE)
                harness.tick()
        return rebalances

    def _rebalance(self, harness: ExecutionHarness, number: int) -> None:
        """Submit one rebalance and tick until every parent of its session has retired."""
        engine = harness.engine
        reply = engine.enqueue(SubmitRebalance(
            targets=dict(TARGETS[number % len(TARGETS)]), algo=ALGOS[number % len(ALGOS)],
            duration_minutes=TWAP_MINUTES, urgency=0.5, actor="soak"))
        harness.tick()
        session_id = reply.result(timeout=0).session_id
        deadline = harness.now + _DEADLINE
        while any(p.session_id == session_id for p in engine.parents.values()):
            if harness.now >= deadline:
                raise RuntimeError(f"rebalance {number} still working after {_DEADLINE}")
            harness.clock.advance(TICK)
            harness.tick()
        if engine.risk.trading_state is not TradingState.ACTIVE:
            raise RuntimeError(f"trading is {engine.risk.trading_state.value} after rebalance "
                               f"{number}; a soak needs an ACTIVE account")

    def _figures(self, harness: ExecutionHarness, market: SyntheticMarket, rebalances: int,
                 wall_s: float) -> dict[str, Any]:
        engine = harness.engine
        gc.collect()
        written = engine.journal.children_written
        if not self.samples or self.samples[-1][0] != written:
            self.samples.append((written, rss_mb()))
        slope = _slope(self.samples)
        return {
            "children": written,
            "rebalances": rebalances,
            "market_hours": round((harness.now - START) / timedelta(hours=1), 1),
            "wall_s": round(wall_s, 1),
            "children_per_s": round(written / wall_s, 1) if wall_s > 0 else None,
            "warm_up_children": self.warm_up,
            "warm_up_market_hours": round(self.market_warm_up / timedelta(hours=1), 1),
            "rss_start_mb": round(self.samples[0][1], 1),
            "rss_end_mb": round(self.samples[-1][1], 1),
            "rss_mb_per_1000_children": None if slope is None else round(slope * 1000, 3),
            "rss_samples": [[c, round(mb, 1)] for c, mb in self.samples],
            "sizes": {
                "order_book": engine.book.sizes(),
                "risk_windows": engine.risk.pretrade.windows.sizes(),
                "paper_venue": _paper_sizes(harness.venue),
                "market_retained_bars": market.retained_bars(),
            },
        }


def _paper_sizes(venue: object) -> dict[str, int]:
    """Entries in the paper venue's order maps and queues. They are private (its store, or the
    venue itself before it had one); a soak reads them only to attribute a growth."""
    holder = getattr(venue, "_store", venue)
    sizes: dict[str, int] = {}
    for name in ("orders", "pending", "resting", "actions", "outbox", "finished", "_written"):
        for attribute in (name, f"_{name}"):
            value = getattr(holder, attribute, None)
            if value is not None and hasattr(value, "__len__"):
                sizes[name.lstrip("_")] = len(value)
                break
    return sizes


def measure(children: int = 20_000, *, progress: bool = True) -> dict[str, Any]:
    """The soak figures of one run of about ``children`` children."""
    return {"soak": SoakRun(children, progress=progress).run()}


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
