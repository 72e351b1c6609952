"""What makes a backtest cheap must not change it: the kline cache serves the parse, and the
harness's in-memory database (a copy of a migrated template) is the migrated schema, isolated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

import oms.market.klines as klines
from oms.cli import main
from oms.execution_harness import ExecutionHarness
from oms.market.klines import clear_memo
from oms.market.synthetic import SyntheticMarket
from oms.model import AlgoName, Side
from oms.persistence import Database

HALT_DAY = "klines_1m/edge_cases/BTCUSDT-1m-2023-03-24.zip"  # a real daily file, quick to parse
START = datetime(2024, 3, 4, 14, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_memo() -> Iterator[None]:
    clear_memo()
    yield
    clear_memo()


def backtest_json(data: Path, out: Path, cache: str, capsys: pytest.CaptureFixture[str]) -> Any:
    """``oms backtest`` of a 60-minute TWAP buy with ``--kline-cache cache``; its JSON report
    without the wall time (the one field that differs between runs)."""
    clear_memo()  # what a new process sees
    code = main(["backtest", "--data", str(data), "--symbol", "BTCUSDT", "--side", "buy",
                 "--quantity", "0.5", "--algo", "twap", "--start", "2023-03-24T09:00:00Z",
                 "--duration-minutes", "60", "--kline-cache", cache, "--json", str(out)])
    capsys.readouterr()
    assert code == 0
    report = json.loads(out.read_text())
    report["backtest"].pop("wall_time_ms")
    return report


def test_backtest_is_identical_with_and_without_the_cache(
        binance_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = binance_data / HALT_DAY
    cache = tmp_path / "cache"

    uncached = backtest_json(data, tmp_path / "a.json", "off", capsys)
    miss = backtest_json(data, tmp_path / "b.json", str(cache), capsys)
    parses: list[str] = []
    real = klines._parse
    monkeypatch.setattr(klines, "_parse", lambda raw, name: parses.append(name) or real(raw, name))
    hit = backtest_json(data, tmp_path / "c.json", str(cache), capsys)

    assert parses == []  # served from the entry the miss wrote
    assert len(list(cache.glob("*.npz"))) == 1
    assert uncached["parents"][0]["filled_quantity"] == pytest.approx(0.5)
    assert miss == uncached
    assert hit == uncached


def schema(engine: Engine) -> dict[str, Any]:
    """Tables with their columns (name, type, nullable, default), keys and indexes."""
    inspector = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        out[table] = {
            "columns": sorted((c["name"], str(c["type"]), c["nullable"], c.get("default"))
                              for c in inspector.get_columns(table)),
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                                    tuple(f["referred_columns"]))
                                   for f in inspector.get_foreign_keys(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(table)),
        }
    return out


def harness() -> ExecutionHarness:
    return ExecutionHarness(SyntheticMarket(["BTCUSDT"], START, seed=3), start=START,
                            symbols=["BTCUSDT"])


def test_harness_database_has_the_migrated_schema() -> None:
    migrated = Database("sqlite://")
    migrated.migrate()

    with harness() as first, harness() as second:
        copied = schema(first.database.engine)

        assert copied == schema(migrated.engine)
        assert copied == schema(second.database.engine)
        with first.database.engine.connect() as a, migrated.engine.connect() as b:
            version = "SELECT version_num FROM alembic_version"
            assert a.execute(text(version)).all() == b.execute(text(version)).all()
            assert a.execute(text("PRAGMA foreign_keys")).scalar() == 1
    migrated.dispose()


def test_harness_databases_are_isolated() -> None:
    with harness() as first:
        submitted = first.submit("BTCUSDT", Side.BUY, Decimal("0.01"), AlgoName.MARKET, 1.0)
        first.tick()
        assert first.repository.session(submitted.session_id) is not None

        with harness() as second:
            assert second.repository.sessions() == []
            assert second.repository.session(submitted.session_id) is None
