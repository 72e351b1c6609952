"""L2 book model vs the real 2024-08-08 BTCUSDT depth snapshot."""
# ruff: noqa: F811 - the fixtures imported from market_testdata are used as test arguments

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from market_testdata import data_dir  # noqa: F401 - fixtures, used as arguments

from oms.market.book import LevelGrid, curve_for_symbol, walk_cost_bps
from oms.market.synthetic import SyntheticMarket

SNAPSHOT = "l2_trades/{symbol}_20240808T2354_20240809T0005_depth_snapshot_1000.json"


def _load(base: Path, symbol: str) -> dict[str, list[tuple[float, float]]]:
    raw = json.loads((base / SNAPSHOT.format(symbol=symbol)).read_text())
    return {side: [(float(p), float(q)) for p, q in raw[side]] for side in ("bids", "asks")}


@pytest.fixture(scope="module")
def snapshot(data_dir: Path) -> dict[str, list[tuple[float, float]]]:
    return _load(data_dir, "BTCUSDT")


@pytest.mark.parametrize("quantity", [5.0, 50.0])
def test_market_buy_costs_within_25_percent_of_the_real_book(
        quantity: float, snapshot: dict[str, list[tuple[float, float]]]) -> None:
    asks, bids = snapshot["asks"], snapshot["bids"]
    mid = (asks[0][0] + bids[0][0]) / 2
    grid = LevelGrid(curve_for_symbol("BTCUSDT"))

    real = walk_cost_bps(asks, quantity, mid)
    simulated = walk_cost_bps(grid.levels(mid, asks[0][0], 0.01, True, 1.0), quantity, mid)

    assert simulated == pytest.approx(real, rel=0.25)


@pytest.mark.parametrize("quantity", [100.0, 1000.0])
def test_eth_book_is_calibrated_on_its_own_snapshot(quantity: float, data_dir: Path) -> None:
    book = _load(data_dir, "ETHUSDT")
    asks, bids = book["asks"], book["bids"]
    mid = (asks[0][0] + bids[0][0]) / 2
    grid = LevelGrid(curve_for_symbol("ETHUSDT"))

    real = walk_cost_bps(asks, quantity, mid)
    simulated = walk_cost_bps(grid.levels(mid, asks[0][0], 0.01, True, 1.0), quantity, mid)

    assert simulated == pytest.approx(real, rel=0.25)


def test_depth_scales_with_volume() -> None:
    grid = LevelGrid(curve_for_symbol("BTCUSDT"))
    mid = 60_000.005

    thin = walk_cost_bps(grid.levels(mid, 60_000.01, 0.01, True, 0.5), 20.0, mid)
    normal = walk_cost_bps(grid.levels(mid, 60_000.01, 0.01, True, 1.0), 20.0, mid)
    deep = walk_cost_bps(grid.levels(mid, 60_000.01, 0.01, True, 2.0), 20.0, mid)

    assert thin > normal > deep


def test_book_levels_are_ordered_on_the_tick_grid() -> None:
    market = SyntheticMarket(["SOLUSDT", "BTCUSDT"], datetime(2024, 5, 1, tzinfo=UTC))
    for symbol in market.symbols:
        book = market.book(symbol, depth=20)
        tick = market.tick_decimal(symbol)

        assert len(book.bids) == len(book.asks) == 20
        assert book.bids[0].price < book.asks[0].price
        assert all(a.price > b.price for a, b in zip(book.bids, book.bids[1:], strict=False))
        assert all(b.price > a.price for a, b in zip(book.asks, book.asks[1:], strict=False))
        assert all(level.price % tick == 0 and level.quantity > 0
                   for level in book.bids + book.asks)
