"""Revision 0007: the split deployment's tables exist on SQLite and PostgreSQL, with the index
the engine's command query uses; an existing 0006 database is upgraded, nothing lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from oms_process import postgres_database
from sqlalchemy import inspect, text

from oms.persistence import Database

_MIGRATIONS = Path(__file__).resolve().parents[2] / "oms" / "persistence" / "migrations"
TABLES = {"accounts", "commands", "engine_leases", "engine_snapshots"}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'oms.db'}"
        return
    with postgres_database("oms_schema") as pg:
        yield pg


def test_revision_0007_upgrades_a_0006_database(url: str) -> None:
    # Arrange: a database at 0006
    db = Database(url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    assert not TABLES & set(inspect(db.engine).get_table_names())

    # Act
    db.migrate()

    # Assert
    names = set(inspect(db.engine).get_table_names())
    assert names >= TABLES and "parent_orders" in names
    indexes = {i["name"]: i["column_names"] for i in inspect(db.engine).get_indexes("commands")}
    assert indexes["ix_commands_account_status_id"] == ["account", "status", "id"]
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            == "0007"
    db.dispose()
