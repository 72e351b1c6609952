"""Engine throughput: market child orders through pre-trade risk, the paper venue, fills and
persistence to a SQLite file, in a TestClock loop (no scheduler)."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from oms.bootstrap import build_oms
from oms.clock import TestClock
from oms.config import PaperVenueSettings, RiskLimits, Settings
from oms.model import AlgoName, IdGenerator, Side
from oms.progress import Progress

__all__ = ["measure", "run_once"]

START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


def _settings(db: Path) -> Settings:
    limits = RiskLimits(max_position_usd=Decimal(10**12), max_gross_exposure_usd=Decimal(10**12),
                        max_daily_loss_usd=Decimal(10**12), max_orders_per_minute=10**9,
                        max_order_notional_usd=Decimal(10**9), duplicate_window_s=0.001)
    return Settings(database_url=f"sqlite:///{db}", risk=limits,
                    starting_balance=Decimal(10**12),
                    paper=PaperVenueSettings(latency_ms=0.0, latency_jitter_ms=0.0,
                                             max_open_orders=100_000))


_QUANTITY = {"BTCUSDT": Decimal("0.02"), "ETHUSDT": Decimal("0.4"), "SOLUSDT": Decimal("10")}
SLICES = 20


def run_once(children: int = 20_000, progress: bool = True) -> float:
    """Send ``children`` market children (20-slice one-minute TWAPs); children per second."""
    parents = children // SLICES
    with tempfile.TemporaryDirectory() as tmp:
        clock = TestClock(START)
        oms = build_oms(_settings(Path(tmp) / "bench.db"), clock=clock, ids=IdGenerator("b"))
        engine = oms.engine
        engine.start()
        symbols = oms.settings.symbols
        # spot: the sell parents need the base assets (the venue rejects -2010 otherwise)
        oms.venue.set_balances({oms.settings.quote_asset: oms.settings.starting_balance,
                                **{oms.venue.filters(s).assets()[0]: Decimal(10**6)
                                   for s in symbols}})
        for i in range(parents):
            oms.service.submit_order(
                symbols[i % len(symbols)], Side.BUY if i % 2 == 0 else Side.SELL,
                _QUANTITY[symbols[i % len(symbols)]], AlgoName.TWAP, duration_minutes=1,
                algo_options={"slices": SLICES, "placement": "aggressive"}, wait=False)
        started = time.perf_counter()
        with Progress("engine children", children, enabled=progress) as bar:
            for _ in range(10 * 60):
                clock.advance(timedelta(seconds=1))
                engine.tick()
                bar.set(engine.journal.children_written)
                if not engine.parents:
                    break
            elapsed = time.perf_counter() - started
        filled = oms.service.child_orders(page_size=1, state="FILLED").total
        oms.close()
        if filled < children:
            raise RuntimeError(f"only {filled} of {children} children filled")
        return filled / elapsed


def measure(quick: bool = False, repeats: int = 3) -> dict[str, float]:
    """Median children/s over ``repeats`` runs."""
    children = 2_000 if quick else 20_000
    runs = [run_once(children) for _ in range(1 if quick else repeats)]
    return {"engine_child_orders_per_s": round(statistics.median(runs), 1)}


if __name__ == "__main__":
    print(measure())
