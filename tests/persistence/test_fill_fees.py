"""The fills table keeps a fee in any asset (asset, quantity, price, where it was paid) on both
write paths and PostgreSQL, and a database from before revision 0004 reads its fills as quote
fees; an account rebuilt from the stored fills equals the live one."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from oms.model import Account, AlgoName, ChildOrder, Fill, Liquidity, OrderType, ParentOrder, Side
from oms.model.orders import FeePaidIn
from oms.persistence import Database, Repository, WriteBatch
from oms.persistence.database import _MIGRATIONS
from oms.persistence.rows import child_row, fill_row, parent_row

D = Decimal
T0 = datetime(2026, 1, 5, 12, 0, 0, 250000, tzinfo=UTC)
POSTGRES_URL = os.environ.get("OMS_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _fill(fill_id: str, fee: str, **fee_fields: Any) -> Fill:
    return Fill(fill_id, "c1", "p1", "BTCUSDT", Side.BUY, D("50000.01"), D("0.01"), D(fee),
                Liquidity.TAKER, T0, "binance", **fee_fields)


def _fills() -> list[Fill]:
    return [
        _fill("f-base", "0.5000001", fee_asset="BTC", fee_quantity=D("0.00001"),
              fee_price=D("50000.01"), fee_paid_in=FeePaidIn.BASE),
        _fill("f-bnb", "0.300050", fee_asset="BNB", fee_quantity=D("0.0005"),
              fee_price=D("600.10"), fee_paid_in=FeePaidIn.OTHER),
        _fill("f-unvalued", "0", fee_asset="BNB", fee_quantity=D("0.0004"), fee_price=None,
              fee_paid_in=FeePaidIn.OTHER),
        _fill("f-paper", "0.5"),
    ]


def _batch(fills: list[Fill]) -> WriteBatch:
    parent = ParentOrder("p1", "s1", "BTCUSDT", Side.BUY, D("0.04"), AlgoName.TWAP, T0, 30.0)
    child = ChildOrder("c1", "p1", "BTCUSDT", Side.BUY, D("0.04"), OrderType.LIMIT, T0,
                       "binance", limit_price=D("50000.01"), sent_at=T0)
    return WriteBatch(
        sessions=[{"session_id": "s1", "kind": "rebalance", "created_at": T0, "ended_at": None,
                   "venue": "binance", "actor": "t", "targets": {}, "params": {}}],
        parents=[parent_row(parent)], children=[child_row(child)],
        fills=[fill_row(f) for f in fills])


def _account(fills: list[Fill]) -> tuple[object, ...]:
    account = Account(cash=D(1000))
    for fill in fills:
        account.apply_fill(fill)
    position = account.position("BTCUSDT")
    return (position.quantity, position.avg_cost, position.realised_pnl, account.cash,
            account.fees_paid, account.other_asset_fees, account.other_asset_fee_value)


def _roundtrip(repo: Repository) -> None:
    fills = _fills()
    repo.write(_batch(fills))
    loaded = repo.load_fills()
    assert sorted(loaded, key=lambda f: f.fill_id) == sorted(fills, key=lambda f: f.fill_id)
    assert _account(loaded) == _account(fills)


@pytest.mark.parametrize("path", ["fast", "core"])
def test_fee_fields_survive_both_sqlite_write_paths(tmp_path: Path, path: str) -> None:
    db = Database(f"sqlite:///{tmp_path / 'oms.db'}")
    db.migrate()
    repo = Repository(db)
    if path == "core":
        repo._fast = None  # force the SQLAlchemy Core statements
    _roundtrip(repo)


def test_the_position_rebuilt_from_the_database_equals_the_live_one(tmp_path: Path) -> None:
    # Arrange: the live account applies the fills as they come, and they are stored
    fills = _fills()
    live = _account(fills)
    db = Database(f"sqlite:///{tmp_path / 'oms.db'}")
    db.migrate()
    Repository(db).write(_batch(fills))
    db.dispose()

    # Act: a new process opens the database and replays the fills (oms.engine.recovery)
    reopened = Database(f"sqlite:///{tmp_path / 'oms.db'}")
    reopened.migrate()
    rebuilt = _account(Repository(reopened).load_fills())

    # Assert: the base-asset fee is out of the position there too
    assert rebuilt == live
    assert rebuilt[0] == D("0.04") - D("0.00001")


def test_fills_stored_before_revision_0004_read_as_quote_fees(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    old = {k: v for k, v in fill_row(_fills()[-1]).items() if not k.startswith("fee_")}
    batch = _batch([])
    with db.engine.begin() as connection:
        for table, row in (("sessions", batch.sessions[0]), ("parent_orders", batch.parents[0]),
                           ("child_orders", batch.children[0]), ("fills", old)):
            stored = {k: (str(v) if isinstance(v, Decimal | datetime) else v)
                      for k, v in row.items() if not isinstance(v, dict)}
            stored.update({k: "{}" for k, v in row.items() if isinstance(v, dict)})
            if table == "fills":
                stored["ts"] = T0.isoformat()
            names = ", ".join(stored)
            values = ", ".join(f":{k}" for k in stored)
            connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({values})"), stored)

    db.migrate()  # 0003 -> head
    (fill,) = Repository(db).load_fills()

    assert fill.fee_paid_in is FeePaidIn.QUOTE and fill.fee_asset is None
    assert fill.fee == D("0.5") and fill.fee_valued


def test_fee_fields_on_postgresql() -> None:
    db = Database(POSTGRES_URL)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS oms_fee_test CASCADE"))
            conn.execute(text("CREATE SCHEMA oms_fee_test"))
    except Exception as exc:  # no server on this machine
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    db.dispose()
    db = Database(POSTGRES_URL + "?options=-csearch_path%3Doms_fee_test")
    try:
        db.migrate()
        _roundtrip(Repository(db))
    finally:
        db.dispose()
