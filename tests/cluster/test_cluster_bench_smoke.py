"""The issue-18 benchmarks run end to end at tiny sizes through their CLI on the local
PostgreSQL (skipped without one): each prints one JSON object with its figures and no errors,
and drops the ``bench_`` databases it names. No timing is asserted (figures are the benchmarks')."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from oms_process import PG_ADMIN, ROOT
from sqlalchemy import create_engine, text


def _bench_databases() -> set[str]:
    """The ``bench_`` databases on the local server (skips when none answers)."""
    try:
        engine = create_engine(PG_ADMIN, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%'"))
            names = {str(row[0]) for row in rows}
        engine.dispose()
    except Exception as exc:  # any failure to connect means "not available"
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    return names


def _run(module: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", module, "--no-progress", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_db_throughput_reports_both_databases_and_drops_its_own() -> None:
    # Arrange
    _bench_databases()  # skips without a server

    # Act
    result = _run("benchmarks.db_throughput", "--children", "200", "--repeats", "1")

    # Assert
    figures = result["db_throughput"]
    for database in ("sqlite", "postgresql"):
        assert figures[database]["children_per_s_median"] > 0
        assert len(figures[database]["children_per_s_runs"]) == 1
    assert figures["postgresql_over_sqlite"] > 0
    assert figures["postgresql"]["server"]["synchronous_commit"]
    assert figures["postgresql"]["databases"]
    assert not set(figures["postgresql"]["databases"]) & _bench_databases()


def test_cluster_fanout_answers_every_request_and_stops_everything() -> None:
    # Arrange
    _bench_databases()  # skips without a server

    # Act
    result = _run("benchmarks.cluster_fanout", "--clients", "5", "--seconds", "1",
                  "--idle-seconds", "0.5")

    # Assert
    figures = result["cluster_fanout"]
    assert figures["errors"] == 0, figures["error_samples"]
    assert figures["requests"] > 0
    for name, endpoint in figures["endpoints"].items():
        assert endpoint["requests"] > 0, name
        assert endpoint["errors"] == 0, name
        assert {"p50", "p99"} <= set(endpoint["latency_ms"]), name
    staleness = figures["staleness"]
    assert staleness["age_ms"]["n"] > 0
    assert {"p50", "p99"} <= set(staleness["ticks_behind_freshest_seen"])
    assert figures["database"] not in _bench_databases()
