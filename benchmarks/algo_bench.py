"""Schedule generation throughput of the execution algorithms (``oms bench`` figures).

One "schedule" = build the algorithm for a fresh one-hour parent and run ``on_start`` (which plans
the whole schedule and emits the first child) against an in-memory market with an hour of bars.
``algo_schedules_per_s`` is the rate over a TWAP / VWAP / IS mix (one third each); the per-algo
rates and the cost of one ``on_timer`` call on a working parent are reported beside it.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.algos.base import AlgoContext
from oms.algos.registry import create_algo
from oms.market.types import Bar, Book, Quote
from oms.model.enums import AlgoName, Side
from oms.model.orders import ParentOrder
from oms.progress import Progress
from oms.venues.filters import SymbolFilters

__all__ = ["measure"]

_T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
_FILTERS = SymbolFilters("BTCUSDT")
_MIX = (AlgoName.TWAP, AlgoName.VWAP, AlgoName.IS)


class _StaticMarket:
    """A MarketData with a fixed quote, an hour of bars and a flat volume rate."""

    def __init__(self) -> None:
        self.now = _T0
        self._quote = Quote("BTCUSDT", _T0, Decimal("60000.00"), Decimal("60000.01"),
                            Decimal(1), Decimal(1))
        self._bars = [Bar("BTCUSDT", _T0 - timedelta(minutes=60 - i), 60_000.0 + i,
                          60_010.0 + i, 59_990.0 + i, 60_000.0 + (i % 7), 12.0, 720_000.0)
                      for i in range(60)]

    @property
    def symbols(self) -> tuple[str, ...]:
        return ("BTCUSDT",)

    def advance_to(self, ts: datetime) -> None:
        self.now = ts

    def is_open(self, symbol: str) -> bool:
        return True

    def quote(self, symbol: str) -> Quote:
        return self._quote

    def book(self, symbol: str, depth: int = 20) -> Book:
        return Book(symbol, self.now, (), ())

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        return self._bars

    def traded_volume(self, symbol: str, start: datetime, end: datetime) -> Decimal:
        return Decimal(repr(round(12.0 * max((end - start).total_seconds(), 0.0) / 60, 8)))

    def vwap(self, symbol: str, start: datetime, end: datetime) -> Decimal | None:
        return None


def _parent(algo: AlgoName, n: int) -> ParentOrder:
    return ParentOrder(parent_id=f"bench-{n}", session_id="bench", symbol="BTCUSDT",
                       side=Side.BUY if n % 2 else Side.SELL, quantity=Decimal("1.23457"),
                       algo=algo, created_at=_T0, duration_minutes=60.0, urgency=0.5)


def _schedules_per_s(algos: tuple[AlgoName, ...], count: int, market: _StaticMarket,
                     bar: Progress) -> float:
    started = time.perf_counter()
    for n in range(count):
        parent = _parent(algos[n % len(algos)], n)
        algo = create_algo(parent, seed=n, filters=_FILTERS)
        algo.on_start(AlgoContext(_T0, parent, market.quote("BTCUSDT"), _FILTERS, market))
        bar.update()
    return count / (time.perf_counter() - started)


def _timer_us(market: _StaticMarket, calls: int) -> float:
    parent = _parent(AlgoName.TWAP, 1)
    algo = create_algo(parent, seed=1, filters=_FILTERS)
    ctx = AlgoContext(_T0, parent, market.quote("BTCUSDT"), _FILTERS, market)
    algo.on_start(ctx)
    started = time.perf_counter()
    for i in range(calls):
        ctx.now = _T0 + timedelta(milliseconds=250 * i)
        algo.on_timer(ctx)
    return (time.perf_counter() - started) / calls * 1e6


def measure(quick: bool = False) -> dict[str, Any]:
    """Figures: ``algo_schedules_per_s`` (mix), per-algorithm rates, ``algo_on_timer_us``."""
    count = 300 if quick else 3_000
    repeats = 1 if quick else 3
    market = _StaticMarket()
    total = count * repeats * (1 + len(_MIX))
    with Progress("algo schedules", total) as bar:
        mix = statistics.median(_schedules_per_s(_MIX, count, market, bar) for _ in range(repeats))
        by_algo = {
            name.value: round(statistics.median(
                _schedules_per_s((name,), count, market, bar) for _ in range(repeats)), 1)
            for name in _MIX
        }
    return {
        "algo_schedules_per_s": round(mix, 1),
        "algo_schedules_per_s_by_algo": by_algo,
        "algo_on_timer_us": round(_timer_us(market, 2_000 if quick else 20_000), 2),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
