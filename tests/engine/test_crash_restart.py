"""The crash test: a real ``oms run`` on replayed Binance klines at high speed, SIGKILLed at
seeded random moments while a rebalance works, restarted each time on the same database.

Every parent must end COMPLETED with its quantity by its end time plus a grace period; no fill
lost or doubled; no client or venue order id reused; fills recorded in market-time order across
runs (the replay clock resumes, it never rewinds); positions equal the fills; and a kill stays
a kill across a crash. Once on SQLite and once on the local PostgreSQL.

``python -m pytest tests/engine/test_crash_restart.py -s`` prints the figures (restarts, the gap
each restart left, the parents completed).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from oms_process import OmsProcess, postgres_database, request
from sqlalchemy import create_engine, text

CRASHES = 5
SPEED = 120  # market seconds per wall second: a 30-minute parent works for 15 s
GRACE = timedelta(minutes=5)  # market time after the window by which the parent must be done
TARGET_USD = 6000


def _data(binance_data: Path) -> Path:
    return binance_data / "klines_1m" / "BTCUSDT-1m-2024-01-01_2024-06-25.csv.gz"


def _start(url: str, workdir: Path, data: Path) -> OmsProcess:
    process = OmsProcess(url, workdir, speed=SPEED, tick_ms=100,
                         args=("--data", str(data), "--speed", str(SPEED)))
    process.wait_ready(timeout_s=60)
    return process


def _query(url: str, sql: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)))
    finally:
        engine.dispose()


def _parents_done(port: int) -> bool:
    status, body = request(port, "/orders?kind=parents&page_size=50")
    assert status == 200, body
    return bool(body["rows"]) and all(
        r["state"] not in ("PENDING", "WORKING") for r in body["rows"])


REORDER = timedelta(seconds=1)  # far beyond the paper venue's latency tail


def _crash_run(url: str, workdir: Path, data: Path, seed: int, algo: str) -> dict[str, Any]:
    rng = random.Random(seed)
    process = _start(url, workdir, data)
    try:
        status, body = request(process.port, "/rebalance", {
            "targets": {"BTCUSDT": TARGET_USD}, "algo": algo, "duration_minutes": 30})
        assert status == 201, body
        for _ in range(CRASHES):
            time.sleep(rng.uniform(0.5, 3.0))
            process.sigkill()
            process = _start(url, workdir, data)
        deadline = time.monotonic() + 60
        while not _parents_done(process.port):
            assert time.monotonic() < deadline, "the parents did not end in time"
            time.sleep(0.25)
        position = _positions(_settled_status(process))
        # the kill state is kept across a crash
        status, body = request(process.port, "/kill", {"reason": "end of drill"})
        assert status == 200 and body["durable"] is True, body
        process.sigkill()
        process = _start(url, workdir, data)
        after = process.wait_ready()
    finally:
        process.stop()
    return {"position": position, "after_kill": after}


def _settled_status(process: OmsProcess) -> dict[str, Any]:
    """/status built after what the last database read saw: the snapshot is published after
    its tick's commit, so the one read just after a commit may be a tick older; two ticks later
    it holds that commit."""
    seen = process.wait_ready()["tick"]
    deadline = time.monotonic() + 10
    while (status := process.wait_ready())["tick"] < seen + 2:
        assert time.monotonic() < deadline, "the engine stopped ticking"
        time.sleep(0.05)
    return status


def _positions(status: dict[str, Any]) -> dict[str, Decimal]:
    return {p["symbol"]: Decimal(str(p["quantity"])) for p in status["positions"]}


def _check(url: str, run: dict[str, Any]) -> dict[str, Any]:
    parents = _query(url, "SELECT parent_id, state, quantity, filled_quantity, started_at, "
                          "ended_at, duration_minutes, end_reason FROM parent_orders")
    children = _query(url, "SELECT client_order_id, parent_id, quantity, filled_quantity, "
                           "venue_order_id, intent_id FROM child_orders")
    fills = _query(url, "SELECT fill_id, client_order_id, parent_id, side, quantity "
                        "FROM fills")
    filled_events = _query(url, "SELECT ts FROM audit_log WHERE event = 'OrderFilled' "
                                "ORDER BY id")
    resumed = _query(url, "SELECT payload FROM audit_log WHERE event = 'ParentResumed' "
                          "ORDER BY id")
    assert parents
    for p in parents:
        assert p.state == "COMPLETED", p.end_reason
        assert Decimal(str(p.filled_quantity)) == Decimal(str(p.quantity))
        ended, started = _utc(p.ended_at), _utc(p.started_at)
        assert ended <= started + timedelta(minutes=p.duration_minutes) + GRACE
    by_child: Counter[str] = Counter()
    for f in fills:
        by_child[f.client_order_id] += 1
    for c in children:
        mine = sum((Decimal(str(f.quantity)) for f in fills
                    if f.client_order_id == c.client_order_id), Decimal(0))
        assert mine == Decimal(str(c.filled_quantity)) <= Decimal(str(c.quantity))
    for p in parents:
        total = sum((Decimal(str(f.quantity)) for f in fills if f.parent_id == p.parent_id),
                    Decimal(0))
        assert total == Decimal(str(p.quantity))
    venue_ids = [c.venue_order_id for c in children if c.venue_order_id is not None]
    assert len(venue_ids) == len(set(venue_ids)), "a venue order id was reused"
    intents = Counter((c.parent_id, c.intent_id) for c in children)
    assert max(intents.values()) == 1, "an algorithm request was answered twice"
    # fills are recorded in the order the venue reports them, which can differ from their
    # execution times by a latency draw (tens of ms); a run that restarted its market clock
    # earlier than where the last one stopped would go back by seconds or more
    times = [_utc(r.ts) for r in filled_events]
    latest = times[0] if times else None
    for at in times:
        assert latest is not None and at >= latest - REORDER, (
            f"fills of two runs interleave in market time: {at} after {latest}")
        latest = max(latest, at)
    signed = sum((Decimal(str(f.quantity)) * (1 if f.side == "BUY" else -1) for f in fills),
                 Decimal(0))
    assert run["position"].get("BTCUSDT", Decimal(0)) == signed
    # rebuilt from the fills at the last start
    assert _positions(run["after_kill"]).get("BTCUSDT", Decimal(0)) == signed
    assert run["after_kill"]["trading_state"] == "HALTED"
    payloads = [json.loads(r.payload) if isinstance(r.payload, str) else r.payload
                for r in resumed]
    return {"restarts": CRASHES, "parents_completed": len(parents), "children": len(children),
            "fills": len(fills), "gap_s": [p["gap_s"] for p in payloads],
            "down_s": [p["down_s"] for p in payloads]}


def _utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def test_crashes_on_sqlite_lose_nothing(tmp_path: Path, binance_data: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    run = _crash_run(url, tmp_path, _data(binance_data), seed=11, algo="twap")
    print("sqlite", _check(url, run))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database("oms_crash") as url:
        yield url


def test_crashes_on_postgresql_lose_nothing(postgres_url: str, tmp_path: Path,
                                            binance_data: Path) -> None:
    run = _crash_run(postgres_url, tmp_path, _data(binance_data), seed=12, algo="vwap")
    print("postgresql", _check(postgres_url, run))
