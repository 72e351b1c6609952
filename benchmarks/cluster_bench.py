"""The split deployment's figures on the local PostgreSQL (not part of ``oms bench``: it needs a
server): command round trip (insert -> engine tick -> reply row -> NOTIFY -> waiter) p50/p99,
kill -> the engine's halt gate closed p50/p99 (the NOTIFY path), and takeover after kill -9 of
the active engine (until the standby holds the lease, and until it has published a snapshot).

    python -m benchmarks.cluster_bench [--commands 300] [--tick-ms 50] [--kills 50]

It creates and drops its own database; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from oms.cluster.accounts import account_url, add_account
from oms.cluster.client import CommandClient
from oms.cluster.remote import build_web_oms
from oms.commands import Resume
from oms.config import Settings
from oms.persistence.database import Database

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parents[1]


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
            "max_ms": round(ordered[-1], 2)}


def _engine(url: str, workdir: Path, tick_ms: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMS_DATABASE_URL": url, "OMS_TICK_INTERVAL_MS": str(tick_ms),
           "PYTHONPATH": str(ROOT)}
    log = (workdir / f"engine-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "oms.cli", "engine", "--account", "main",
                             "--speed", "60"], cwd=workdir, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def _first(url: str, sql: str) -> Any:
    """The first column of the first row of ``sql`` (None without a row)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(text(sql)).first()
    finally:
        engine.dispose()
    return row[0] if row else None


def _holder_pid(url: str) -> int | None:
    holder = _first(url, "SELECT holder FROM engine_leases")
    return int(holder.split(":")[-2]) if holder else None


def _snapshot_at(url: str) -> datetime:
    at: datetime | None = _first(url, "SELECT updated_at FROM engine_snapshots")
    return at or datetime.min.replace(tzinfo=UTC)


def _wait(predicate: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("cluster_bench: timed out")
        time.sleep(0.005)


def measure(commands: int = 300, tick_ms: int = 50, kills: int = 50) -> dict[str, Any]:
    """The figures (see the module docstring)."""
    name = f"oms_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    workdir = Path(tempfile.mkdtemp(prefix="oms-cluster-bench-"))
    processes: list[subprocess.Popen[bytes]] = []
    registry = Database(url)
    own = account_url(url, "main")  # the account's tables: commands, lease, snapshot
    database = Database(own)
    try:
        add_account(registry, "main")
        active = _engine(url, workdir, tick_ms)
        processes.append(active)
        _wait(lambda: _holder_pid(own) == active.pid)
        client = CommandClient(database)
        time.sleep(1.0)  # the first ticks (recovery, first snapshot) are not the steady state
        round_trips = []
        for _ in range(commands):
            started = time.perf_counter()
            client.call("main", Resume("bench"))
            round_trips.append((time.perf_counter() - started) * 1000)
        web = build_web_oms(Settings(database_url=own))
        kill_answers = []
        for i in range(kills):
            started = time.perf_counter()
            web.service.kill(f"bench kill {i}", actor="bench")
            kill_answers.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)
        time.sleep(0.5)
        log = "".join(p.read_text() for p in workdir.glob("engine-*.log"))
        gate_ms = [float(m) for m in re.findall(r"halt gate closed ([\d.]+) ms", log)]
        web.close()
        standby = _engine(url, workdir, tick_ms)
        processes.append(standby)
        time.sleep(4.0)  # the standby is waiting (imports done)
        killed, killed_at = time.perf_counter(), datetime.now(UTC)
        active.send_signal(signal.SIGKILL)
        active.wait()
        _wait(lambda: _holder_pid(own) == standby.pid)
        holds = (time.perf_counter() - killed) * 1000
        _wait(lambda: _snapshot_at(own) > killed_at)
        serving = (time.perf_counter() - killed) * 1000
        client.close()
        return {"cluster": {
            "tick_interval_ms": tick_ms,
            "command_round_trip": _percentiles(round_trips),
            "kill_answer": _percentiles(kill_answers),
            "kill_to_gate_closed": _percentiles(gate_ms) if gate_ms else None,
            "takeover_after_kill9_ms": {"lease_taken": round(holds, 1),
                                        "first_snapshot_published": round(serving, 1)}}}
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        database.dispose()
        registry.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--tick-ms", type=int, default=50)
    parser.add_argument("--kills", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(measure(args.commands, args.tick_ms, args.kills), indent=2))


if __name__ == "__main__":
    main()
