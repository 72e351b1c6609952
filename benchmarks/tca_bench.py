"""Benchmark: building the ExecutionReport of a session with 1,000 fills (``oms bench``)."""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from oms.model.enums import Liquidity, Side
from oms.model.orders import Fill
from oms.progress import Progress
from oms.tca import (
    ChildLatencies,
    ParentExecution,
    SessionExecution,
    TargetPosition,
    build_execution_report,
)

__all__ = ["make_session", "measure"]

_START = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)


def make_session(fills: int = 1_000, parents: int = 5, seed: int = 7) -> SessionExecution:
    """A deterministic session: ``parents`` parents sharing ``fills`` fills, 4 fills per child."""
    rng = np.random.default_rng(seed)
    per_parent = fills // parents
    executions = []
    for p in range(parents):
        side = Side.BUY if p % 2 == 0 else Side.SELL
        arrival = Decimal("42000.00") + p
        drift = np.round(np.cumsum(rng.normal(0, 2.0, per_parent)), 2)
        parent_fills = []
        for n in range(per_parent):
            mid = arrival + Decimal(f"{drift[n]:.2f}")
            maker = bool(rng.random() < 0.4)
            half = Decimal("0.05")
            price = mid - side.sign * half if maker else mid + side.sign * half
            qty = Decimal(int(rng.integers(1, 500))) / 100_000
            parent_fills.append(
                Fill(
                    fill_id=f"f{p}-{n}",
                    client_order_id=f"c{p}-{n // 4}",
                    parent_id=f"p{p}",
                    symbol="BTCUSDT",
                    side=side,
                    price=price,
                    quantity=qty,
                    fee=(price * qty / 1000).quantize(Decimal("0.00000001")),
                    liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
                    ts=_START + timedelta(seconds=2 * n),
                    venue="paper",
                    mid_price=mid,
                    half_spread=half,
                )
            )
        filled = sum((f.quantity for f in parent_fills), Decimal(0))
        children = per_parent // 4
        executions.append(
            ParentExecution(
                parent_id=f"p{p}",
                symbol="BTCUSDT",
                side=side,
                algo="twap",
                quantity=filled + Decimal("0.01"),
                fills=tuple(parent_fills),
                decision_price=arrival - 1,
                arrival_price=arrival,
                end_price=arrival + 3,
                start=_START,
                end=_START + timedelta(seconds=2 * per_parent),
                decision_time=_START,
                child_count=children,
                child_latencies=ChildLatencies(
                    ack_ms=tuple(rng.uniform(10, 60, children).tolist()),
                    first_fill_ms=tuple(rng.uniform(20, 400, children).tolist()),
                ),
                market_vwap=float(arrival) + 1.0,
                market_twap=float(arrival) + 0.5,
                market_volume=250.0,
            )
        )
    return SessionExecution(
        session_id="bench",
        venue="paper",
        started_at=_START,
        ended_at=_START + timedelta(hours=1),
        parents=executions,
        targets=[TargetPosition("BTCUSDT", Decimal(50_000), Decimal(0))],
    )


def measure(*, runs: int = 31, progress: bool = True) -> dict[str, float]:
    """Median wall time (ms) over ``runs`` to build the report of a 1,000-fill session (and,
    separately, to serialise it with json.dumps)."""
    session = make_session()
    build_execution_report(session, _START)  # warm up
    build_ms, json_ms = [], []
    with Progress("tca reports", runs, enabled=progress) as bar:
        for _ in range(runs):
            t0 = time.perf_counter()
            report = build_execution_report(session, _START)
            t1 = time.perf_counter()
            json.dumps(report)
            t2 = time.perf_counter()
            build_ms.append((t1 - t0) * 1000)
            json_ms.append((t2 - t1) * 1000)
            bar.update()
    return {
        "tca_report_ms_1000_fills": round(statistics.median(build_ms), 3),
        "tca_report_json_ms_1000_fills": round(statistics.median(json_ms), 3),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
