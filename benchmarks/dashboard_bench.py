"""Benchmark: the dashboard's live-refresh callbacks and blotter page queries with 10,000 parent
and 100,000 child orders in the database (``dashboard_callback_p95_ms`` in ``oms bench``).

The orders are seeded into a temporary SQLite file through the repository's batched insert;
a rebalance is then driven a few ticks on a TestClock so the live panels have working parents
and fills to render. Every callback is called as Dash would call it (inside a request context),
``repeats`` times each; the figure is the p95 over all calls.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from oms.progress import Progress

__all__ = ["measure", "seed_orders"]

_ROOT = Path(__file__).resolve().parents[1]
_START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
_SYMBOLS = (("BTCUSDT", Decimal("62000")), ("ETHUSDT", Decimal("3400")),
            ("SOLUSDT", Decimal("130")))


def _parent(session: int, index: int, ts: datetime) -> dict[str, Any]:
    symbol, price = _SYMBOLS[index % 3]
    qty = Decimal("0.05") if symbol == "BTCUSDT" else Decimal("1.5")
    return {"parent_id": f"bp-{index}", "session_id": f"bs-{session}", "symbol": symbol,
            "side": "BUY" if index % 2 else "SELL", "quantity": qty, "algo": "twap",
            "algo_reason": "benchmark", "algo_params": {}, "urgency": 0.5,
            "duration_minutes": 30.0, "limit_price": None, "created_at": ts,
            "state": "COMPLETED", "filled_quantity": qty, "filled_notional": qty * price,
            "fees": qty * price / 1000, "decision_price": price, "arrival_price": price,
            "end_price": price, "started_at": ts, "ended_at": ts + timedelta(minutes=30),
            "end_reason": "filled"}


def _child(parent: dict[str, Any], index: int, ts: datetime) -> dict[str, Any]:
    qty = parent["quantity"] / 10
    price = parent["arrival_price"]
    return {"client_order_id": f"{parent['parent_id']}-c{index}",
            "parent_id": parent["parent_id"], "symbol": parent["symbol"],
            "side": parent["side"], "order_type": "LIMIT", "time_in_force": "GTC",
            "quantity": qty, "limit_price": price, "venue": "paper", "tag": "twap",
            "created_at": ts, "state": "FILLED" if index % 7 else "CANCELED",
            "filled_quantity": qty if index % 7 else Decimal(0),
            "filled_notional": qty * price if index % 7 else Decimal(0), "fees": Decimal(0),
            "venue_order_id": str(index), "reason": None, "sent_at": ts, "acked_at": ts,
            "first_fill_at": ts, "updated_at": ts}


def seed_orders(repository: Any, parents: int, children_per_parent: int,
                per_session: int = 100) -> None:
    """Insert ``parents`` finished parents with their children (batched, one commit per
    session) and a few hundred risk events."""
    from oms.persistence.repository import WriteBatch

    with Progress("seed orders", parents) as bar:
        for session in range(parents // per_session):
            batch = WriteBatch()
            base = _START + timedelta(hours=session)
            batch.sessions.append({"session_id": f"bs-{session}", "kind": "rebalance",
                                   "created_at": base, "ended_at": base + timedelta(hours=1),
                                   "venue": "paper", "actor": "bench", "targets": {},
                                   "params": {}})
            for offset in range(per_session):
                index = session * per_session + offset
                ts = base + timedelta(seconds=offset * 30)
                parent = _parent(session, index, ts)
                batch.parents.append(parent)
                batch.children.extend(_child(parent, n, ts + timedelta(seconds=n))
                                      for n in range(children_per_parent))
            batch.risk_events.extend(
                {"ts": base, "kind": "VIOLATION", "code": "MAX_ORDER_NOTIONAL",
                 "symbol": "BTCUSDT", "entity_id": None, "actor": "bench",
                 "message": f"benchmark violation {session}-{n}", "payload": {}}
                for n in range(3))
            repository.write(batch)
            bar.update(per_session)


def _timed(func: Callable[[], Any], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _warm_engine(oms: Any, clock: Any) -> None:
    """A rebalance a few ticks in, so the live panels show working parents and fills."""
    oms.engine.start()
    oms.service.submit_rebalance("BTCUSDT 3000\nETHUSDT 2000\nSOLUSDT 1000", "twap", 30, 0.5,
                                 actor="bench", wait=False)
    for _ in range(120):
        clock.advance(timedelta(seconds=5))
        oms.engine.tick()


def measure(quick: bool = False, repeats: int | None = None) -> dict[str, Any]:
    """p95 (ms) of the live-refresh callbacks and blotter page queries at 10k/100k orders."""
    if str(_ROOT) not in sys.path:  # pages/ and components/ live at the repository root
        sys.path.insert(0, str(_ROOT))
    from app import create_app
    from components.frame import refresh_frame
    from oms.bootstrap import build_oms
    from oms.clock import TestClock
    from oms.config import Settings
    from oms.model import IdGenerator
    from pages import orders, overview, risk, tca

    parents, per_parent = (1_000, 10) if quick else (10_000, 10)
    repeats = repeats or (5 if quick else 30)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'dash.db'}")
        clock = TestClock(_START + timedelta(days=30))
        oms = build_oms(settings, clock=clock, ids=IdGenerator("bench"))
        try:
            seed_orders(oms.repository, parents, per_parent)
            _warm_engine(oms, clock)
            app = create_app(settings, oms, start_engine=False)
            deep_parent = {"startRow": parents // 2, "endRow": parents // 2 + 100}
            deep_child = {"startRow": parents * per_parent // 2,
                          "endRow": parents * per_parent // 2 + 100}
            selected = {"parent_id": "bp-4242", "session_id": "bs-42"}
            calls: dict[str, Callable[[], Any]] = {
                "frame": lambda: refresh_frame(1, None),
                "overview": lambda: overview.refresh_overview(1),
                "pnl_sample": lambda: overview.record_equity(1),
                "pnl_history_day": lambda: overview.draw_equity("day"),
                "risk": lambda: risk.refresh_risk(1),
                "risk_events": lambda: risk.refresh_violations(1, None),
                "tca_poll": lambda: tca.poll_sessions(1, None, None, None),
                "parent_detail": lambda: orders.parent_detail(selected, 1),
                "parents_page0": lambda: orders.parent_rows({"startRow": 0, "endRow": 100}),
                "parents_deep": lambda: orders.parent_rows(deep_parent),
                "parents_by_state": lambda: orders.parent_rows({
                    "startRow": 0, "endRow": 100,
                    "filterModel": {"state": {"filter": "COMPLETED"}}}),
                "parents_working_only": lambda: orders.parent_rows(
                    {"startRow": 0, "endRow": 100}, ["working"]),
                "children_page0": lambda: orders.child_rows({"startRow": 0, "endRow": 100}, None),
                "children_deep": lambda: orders.child_rows(deep_child, None),
                "children_of_parent": lambda: orders.child_rows({"startRow": 0, "endRow": 100},
                                                                selected),
                "children_by_state": lambda: orders.child_rows({
                    "startRow": 0, "endRow": 100,
                    "filterModel": {"state": {"filter": "CANCELED"}}}, None),
            }
            results: dict[str, list[float]] = {}
            with app.server.test_request_context("/"), \
                    Progress("dashboard callbacks", len(calls)) as bar:
                for name, call in calls.items():
                    call()  # warm caches (first query plans, imports)
                    results[name] = _timed(call, repeats)
                    bar.update()
        finally:
            oms.close()
    every = [v for samples in results.values() for v in samples]
    per_callback = {name: round(float(np.percentile(s, 95)), 2) for name, s in results.items()}
    return {
        "dashboard_callback_p95_ms": round(float(np.percentile(every, 95)), 2),
        "dashboard_callback_median_ms": round(statistics.median(every), 2),
        "dashboard_callback_p95_ms_by_callback": per_callback,
        "dashboard_seeded_orders": {"parents": parents, "children": parents * per_parent},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(quick="--quick" in sys.argv), indent=2))
