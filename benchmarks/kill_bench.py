"""Kill switch: time to close the halt gate, and time until 1,000 working children on the paper
venue are all confirmed canceled (engine ticks on a TestClock; 10 ms of market time per tick)."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from oms.algos.base import ChildIntent, Intent
from oms.bootstrap import Oms, build_oms
from oms.clock import TestClock
from oms.config import RiskLimits, Settings
from oms.model import AlgoName, IdGenerator, OrderType, ParentOrder, Side

__all__ = ["measure", "resting_children"]

START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
_QTY = {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.01"), "SOLUSDT": Decimal("0.1")}


def bench_settings(db: Path) -> Settings:
    """Limits lifted so 1,000 resting children pass pre-trade risk."""
    limits = RiskLimits(max_position_usd=Decimal(10**9), max_gross_exposure_usd=Decimal(10**9),
                        max_orders_per_minute=10**6, max_order_notional_usd=Decimal(10**9))
    return Settings(database_url=f"sqlite:///{db}", risk=limits)


def resting_children(oms: Oms, count: int) -> list[str]:
    """Put ``count`` buy limits 1% under the bid across the symbols; returns their ids."""
    engine = oms.engine
    now = engine.clock.now()
    parents: dict[str, ParentOrder] = {}
    for symbol in oms.settings.symbols:
        oms.service.submit_order(symbol, Side.BUY, _QTY[symbol] * count * 10, AlgoName.TWAP,
                                 duration_minutes=24 * 60, wait=False)
    engine.tick()
    for parent in engine.parents.values():
        parents[parent.symbol] = parent
    intents: list[tuple[ParentOrder, Intent]] = []
    symbols = list(parents)
    for i in range(count):
        symbol = symbols[i % len(symbols)]
        quote = engine.quotes[symbol]
        tick = engine.venue.filters(symbol).tick_size
        price = ((quote.bid * Decimal("0.99")) / tick).to_integral_value() * tick
        quantity = _QTY[symbol] * (1 + i // len(symbols))  # distinct: no duplicate denials
        intents.append((parents[symbol], ChildIntent(quantity, OrderType.LIMIT, price,
                                                     tag="resting")))
    engine.dispatch(intents, now)
    engine.journal.flush()
    clock = engine.clock
    assert isinstance(clock, TestClock)
    for _ in range(20):  # let the acknowledgements arrive
        clock.advance(timedelta(milliseconds=50))
        engine.tick()
    return [c.client_order_id for c in engine.open_children.values()]


def run_once(count: int = 1000) -> tuple[float, float, int]:
    """(halt ms, all-canceled ms, children that were working)."""
    with tempfile.TemporaryDirectory() as tmp:
        clock = TestClock(START)
        oms = build_oms(bench_settings(Path(tmp) / "kill.db"), clock=clock,
                        ids=IdGenerator("k"))
        oms.engine.start()
        working = len(resting_children(oms, count))
        started = time.perf_counter()
        oms.service.kill("benchmark", actor="bench")
        halted = time.perf_counter()
        while oms.engine.open_children:
            clock.advance(timedelta(milliseconds=10))
            oms.engine.tick()
        done = time.perf_counter()
        oms.close()
    return (halted - started) * 1000, (done - started) * 1000, working


def measure(quick: bool = False) -> dict[str, float]:
    """Medians over repeated runs."""
    runs = [run_once(200 if quick else 1000) for _ in range(1 if quick else 5)]
    return {"kill_switch_halt_ms": round(statistics.median(r[0] for r in runs), 4),
            "kill_switch_all_canceled_ms": round(statistics.median(r[1] for r in runs), 1),
            "kill_switch_working_children": float(runs[0][2])}
