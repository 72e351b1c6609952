"""Snapshot fan-out of the split deployment to many dashboard clients, on the local PostgreSQL.

    python -m benchmarks.cluster_fanout [--clients 50] [--seconds 20] [--workers 3]

It starts the deployment the way the README's "Deployment: several processes" does, with the
CLI only (``benchmarks/cluster_stack.py``: ``oms accounts add``, ``oms engine --account``,
``oms web --workers``, on a new database ``bench_<random>``), seeds working parents through
``POST /api/v1/rebalance``, then ``--clients`` threads (a ``requests.Session`` each) poll the
live REST endpoints round-robin, back to back, for ``--seconds``: requests/s, latency p50/p99
per endpoint, errors (any answer but 200), and staleness of ``/status``:

- ``age_ms``: when the answer arrives, how old its tick is (``now - market_time``; the engine
  runs at --speed 1 on the synthetic market, whose clock is the wall clock from the engine's
  start less its market build time: that offset is the least age one client sees on the idle
  stack, measured first in ``age_idle_ms`` and subtracted everywhere). It includes the tick
  interval, the engine's publish period, the web's snapshot cache and the request itself.
- ``ticks_behind_freshest_seen``: the freshest tick any client had received by then, minus it.
- ``engine``: ticks seen advancing during the load against the tick rate, and the engine's
  scheduler counts (missed ticks, errors) from ``/status`` afterwards.

Prints one JSON object; the load's progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from benchmarks.cluster_stack import ADMIN_URL, STATUS_PATH, deployment
from oms.progress import Progress

__all__ = ["ENDPOINTS", "measure"]

#: what a dashboard's live panels poll: the snapshot-backed status and reconciliation, and the
#: database-backed blotters (working parents, the latest children)
ENDPOINTS = {"status": STATUS_PATH, "reconciliation": "/api/v1/reconciliation",
             "parents_working": "/api/v1/orders?kind=parents&state=WORKING",
             "children": "/api/v1/orders?kind=children&page_size=50"}
SEED_TARGETS = {"BTCUSDT": 3000, "ETHUSDT": 2000, "SOLUSDT": 1000}


@dataclass(frozen=True, slots=True)
class Sample:
    """One answered (or failed) request."""

    endpoint: str
    latency_ms: float
    error: str | None  # None: 200
    received: datetime
    tick: int | None = None
    market_time: datetime | None = None


def _seed(base: str) -> None:
    """Working parents (one-hour TWAPs), so blotters, positions and the snapshot carry rows."""
    response = requests.post(f"{base}/api/v1/rebalance", timeout=30, json={
        "targets": SEED_TARGETS, "algo": "twap", "duration_minutes": 60})
    if response.status_code != 201:
        raise RuntimeError(f"seeding rebalance answered {response.status_code}: "
                           f"{response.text[:500]}")


def _get(session: requests.Session, base: str, endpoint: str) -> Sample:
    started = time.perf_counter()
    try:
        response = session.get(f"{base}{ENDPOINTS[endpoint]}", timeout=30)
        body = response.content
    except requests.RequestException as exc:
        return Sample(endpoint, (time.perf_counter() - started) * 1000, repr(exc)[:200],
                      datetime.now(UTC))
    latency_ms, received = (time.perf_counter() - started) * 1000, datetime.now(UTC)
    if response.status_code != 200:
        return Sample(endpoint, latency_ms, f"HTTP {response.status_code}: {body[:200]!r}",
                      received)
    if endpoint != "status":
        return Sample(endpoint, latency_ms, None, received)
    try:
        status = json.loads(body)
        return Sample(endpoint, latency_ms, None, received, int(status["tick"]),
                      datetime.fromisoformat(status["market_time"]))
    except (ValueError, KeyError, TypeError) as exc:  # an answer without its tick is an error
        return Sample(endpoint, latency_ms, f"bad /status body: {exc!r:.200}", received)


def _poll(base: str, endpoints: list[str], offset: int, until: list[float],
          start: threading.Barrier, into: list[Sample]) -> None:
    """One client: its endpoints round-robin, back to back, from the barrier until ``until[0]``
    (monotonic; set before the barrier opens)."""
    with requests.Session() as session:
        start.wait()
        i = offset
        while time.monotonic() < until[0]:
            into.append(_get(session, base, endpoints[i % len(endpoints)]))
            i += 1


def _load(base: str, clients: int, seconds: float, endpoints: list[str],
          progress: bool) -> tuple[list[Sample], float, float]:
    """Every client's samples, the load's wall seconds and this process's CPU seconds."""
    per_client: list[list[Sample]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    until = [0.0]
    threads = [threading.Thread(target=_poll, args=(base, endpoints, c, until, barrier, out),
                                daemon=True) for c, out in enumerate(per_client)]
    for thread in threads:
        thread.start()
    cpu_before, started = sum(os.times()[:2]), time.monotonic()
    until[0] = started + seconds
    barrier.wait()
    with Progress(f"fan-out x{clients}", max(1, int(seconds * 10)), enabled=progress) as bar:
        while time.monotonic() - started < seconds:
            time.sleep(0.1)
            bar.set(int((time.monotonic() - started) * 10))
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    return [s for out in per_client for s in out], wall, sum(os.times()[:2]) - cpu_before


def _percentiles(values: list[float], digits: int = 1) -> dict[str, float | int]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    return {"n": len(ordered), "p50": round(ordered[len(ordered) // 2], digits),
            "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], digits),
            "max": round(ordered[-1], digits)}


def _ages_ms(samples: list[Sample]) -> list[float]:
    """``received - market_time`` of each /status answer, in ms."""
    return [(s.received - s.market_time).total_seconds() * 1000 for s in samples
            if s.market_time is not None]


def _engine_after(base: str, status: list[Sample], wall: float, tick_ms: int) -> dict[str, Any]:
    """Whether the engine kept its tick rate under the load, and its scheduler's counts."""
    ticks = [s.tick for s in status if s.tick is not None]
    body = requests.get(f"{base}{STATUS_PATH}", timeout=30).json()
    return {"ticks_seen_during_load": (max(ticks) - min(ticks)) if ticks else 0,
            "ticks_expected": int(wall * 1000 / tick_ms), **body["engine"]}


def _ticks_behind(samples: list[Sample]) -> list[float]:
    """Per /status answer: the freshest tick any client had received by then, minus its own."""
    freshest, behind = -1, []
    for _, tick in sorted((s.received, s.tick) for s in samples if s.tick is not None):
        freshest = max(freshest, tick)
        behind.append(float(freshest - tick))
    return behind


def measure(clients: int = 50, seconds: float = 20.0, *, workers: int = 3, tick_ms: int = 250,
            idle_seconds: float = 2.0, account: str = "main", admin_url: str = ADMIN_URL,
            progress: bool = True) -> dict[str, Any]:
    """The figures (see the module docstring)."""
    if clients < 1 or seconds <= 0:
        raise ValueError(f"clients={clients} and seconds={seconds} must be positive")
    names = list(ENDPOINTS)
    load_before = os.getloadavg()[0]
    database = f"bench_{uuid.uuid4().hex[:12]}"
    with deployment(database, account=account, workers=workers, tick_ms=tick_ms,
                     admin_url=admin_url) as base:
        _seed(base)
        idle, _, _ = _load(base, 1, idle_seconds, ["status"], progress=False)
        samples, wall, cpu = _load(base, clients, seconds, names, progress)
        engine = _engine_after(base, [s for s in samples if s.error is None], wall, tick_ms)
    idle_ages = _ages_ms([s for s in idle if s.error is None])
    floor = min(idle_ages) if idle_ages else 0.0
    errors = [s for s in samples if s.error is not None]
    answered = [s for s in samples if s.error is None]
    per_endpoint = {}
    for name in names:
        mine = [s for s in samples if s.endpoint == name]
        per_endpoint[name] = {
            "path": ENDPOINTS[name], "requests": len(mine),
            "requests_per_s": round(len(mine) / wall, 1),
            "errors": sum(1 for s in mine if s.error is not None),
            "latency_ms": _percentiles([s.latency_ms for s in mine if s.error is None])}
    return {"cluster_fanout": {
        "clients": clients, "seconds": round(wall, 2), "web_workers": workers,
        "tick_interval_ms": tick_ms, "requests": len(samples),
        "requests_per_s": round(len(samples) / wall, 1), "errors": len(errors),
        "error_samples": sorted({s.error or "" for s in errors})[:5],
        "latency_ms": _percentiles([s.latency_ms for s in answered]),
        "endpoints": per_endpoint,
        "staleness": {
            "clock_offset_ms": round(floor, 1),
            "age_ms": _percentiles([a - floor for a in _ages_ms(answered)]),
            "age_idle_ms": _percentiles([a - floor for a in idle_ages]),
            "ticks_behind_freshest_seen": _percentiles(_ticks_behind(answered), 0)},
        "engine": engine, "client_cpu_cores": round(cpu / wall, 2),
        "machine_cpus": os.cpu_count(), "database": database,
        # the machine is shared: its load when the figures were taken
        "load_average_1m": {"before": round(load_before, 2),
                            "after": round(os.getloadavg()[0], 2)}}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration (20)")
    parser.add_argument("--workers", type=int, default=3, help="oms web --workers (3)")
    parser.add_argument("--tick-ms", type=int, default=250,
                        help="the engine's OMS_TICK_INTERVAL_MS (250, the default)")
    parser.add_argument("--idle-seconds", type=float, default=2.0,
                        help="one client on the idle stack first: the clock offset (2)")
    parser.add_argument("--account", default="main", help="the account created and served")
    parser.add_argument("--admin-url", default=ADMIN_URL,
                        help=f"a PostgreSQL database to create the bench database from "
                             f"(default {ADMIN_URL})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the processes and the database are still cleaned up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(json.dumps(measure(args.clients, args.seconds, workers=args.workers,
                             tick_ms=args.tick_ms, idle_seconds=args.idle_seconds,
                             account=args.account, admin_url=args.admin_url,
                             progress=not args.no_progress), indent=2))


if __name__ == "__main__":
    main()
