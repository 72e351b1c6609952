"""Schema and repository: Alembic matches the tables; the SQLite fast path and the SQLAlchemy
path store the same exact values; pages and filters."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from oms.model import AlgoName, ChildOrder, Fill, Liquidity, OrderType, ParentOrder, Side
from oms.persistence import Database, Repository, WriteBatch
from oms.persistence.rows import child_row, fill_row, parent_row
from oms.persistence.tables import Base

T0 = datetime(2024, 3, 4, 14, 0, 0, 123456, tzinfo=UTC)


def batch() -> WriteBatch:
    parent = ParentOrder("p1", "s1", "BTCUSDT", Side.BUY, Decimal("1.23456789012345678"),
                         AlgoName.TWAP, T0, 30.0, algo_params={"slices": 4},
                         decision_price=Decimal("65000.01"))
    child = ChildOrder("c1", "p1", "BTCUSDT", Side.BUY, Decimal("0.00001"), OrderType.LIMIT, T0,
                       "paper", limit_price=Decimal("64999.99"), sent_at=T0)
    fill = Fill("f1", "c1", "p1", "BTCUSDT", Side.BUY, Decimal("64999.99"), Decimal("0.00001"),
                Decimal("0.000649999900"), Liquidity.MAKER, T0, "paper",
                mid_price=Decimal("65000.005"), half_spread=Decimal("0.005"))
    return WriteBatch(
        sessions=[{"session_id": "s1", "kind": "rebalance", "created_at": T0, "ended_at": None,
                   "venue": "paper", "actor": "t", "targets": {"BTCUSDT": "100"}, "params": {}}],
        parents=[parent_row(parent)], children=[child_row(child, "slice-1")],
        fills=[fill_row(fill)],
        audit=[{"ts": T0, "event": "OrderCreated", "entity_id": "c1", "actor": "engine",
                "payload": {"quantity": "0.00001"}}])


def roundtrip(repo: Repository) -> None:
    repo.write(batch())
    parent = repo.parents_page().rows[0]
    assert parent["quantity"] == Decimal("1.23456789012345678")
    assert parent["created_at"] == T0 and parent["created_at"].tzinfo is not None
    assert parent["algo_params"] == {"slices": 4}
    fill = repo.fills_for(parent_id="p1")[0]
    assert fill.fee == Decimal("0.000649999900") and fill.mid_price == Decimal("65000.005")
    assert fill.ts == T0
    assert repo.audit(entity_id="c1")[0]["payload"] == {"quantity": "0.00001"}
    assert repo.children_page(parent_id="p1", state="PENDING_NEW").total == 1
    assert repo.children_page(parent_id="p1", state="FILLED").total == 0


def test_migrations_match_the_table_definitions(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    db.migrate()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_is_wal_with_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    db.migrate()
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_fast_path_and_core_path_store_the_same(tmp_path: Path) -> None:
    fast = Database(f"sqlite:///{tmp_path / 'fast.db'}")
    fast.migrate()
    roundtrip(Repository(fast))
    core = Database(f"sqlite:///{tmp_path / 'core.db'}")
    core.migrate()
    repo = Repository(core)
    repo._fast = None  # force the SQLAlchemy Core statements
    roundtrip(repo)
    with fast.engine.connect() as a, core.engine.connect() as b:
        for table in ("parent_orders", "child_orders", "fills"):
            assert a.execute(text(f"SELECT * FROM {table}")).all() == \
                b.execute(text(f"SELECT * FROM {table}")).all()


def test_failed_write_applies_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    db.migrate()
    repo = Repository(db)
    bad = batch()
    bad.fills[0]["parent_id"] = "missing"  # foreign key violation after the good rows
    from oms.errors import PersistenceError

    with pytest.raises(PersistenceError):
        repo.write(bad)
    assert repo.parents_page().total == 0


POSTGRES_URL = os.environ.get("OMS_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def test_postgresql_roundtrip() -> None:
    """The production path: Numeric and timestamptz columns on a real PostgreSQL (loopback)."""
    db = Database(POSTGRES_URL)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS oms_test CASCADE"))
            conn.execute(text("CREATE SCHEMA oms_test"))
    except Exception as exc:  # no server on this machine
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    db.dispose()
    db = Database(POSTGRES_URL + "?options=-csearch_path%3Doms_test")
    db.migrate()
    roundtrip(Repository(db))
    with db.engine.connect() as conn:
        kind = conn.execute(text("SELECT data_type FROM information_schema.columns WHERE "
                                 "table_schema='oms_test' AND table_name='fills' AND "
                                 "column_name='price'")).scalar()
    assert kind == "numeric"
    db.dispose()


def test_pages_sort_by_a_column_and_refuse_unknown_ones(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'd.db'}")
    db.migrate()
    repo = Repository(db)
    first = batch()
    second = batch()
    second.sessions = []
    first.parents[0].update(quantity=Decimal("9.5"))
    second.parents[0].update(parent_id="p2", quantity=Decimal("10.25"))  # "10.25" < "9.5" as text
    second.children, second.fills, second.audit = [], [], []
    repo.write(first)
    repo.write(second)
    ascending = repo.parents_page(order_by="quantity", descending=False).rows
    assert [r["parent_id"] for r in ascending] == ["p1", "p2"]
    from oms.errors import ValidationError

    with pytest.raises(ValidationError, match="order_by"):
        repo.parents_page(order_by="no_such_column")
