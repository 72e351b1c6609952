"""What a start refuses or resumes: a damaged SQLite file, a database of another account or
venue, an older schema (migrated), and where the replayed market resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from oms.bootstrap import build_oms
from oms.config import Settings
from oms.errors import ConfigError
from oms.persistence import Database, Repository
from oms.persistence.repository import WriteBatch
from oms.restart import check_identity, check_sqlite, replay_start

MIGRATIONS = Path(__file__).resolve().parents[2] / "oms" / "persistence" / "migrations"


def _fresh(path: Path) -> Repository:
    database = Database(f"sqlite:///{path}")
    database.migrate()
    return Repository(database)


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "oms.db"
    path.write_bytes(b"this is not an SQLite database, it is a text file\n" * 100)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"oms\.db cannot be used: file is not a database"):
        build_oms(Settings(database_url=f"sqlite:///{path}"))
    assert path.read_bytes() == before
    assert not (tmp_path / "oms.db-wal").exists()


def test_a_truncated_database_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "oms.db"
    repository = _fresh(path)
    repository.db.dispose()
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(ConfigError, match=str(path)):
        check_sqlite(f"sqlite:///{path}")


def test_a_database_of_another_account_or_venue_is_refused(tmp_path: Path) -> None:
    repository = _fresh(tmp_path / "oms.db")
    check_identity(repository, venue="paper", account="main")
    check_identity(repository, venue="paper", account="main")  # the same: accepted
    with pytest.raises(ConfigError, match="belongs to account 'main', not 'desk2'"):
        check_identity(repository, venue="paper", account="desk2")
    with pytest.raises(ConfigError, match="belongs to venue 'paper', not 'binance-testnet'"):
        check_identity(repository, venue="binance-testnet", account="main")


def test_an_older_schema_is_migrated_and_its_rows_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    database = Database(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.execute(text(
            "INSERT INTO sessions VALUES ('s1', 'rebalance', '2024-01-01 00:00:00.000000', "
            "NULL, 'paper', 'desk', '{}', '{}')"))
    assert "engine_state" not in inspect(database.engine).get_table_names()

    database.migrate()

    tables = set(inspect(database.engine).get_table_names())
    assert {"engine_state", "paper_orders", "paper_state"} <= tables
    columns = {c["name"] for c in inspect(database.engine).get_columns("child_orders")}
    assert "intent_id" in columns
    assert Repository(database).session("s1") is not None


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    database = Database(url)
    database.migrate()
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError, match="cannot be brought to this version's schema"):
        Database(url).migrate()


def _record_clock(repository: Repository, market_time: datetime) -> None:
    repository.write(WriteBatch(state={"engine_state": {"clock": {
        "key": "clock", "updated_at": market_time,
        "value": {"market_time": market_time.isoformat(),
                  "wall_time": datetime.now(UTC).isoformat()}}}}))


def test_the_replay_resumes_where_the_same_file_stopped(tmp_path: Path) -> None:
    repository = _fresh(tmp_path / "oms.db")
    data = tmp_path / "klines.csv"
    data.write_text("a,b,c\n1,2,3\n")
    first = datetime(2024, 1, 1, tzinfo=UTC)
    last = first + timedelta(days=10)

    assert replay_start(repository, data, first, last) == first  # a fresh database
    _record_clock(repository, first + timedelta(hours=5))
    assert replay_start(repository, data, first, last) == first + timedelta(hours=5)

    _record_clock(repository, last + timedelta(hours=1))  # outside the file: from its start
    assert replay_start(repository, data, first, last) == first

    _record_clock(repository, first + timedelta(hours=5))
    data.write_text("another file\n")  # another content: from its start
    assert replay_start(repository, data, first, last) == first
