"""Pre-trade risk latency: the full rule set on one child order (``oms bench`` figures).

The order is a limit buy that passes every rule, so every check runs (a denied order returns
early and is cheaper). The context holds three symbols with positions and working orders, the
rate and duplicate windows are warm, and a per-symbol rate limit is configured. Each run times
``runs_per_repeat`` checks one by one; the figures are medians over ``repeats`` runs.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from oms.config import RiskLimits
from oms.market.types import Quote
from oms.model.enums import OrderType, Side, TradingState
from oms.model.orders import ChildOrder
from oms.progress import Progress
from oms.risk.pretrade import PreTradeRisk, RiskContext
from oms.venues.filters import SymbolFilters

__all__ = ["measure"]

_T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _child(quantity: str, parent_id: str, n: int, price: str | None = "49990.00") -> ChildOrder:
    return ChildOrder(
        client_order_id=f"bench-{n}",
        parent_id=parent_id,
        symbol="BTCUSDT",
        side=Side.BUY,
        quantity=Decimal(quantity),
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        created_at=_T0,
        venue="paper",
        limit_price=Decimal(price) if price else None,
    )


def _setup() -> tuple[PreTradeRisk, ChildOrder, RiskContext]:
    limits = RiskLimits(max_orders_per_minute_per_symbol={"BTCUSDT": 15})
    risk = PreTradeRisk(limits, ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    now = _T0 + timedelta(seconds=30)
    for i in range(10):  # warm windows: other quantities, and the same key from the same parent
        risk.record_sent(_child(f"0.0{i + 11}", f"other-{i}", i), _T0 + timedelta(seconds=i))
    risk.record_sent(_child("0.02", "bench-parent", 99), now - timedelta(milliseconds=200))
    order = _child("0.02", "bench-parent", 100)
    quote = Quote("BTCUSDT", now, Decimal("49999.99"), Decimal("50000.01"), Decimal(3), Decimal(2))
    ctx = RiskContext(
        now=now,
        trading_state=TradingState.ACTIVE,
        quote=quote,
        filters=SymbolFilters("BTCUSDT"),
        position_qty=Decimal("0.05"),
        mids={"BTCUSDT": quote.mid, "ETHUSDT": Decimal("3000.5"), "SOLUSDT": Decimal("100.25")},
        positions={"BTCUSDT": Decimal("0.05"), "ETHUSDT": Decimal(2), "SOLUSDT": Decimal(-30)},
        daily_pnl=Decimal("-120.55"),
        open_orders={"BTCUSDT": (Decimal("0.01"), Decimal(0)), "SOLUSDT": (Decimal(0), Decimal(5))},
    )
    return risk, order, ctx


def _percentile(sorted_ns: list[int], q: float) -> float:
    index = min(len(sorted_ns) - 1, round(q * (len(sorted_ns) - 1)))
    return sorted_ns[index] / 1000.0


def measure(*, repeats: int = 7, runs_per_repeat: int = 20_000, progress: bool = True) -> dict[
    str, float
]:
    """Time ``PreTradeRisk.check`` on one passing order: p50 and p99 in microseconds."""
    risk, order, ctx = _setup()
    if risk.check(order, ctx) is not None:  # every rule must run, so the order must pass
        raise RuntimeError(f"benchmark order is denied: {risk.check(order, ctx)}")
    check = risk.check
    clock = time.perf_counter_ns
    for _ in range(2_000):  # warm-up
        check(order, ctx)
    p50s: list[float] = []
    p99s: list[float] = []
    with Progress("risk checks", repeats, enabled=progress) as bar:
        for _ in range(repeats):
            samples = [0] * runs_per_repeat
            for i in range(runs_per_repeat):
                start = clock()
                check(order, ctx)
                samples[i] = clock() - start
            samples.sort()
            p50s.append(_percentile(samples, 0.50))
            p99s.append(_percentile(samples, 0.99))
            bar.update()
    return {
        "risk_check_p50_us": round(statistics.median(p50s), 2),
        "risk_check_p99_us": round(statistics.median(p99s), 2),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure()))
