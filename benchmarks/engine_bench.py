"""Engine throughput: market child orders through pre-trade risk, the paper venue, fills and
persistence to a SQLite file, in a TestClock loop (no scheduler)."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from oms.bootstrap import build_market
from oms.commands import SubmitParentOrder
from oms.config import PaperVenueSettings, RiskLimits, Settings
from oms.execution_harness import ExecutionHarness
from oms.model import AlgoName, Side
from oms.progress import Progress
from oms.venues.paper_state import DEFAULT_SPOT_FILTERS

__all__ = ["measure", "run_once"]

START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


def _settings() -> Settings:
    return Settings(paper=PaperVenueSettings(latency_ms=0.0, latency_jitter_ms=0.0,
                                             max_open_orders=100_000))


_LIMITS = RiskLimits(max_position_usd=Decimal(10**12), max_gross_exposure_usd=Decimal(10**12),
                     max_daily_loss_usd=Decimal(10**12), max_orders_per_minute=10**9,
                     max_order_notional_usd=Decimal(10**9), duplicate_window_s=0.001)
_QUANTITY = {"BTCUSDT": Decimal("0.02"), "ETHUSDT": Decimal("0.4"), "SOLUSDT": Decimal("10")}
SLICES = 20


def run_once(children: int = 20_000, progress: bool = True) -> float:
    """About ``children`` market children (20-slice one-minute TWAPs, buys and sells, the
    sells from holdings bought before the run: spot is spot); filled children per second."""
    parents = children // SLICES
    settings = _settings()
    market = build_market(settings, START)
    symbols = settings.symbols
    steps = {s: DEFAULT_SPOT_FILTERS[s].step_size for s in symbols}

    def quantity(i: int) -> Decimal:
        # distinct per parent (identical children of different parents at one instant are
        # duplicates that risk denies), so every slice of every parent differs
        symbol = symbols[i % len(symbols)]
        return _QUANTITY[symbol] + (i // len(symbols)) * SLICES * steps[symbol]

    holdings = {s: sum((quantity(i) for i in range(parents) if symbols[i % len(symbols)] == s),
                       Decimal(0)) for s in symbols}
    with tempfile.TemporaryDirectory() as tmp, ExecutionHarness(
            market, start=START, symbols=symbols, settings=settings, risk=_LIMITS,
            holdings=holdings, database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            id_token="b") as harness:
        engine = harness.engine
        for i in range(parents):
            symbol = symbols[i % len(symbols)]
            engine.enqueue(SubmitParentOrder(
                symbol, Side.BUY if i % 2 == 0 else Side.SELL, quantity(i),
                AlgoName.TWAP, duration_minutes=1,
                algo_options={"slices": SLICES, "placement": "aggressive"}))
        started = time.perf_counter()
        with Progress("engine children", children, enabled=progress) as bar:
            for _ in range(10 * 60):
                harness.clock.advance(timedelta(seconds=1))
                engine.tick()
                bar.set(engine.journal.children_written)
                if not engine.parents:
                    break
            elapsed = time.perf_counter() - started
        ended = not engine.parents
        filled = harness.repository.children_page(page_size=1, state="FILLED").total
        filled -= len(holdings)  # the funding children
    # every parent must end; a final cross that risk denies as a duplicate of another parent's
    # identical child (same symbol, side and quantity at one instant) stays unfilled
    if not ended:
        raise RuntimeError("parents still working after 10 minutes of market time")
    return filled / elapsed


def measure(quick: bool = False, repeats: int = 3) -> dict[str, float]:
    """Median children/s over ``repeats`` runs."""
    children = 2_000 if quick else 20_000
    runs = [run_once(children) for _ in range(1 if quick else repeats)]
    return {"engine_child_orders_per_s": round(statistics.median(runs), 1)}


if __name__ == "__main__":
    print(measure())
