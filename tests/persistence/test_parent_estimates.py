"""Revision 0006 (parent_estimates): an existing 0005 database gains the empty table, keeps its
parents (which then have no estimate), and estimates written through both SQLite write paths
read back as they were stored."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from oms.model import AlgoName, ParentOrder, Side
from oms.persistence import Database, Repository, WriteBatch
from oms.persistence.database import _MIGRATIONS
from oms.persistence.estimates import parent_estimates
from oms.persistence.rows import json_text, parent_row

T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
ESTIMATE = {"version": 1, "total_bps": 10.25, "sd_bps": 3.5, "spread_bps": 0.01,
            "impact_bps": 0.24, "fees_bps": 10.0, "planned_children": 2, "mid": "60000.005"}


def _session_and_parent(parent_id: str) -> WriteBatch:
    parent = ParentOrder(parent_id=parent_id, session_id="s1", symbol="BTCUSDT", side=Side.BUY,
                         quantity=Decimal("0.05"), algo=AlgoName.TWAP, created_at=T0,
                         duration_minutes=4)
    return WriteBatch(
        sessions=[{"session_id": "s1", "kind": "rebalance", "created_at": T0, "ended_at": None,
                   "venue": "paper", "actor": "desk", "targets": {}, "params": {}}],
        parents=[parent_row(parent)])


def test_revision_0006_upgrades_a_0005_sqlite_database(tmp_path: Path) -> None:
    # Arrange: a database at 0005 with a session and a parent
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
    Repository(db).write(_session_and_parent("p-old"))
    assert "parent_estimates" not in inspect(db.engine).get_table_names()

    # Act
    db.migrate()

    # Assert: the table exists, the old parent is kept and has no estimate
    assert "parent_estimates" in inspect(db.engine).get_table_names()
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            >= "0006"  # the head (later revisions may follow)
    repo = Repository(db)
    assert [p.parent_id for p in repo.parents_of_session("s1")] == ["p-old"]
    assert parent_estimates(db, ["p-old"]) == {}
    db.dispose()


@pytest.mark.parametrize("fast", [True, False], ids=["sqlite-fast", "core"])
def test_an_estimate_reads_back_as_stored_on_both_write_paths(tmp_path: Path,
                                                              fast: bool) -> None:
    # Arrange
    db = Database(f"sqlite:///{tmp_path / 'new.db'}")
    db.migrate()
    repo = Repository(db)
    if not fast:
        repo._fast = None  # the Core statements other databases use
    batch = _session_and_parent("p1")
    batch.parent_estimates = [{"parent_id": "p1", "computed_at": T0,
                               "estimate": json_text(ESTIMATE)}]

    # Act
    repo.write(batch)

    # Assert
    assert parent_estimates(db, ["p1", "p-unknown"]) == {"p1": ESTIMATE}
    db.dispose()
