"""Kill switch: time to close the halt gate, and time until 1,000 working children on the paper
venue are all confirmed canceled (engine ticks on a TestClock; 10 ms of market time per tick)."""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from oms.algos.base import AlgoContext, ChildIntent, ExecutionAlgo, Intent
from oms.algos.registry import ALGORITHMS
from oms.bootstrap import Oms, build_oms
from oms.clock import TestClock
from oms.config import PaperVenueSettings, RiskLimits, Settings
from oms.model import AlgoName, IdGenerator, OrderType, ParentOrder, Side
from oms.venues.filters import SymbolFilters

__all__ = ["RestingLadder", "build_with_resting_children", "measure", "resting_ladder"]

START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
_QTY = {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.01"), "SOLUSDT": Decimal("0.1")}


class RestingLadder(ExecutionAlgo):
    """Benchmark algorithm: ``rungs`` buy limits 1% under the bid at start, then nothing."""

    def __init__(self, parent: ParentOrder, *, seed: int = 0, filters: SymbolFilters,
                 rungs: int = 1, **_options: Any) -> None:
        super().__init__(parent, seed=seed)
        self.filters = filters
        self.rungs = rungs

    def on_start(self, ctx: AlgoContext) -> list[Intent]:
        """All rungs at once, distinct quantities (no duplicate-order denials)."""
        assert ctx.quote is not None
        tick = self.filters.tick_size
        price = (ctx.quote.bid * Decimal("0.99") / tick).to_integral_value() * tick
        unit = _QTY[self.parent.symbol]
        return [ChildIntent(unit * (1 + i), OrderType.LIMIT, price, tag=f"rung-{i}",
                            intent_id=f"rung-{i}")
                for i in range(self.rungs)]

    def on_timer(self, ctx: AlgoContext) -> list[Intent]:
        """Nothing more to send."""
        return []

    def is_finished(self, ctx: AlgoContext) -> bool:
        """Never on its own (the kill switch ends it)."""
        return False


@contextlib.contextmanager
def resting_ladder() -> Iterator[None]:
    """Temporarily run ICEBERG parents with the RestingLadder (benchmarks and tests only)."""
    original = ALGORITHMS[AlgoName.ICEBERG]
    ALGORITHMS[AlgoName.ICEBERG] = RestingLadder
    try:
        yield
    finally:
        ALGORITHMS[AlgoName.ICEBERG] = original


def build_with_resting_children(db: Path, count: int) -> tuple[Oms, TestClock]:
    """An OMS on a TestClock with ``count`` acknowledged resting children over three symbols."""
    limits = RiskLimits(max_position_usd=Decimal(10**9), max_gross_exposure_usd=Decimal(10**9),
                        max_orders_per_minute=10**6, max_order_notional_usd=Decimal(10**9))
    # Binance allows 200 open orders a symbol; the paper venue is told to allow the benchmark's,
    # and the account holds the cash they lock (spot: a resting buy locks price x quantity)
    settings = Settings(database_url=f"sqlite:///{db}", risk=limits,
                        starting_balance=Decimal(10**9),
                        paper=PaperVenueSettings(max_open_orders=count))
    clock = TestClock(START)
    oms = build_oms(settings, clock=clock, ids=IdGenerator("k"))
    oms.engine.start()
    per_symbol = -(-count // len(settings.symbols))
    with resting_ladder():
        for symbol in settings.symbols:
            oms.service.submit_order(symbol, Side.BUY, _QTY[symbol] * per_symbol ** 2,
                                     AlgoName.ICEBERG, 24 * 60,
                                     algo_options={"rungs": per_symbol}, wait=False)
        oms.engine.tick()
    for _ in range(20):  # let the acknowledgements arrive
        clock.advance(timedelta(milliseconds=50))
        oms.engine.tick()
    return oms, clock


def run_once(count: int = 1000) -> tuple[float, float, float, int]:
    """(gate closed ms, durable acknowledgement ms, all-canceled ms, children working)."""
    with tempfile.TemporaryDirectory() as tmp:
        oms, clock = build_with_resting_children(Path(tmp) / "kill.db", count)
        working = len(oms.engine.open_children)
        started = time.monotonic()
        oms.service.kill("benchmark", actor="bench")  # returns once the halt is committed
        acknowledged = time.monotonic()
        closed = oms.gate.halted_monotonic
        assert closed is not None
        for _ in range(10_000):
            if not oms.engine.open_children:
                break
            clock.advance(timedelta(milliseconds=10))
            oms.engine.tick()
        done = time.monotonic()
        oms.close()
    return ((closed - started) * 1000, (acknowledged - started) * 1000,
            (done - started) * 1000, working)


def measure(quick: bool = False) -> dict[str, float]:
    """Medians over repeated runs: the halt is the instant no child can leave any more (the
    gate closed); the acknowledgement comes once the halt is committed to the database."""
    runs = [run_once(200 if quick else 1000) for _ in range(1 if quick else 5)]
    return {"kill_switch_halt_ms": round(statistics.median(r[0] for r in runs), 4),
            "kill_switch_durable_ack_ms": round(statistics.median(r[1] for r in runs), 3),
            "kill_switch_all_canceled_ms": round(statistics.median(r[2] for r in runs), 1),
            "kill_switch_working_children": float(runs[0][3])}
