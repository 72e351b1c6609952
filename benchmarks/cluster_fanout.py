"""Snapshot fan-out of the split deployment to many dashboard clients, on the local PostgreSQL.

    python -m benchmarks.cluster_fanout [--clients 50] [--seconds 20] [--workers 3]

It starts the deployment the way the README's "Deployment: several processes" does, with the
CLI only (``oms accounts add``, ``oms engine --account``, ``oms web --workers``, on a new
database ``bench_<random>``), seeds working parents through ``POST /api/v1/rebalance``, then
``--clients`` threads (a ``requests.Session`` each) poll the live REST endpoints round-robin
for ``--seconds``: requests/s, latency p50/p99 per endpoint, errors (any answer but 200), and
staleness: the age of the snapshot a client is shown, ``now - market_time`` of ``/status``
(the engine runs at --speed 1 on the synthetic market, whose clock is the wall clock from the
engine's start less its market build time: that offset is the least age one client sees on the
idle stack, measured first and subtracted), and how many ticks it is behind the freshest tick
any client had seen by then. Everything it starts is stopped, and the database dropped, also on
failure. Prints one JSON object; the load's progress on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from oms.progress import Progress

__all__ = ["ENDPOINTS", "measure"]

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parents[1]
#: what a dashboard's live panels poll: the snapshot-backed status and reconciliation, and the
#: database-backed blotters (working parents, the latest children)
ENDPOINTS = {"status": "/api/v1/status", "reconciliation": "/api/v1/reconciliation",
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM its process group (gunicorn and its workers, or the engine), SIGKILL if slow."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def _deployment(name: str, *, account: str, workers: int, tick_ms: int,
                admin_url: str) -> Iterator[str]:
    """A new database ``name``, its account, one engine and ``oms web``; the web's base URL."""
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "OMS_DATABASE_URL": url, "OMS_TICK_INTERVAL_MS": str(tick_ms),
           "PYTHONPATH": str(ROOT)}
    for secret in ("OMS_AUTH_USERS", "OMS_API_TOKEN"):  # loopback, unauthenticated
        env.pop(secret, None)
    oms = [sys.executable, "-m", "oms.cli"]
    port = _free_port()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp, contextlib.ExitStack() as logs:
        workdir = Path(tmp)

        def start(role: str, *args: str) -> None:
            log = logs.enter_context((workdir / f"{role}.log").open("wb"))
            processes.append(subprocess.Popen([*oms, *args], cwd=workdir, env=env, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True))

        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            subprocess.run([*oms, "accounts", "add", account], cwd=workdir, env=env,
                           check=True, capture_output=True, timeout=120)
            start("engine", "engine", "--account", account, "--speed", "1")
            start("web", "web", "--port", str(port), "--workers", str(workers),
                  "--account", account)
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, processes, workdir)
            yield base
        finally:
            for process in reversed(processes):
                _stop(process)
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _wait_ready(base: str, processes: list[subprocess.Popen[bytes]], workdir: Path,
                timeout_s: float = 120.0) -> None:
    """Until /status answers 200 (503: no engine has published yet)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                logs = {p.name: p.read_text(errors="replace")[-2000:] for p in
                        workdir.glob("*.log")}
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}: {logs}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}{ENDPOINTS['status']}", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"oms web at {base} did not answer 200 within {timeout_s} s")


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
    status = json.loads(body)
    return Sample(endpoint, latency_ms, None, received, int(status["tick"]),
                  datetime.fromisoformat(status["market_time"]))


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
    return [(s.received - s.market_time).total_seconds() * 1000 for s in samples
            if s.market_time is not None]


def _ticks_behind(samples: list[Sample]) -> list[float]:
    """Per /status answer: the freshest tick any client had received by then, minus its own."""
    freshest, behind = -1, []
    for sample in sorted((s for s in samples if s.tick is not None), key=lambda s: s.received):
        assert sample.tick is not None
        freshest = max(freshest, sample.tick)
        behind.append(float(freshest - sample.tick))
    return behind


def measure(clients: int = 50, seconds: float = 20.0, *, workers: int = 3, tick_ms: int = 250,
            idle_seconds: float = 2.0, account: str = "main", admin_url: str = ADMIN_URL,
            progress: bool = True) -> dict[str, Any]:
    """The figures (see the module docstring)."""
    if clients < 1 or seconds <= 0:
        raise ValueError(f"clients={clients} and seconds={seconds} must be positive")
    names = list(ENDPOINTS)
    database = f"bench_{uuid.uuid4().hex[:12]}"
    with _deployment(database, account=account, workers=workers, tick_ms=tick_ms,
                     admin_url=admin_url) as base:
        _seed(base)
        idle, _, _ = _load(base, 1, idle_seconds, ["status"], progress=False)
        samples, wall, cpu = _load(base, clients, seconds, names, progress)
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
        "client_cpu_cores": round(cpu / wall, 2), "machine_cpus": os.cpu_count(),
        "database": database}}


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
