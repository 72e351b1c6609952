"""Engine throughput on SQLite vs PostgreSQL, the same workload on the same machine.

The workload of ``benchmarks/engine_bench.py`` (market children through risk, the paper venue,
fills and the database; the figure engine_child_orders_per_s) runs on a new SQLite file and on
a new local PostgreSQL database per repetition, the two interleaved: medians of children/s,
their ratio, and the share of the run's wall time spent in ``Repository.write`` (the engine's
one transaction per tick).

    python -m benchmarks.db_throughput [--children 20000] [--repeats 3]

On SQLite the journal's batches go through ``oms/persistence/sqlite_fast.py`` (prepared
statements fed plain tuples); every other database, PostgreSQL included, goes through
SQLAlchemy Core executemany (its type processing per value), which on psycopg 3 is the
driver's ``executemany`` in pipeline mode: one INSERT or UPDATE-by-key executed per row,
pipelined in a few round trips (SQLAlchemy's multi-row ``insertmanyvalues`` is used only with
RETURNING on psycopg 3); the state tables are ``INSERT .. ON CONFLICT DO UPDATE`` the same way.
The figures share the machine: the load average before and after is reported beside them.
It creates and drops its own databases (``bench_`` and a random suffix); prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.engine_bench import run
from oms.persistence.repository import Repository

__all__ = ["measure"]

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: the server settings that decide what a commit costs (SQLite here runs WAL, synchronous=NORMAL:
#: no fsync per commit; PostgreSQL's default synchronous_commit=on waits for the WAL flush)
_SERVER_SETTINGS = ("server_version", "synchronous_commit", "fsync", "shared_buffers")


@contextlib.contextmanager
def _postgres_database(admin_url: str, name: str, options: str | None) -> Iterator[str]:
    """A new empty database ``name`` on the server of ``admin_url``, dropped afterwards; its
    URL carries libpq ``options`` if given (e.g. ``-c synchronous_commit=off``)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(database=name)
            if options:
                url = url.update_query_dict({"options": options})
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


class _WriteTimer:
    """Wall time spent in ``Repository.write`` while installed (one timer call per tick)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        original = Repository.write

        def timed(repository: Repository, batch: Any) -> None:
            started = time.perf_counter()
            try:
                original(repository, batch)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        setattr(Repository, "write", timed)  # noqa: B010 (mypy refuses assigning a method)
        try:
            yield
        finally:
            setattr(Repository, "write", original)  # noqa: B010


def _one(children: int, database_url: str | None, label: str,
         progress: bool) -> dict[str, float]:
    timer = _WriteTimer()
    with timer.installed():
        result = run(children, progress=progress, label=label, database_url=database_url)
    # the figure's elapsed time is the tick loop; the writes inside it are timed the same way
    return {"children": result.children, "children_per_s": result.children_per_s,
            "us_per_child": result.us_per_child,
            "write_share": min(1.0, timer.seconds / result.elapsed_s),
            "write_us_per_child": timer.seconds * 1e6 / result.children}


def _summary(runs: list[dict[str, float]]) -> dict[str, Any]:
    def median(key: str, digits: int) -> float:
        return round(statistics.median(r[key] for r in runs), digits)

    return {"children_per_s_median": median("children_per_s", 1),
            "us_per_child_median": median("us_per_child", 1),
            "write_us_per_child_median": median("write_us_per_child", 1),
            "write_share_median": median("write_share", 3),
            "children_per_s_runs": [round(r["children_per_s"], 1) for r in runs]}


def _server_settings(admin_url: str) -> dict[str, str]:
    engine = create_engine(admin_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT name, setting || coalesce(' x ' || unit, '') FROM pg_settings "
                "WHERE name = ANY(:names)"), {"names": list(_SERVER_SETTINGS)})
            return {str(name): str(setting) for name, setting in rows}
    finally:
        engine.dispose()


def measure(children: int = 20_000, repeats: int = 3, *, admin_url: str = ADMIN_URL,
            pg_options: str | None = None, progress: bool = True) -> dict[str, Any]:
    """The figures (see the module docstring); SQLite and PostgreSQL runs alternate, so a
    machine's drift falls on both. ``pg_options``: libpq options of the engine's sessions."""
    if repeats < 1:
        raise ValueError(f"repeats={repeats} must be at least 1")
    load_before = os.getloadavg()[0]
    sqlite_runs: list[dict[str, float]] = []
    postgres_runs: list[dict[str, float]] = []
    databases = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(repeats)]
    for i in range(repeats):
        sqlite_runs.append(_one(children, None, f"sqlite {i + 1}/{repeats}", progress))
        with _postgres_database(admin_url, databases[i], pg_options) as url:
            postgres_runs.append(_one(children, url, f"postgresql {i + 1}/{repeats}", progress))
    sqlite, postgres = _summary(sqlite_runs), _summary(postgres_runs)
    return {"db_throughput": {
        "children": children, "repeats": repeats,
        "sqlite": {**sqlite, "write_path": "oms/persistence/sqlite_fast.py (prepared statements, "
                                            "plain tuples)"},
        "postgresql": {**postgres, "write_path": "SQLAlchemy Core executemany -> psycopg 3 "
                                                 "pipelined executemany, one statement per row "
                                                 "(INSERT, UPDATE by key, ON CONFLICT upsert)",
                       "server": _server_settings(admin_url), "session_options": pg_options,
                       "databases": databases},
        "postgresql_over_sqlite": round(postgres["children_per_s_median"]
                                        / sqlite["children_per_s_median"], 3),
        "load_average_1m": {"before": round(load_before, 2),
                            "after": round(os.getloadavg()[0], 2)},
        "machine_cpus": os.cpu_count()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--children", type=int, default=20_000,
                        help="market children per run (default 20000)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per database; medians are reported (default 3)")
    parser.add_argument("--admin-url", default=ADMIN_URL,
                        help=f"a PostgreSQL database to create the bench databases from "
                             f"(default {ADMIN_URL})")
    parser.add_argument("--pg-options", default=None, metavar="OPTIONS",
                        help="libpq options for the engine's PostgreSQL sessions, e.g. "
                             "'-c synchronous_commit=off' (what durability costs)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    args = parser.parse_args()
    print(json.dumps(measure(args.children, args.repeats, admin_url=args.admin_url,
                             pg_options=args.pg_options, progress=not args.no_progress),
                     indent=2))


if __name__ == "__main__":
    main()
