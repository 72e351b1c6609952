"""Equity and P&L history: the engine samples every 5 s of market time in its tick's
transaction, old samples are thinned by the documented rule, the ranges read what they say,
and revision 0005 upgrades an existing 0004 database on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from oms_harness import make_harness
from sqlalchemy import inspect, text

from oms.engine.history import FINE_FOR, KEEP_FOR, EquitySampler
from oms.persistence import Database, Repository, WriteBatch
from oms.persistence.database import _MIGRATIONS
from oms.persistence.history import EquityPrune, HistoryRange

D = Decimal
T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("OMS_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _row(ts: datetime, pnl: str, *, mark: bool, run: datetime = T0) -> dict[str, object]:
    return {"ts": ts, "run_started_at": run, "equity": D("100000") + D(pnl),
            "cash": D("100000"), "pnl": D(pnl), "minute_mark": mark}


def test_the_engine_samples_every_5_seconds_of_market_time_whatever_the_tick_rate(
        tmp_path: Path) -> None:
    # Arrange / Act: 60 s of market time in ticks of 0.25 s
    h = make_harness(tmp_path)
    h.run(60, step=0.25)

    # Assert: the first tick's sample, then one on each 5 s boundary
    samples = h.oms.repository.equity_history(HistoryRange.ALL)
    steps = [(b.ts - a.ts).total_seconds() for a, b in pairwise(samples)]
    assert len(samples) == 13 and set(steps[1:]) == {5.0}
    assert all(s.ts.second % 5 == 0 and s.ts.microsecond == 0 for s in samples[1:])
    assert all(s.pnl == s.equity - D(100_000) for s in samples)
    h.oms.close()


def test_the_interval_is_a_setting_and_the_clock_rides_in_the_samples_transaction(
        tmp_path: Path) -> None:
    # Arrange / Act: samples every 30 s; 2 minutes of quiet market in 1 s ticks
    h = make_harness(tmp_path, equity_sample_s=30)
    writes_before = h.oms.engine.journal.writes
    h.run(120, step=1)

    # Assert: a sample per 30 s boundary, and one transaction each (the engine's clock row is
    # written in the sample's transaction, not in a transaction of its own the tick after)
    samples = h.oms.repository.equity_history(HistoryRange.ALL)
    assert [(b.ts - a.ts).total_seconds() for a, b in pairwise(samples)][1:] == [30.0] * 3
    assert h.oms.engine.journal.writes - writes_before == len(samples) == 5
    h.oms.close()


def test_a_sampling_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        EquitySampler(T0, timedelta(0))


def test_the_sampler_marks_the_first_sample_of_each_minute_and_prunes_hourly() -> None:
    sampler = EquitySampler(T0)
    times = [T0 + timedelta(seconds=s) for s in (0, 1, 5, 59, 60, 64, 65)]
    rows = [sampler.sample(t, equity=D(1), cash=D(1), pnl=D(0)) for t in times]
    kept = [(r["ts"], r["minute_mark"]) for r in rows if r is not None]
    assert kept == [(times[0], True), (times[2], False), (times[3], False), (times[4], True),
                    (times[6], False)]
    first = sampler.prune(T0)
    assert first == EquityPrune(T0 - FINE_FOR, T0 - KEEP_FOR)
    assert sampler.prune(T0 + timedelta(minutes=59)) is None
    assert sampler.prune(T0 + timedelta(hours=1)) is not None


@pytest.mark.parametrize("path", ["fast", "core"])
def test_thinning_keeps_minute_marks_past_a_day_and_nothing_past_90_days(
        tmp_path: Path, path: str) -> None:
    # Arrange
    db = Database(f"sqlite:///{tmp_path / 'oms.db'}")
    db.migrate()
    repo = Repository(db)
    if path == "core":
        repo._fast = None  # the SQLAlchemy Core statements (the PostgreSQL path)
    now = T0 + KEEP_FOR + timedelta(days=2)
    rows = [_row(T0, "1", mark=True),                                   # past 90 days
            _row(now - timedelta(days=3), "2", mark=True),              # old minute mark
            _row(now - timedelta(days=3, seconds=-5), "3", mark=False),  # old, not a mark
            _row(now - timedelta(hours=2), "4", mark=False)]            # recent: kept
    repo.write(WriteBatch(equity_samples=rows))

    # Act
    repo.write(WriteBatch(equity_prune=EquityPrune(now - FINE_FOR, now - KEEP_FOR)))

    # Assert
    assert [s.pnl for s in repo.equity_history(HistoryRange.ALL)] == [D("2"), D("4")]


def test_ranges_read_this_run_the_market_day_or_everything(tmp_path: Path) -> None:
    # Arrange: two runs, the second on the next UTC day
    db = Database(f"sqlite:///{tmp_path / 'oms.db'}")
    db.migrate()
    repo = Repository(db)
    second = T0 + timedelta(hours=12)  # 02:00 the next day
    repo.write(WriteBatch(equity_samples=[
        _row(T0, "1", mark=True), _row(T0 + timedelta(hours=9, minutes=59), "2", mark=True),
        _row(second, "3", mark=True, run=second - timedelta(hours=1)),
        _row(second + timedelta(seconds=5), "4", mark=False,
             run=second - timedelta(hours=1))]))
    repo.write(WriteBatch(equity_samples=[
        _row(second + timedelta(minutes=1), "5", mark=True, run=second + timedelta(minutes=1))]))

    # Act
    pnl = {span: [s.pnl for s in repo.equity_history(span)] for span in HistoryRange}

    # Assert
    assert pnl[HistoryRange.SESSION] == [D("5")]
    assert pnl[HistoryRange.DAY] == [D("3"), D("4"), D("5")]
    assert pnl[HistoryRange.ALL] == [D(n) for n in "12345"]


def test_a_restart_keeps_the_history_and_starts_a_new_session(tmp_path: Path) -> None:
    # Arrange: a run of 30 s, then a new process on the same database
    first = make_harness(tmp_path)
    first.run(30)
    stored = len(first.oms.repository.equity_history(HistoryRange.ALL))
    first.oms.close()

    # Act
    second = make_harness(tmp_path, start=first.clock.now() + timedelta(seconds=60), token="u")
    second.run(10)

    # Assert
    repo = second.oms.repository
    assert stored >= 6
    assert len(repo.equity_history(HistoryRange.ALL)) == stored + 3
    assert len(repo.equity_history(HistoryRange.SESSION)) == 3
    second.oms.close()


def _upgrade_to_0004_with_a_session(db: Database) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        connection.execute(text(
            "INSERT INTO sessions VALUES ('s1', 'rebalance', '2024-01-01 00:00:00', "
            "NULL, 'paper', 'desk', '{}', '{}')"))


def _assert_upgraded(db: Database) -> None:
    assert "equity_samples" not in inspect(db.engine).get_table_names()
    db.migrate()
    assert "equity_samples" in inspect(db.engine).get_table_names()
    with db.engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version is not None and version >= "0005"  # the head (later revisions may follow)
    repo = Repository(db)
    assert repo.session("s1") is not None  # the 0004 rows are kept
    repo.write(WriteBatch(equity_samples=[_row(T0, "1.25", mark=True)]))
    (sample,) = repo.equity_history(HistoryRange.SESSION)
    assert sample.pnl == D("1.25") and sample.ts == T0


def test_revision_0005_upgrades_a_0004_sqlite_database(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    _upgrade_to_0004_with_a_session(db)
    _assert_upgraded(db)


def test_revision_0005_upgrades_a_0004_postgresql_database() -> None:
    admin = Database(POSTGRES_URL)
    try:
        with admin.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS oms_history_test CASCADE"))
            conn.execute(text("CREATE SCHEMA oms_history_test"))
    except Exception as exc:  # no server on this machine
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    finally:
        admin.dispose()
    db = Database(POSTGRES_URL + "?options=-csearch_path%3Doms_history_test")
    try:
        _upgrade_to_0004_with_a_session(db)
        _assert_upgraded(db)
    finally:
        db.dispose()
