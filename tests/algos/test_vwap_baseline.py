"""The idealised VWAP baseline of the evaluation, and tracking measured against it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from benchmarks.algo_eval import summarise
from benchmarks.vwap_baseline import baseline_row, static_profile_price
from oms.algos.vwap import profile_weights
from oms.market.klines import KlineArrays
from oms.model.enums import Side

START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


def _bars(minutes: int, prices: list[float], volumes: list[float]) -> KlineArrays:
    open_s = np.array([int((START + timedelta(minutes=k)).timestamp()) for k in range(minutes)])
    price = np.array(prices)
    volume = np.array(volumes)
    return KlineArrays("BTCUSDT", open_s, price, price, price, price, volume, price * volume,
                       np.ones(minutes, dtype=np.int64), volume / 2)


@dataclass(frozen=True)
class _Order:
    index: int
    symbol: str
    start: datetime
    side: Side
    size_share: float
    vwap: float


def test_the_baseline_fills_each_profile_share_at_that_minutes_vwap() -> None:
    prices = [100.0 + k for k in range(60)]
    volumes = [1.0 + (k % 7) for k in range(60)]
    arrays = _bars(60, prices, volumes)
    weights = profile_weights("BTCUSDT", START, START + timedelta(hours=1))

    price = static_profile_price(arrays, "BTCUSDT", START)

    expected = sum(w * p for w, p in zip(weights, prices, strict=True)) / sum(weights)
    assert price == pytest.approx(expected, rel=1e-12)
    hour_vwap = float(np.dot(prices, volumes) / sum(volumes))
    row = baseline_row(arrays, _Order(3, "BTCUSDT", START, Side.SELL, 0.01, hour_vwap), "b")
    # a sell that averaged below the VWAP is a positive cost
    assert row["vs_vwap_bps"] == pytest.approx(-(expected / hour_vwap - 1) * 1e4, rel=1e-9)
    assert row["order"] == 3 and row["fill_rate"] == 1.0


def test_a_window_with_missing_bars_is_refused() -> None:
    arrays = _bars(59, [100.0] * 59, [1.0] * 59)

    with pytest.raises(ValueError, match="59 bars"):
        static_profile_price(arrays, "BTCUSDT", START)


def test_tracking_is_absolute_and_compared_with_the_baseline_on_the_same_orders() -> None:
    def row(order: int, algo: str, vs_vwap: float) -> dict[str, object]:
        return {"order": order, "algo": algo, "size": 0.01, "side": "BUY", "fill_rate": 1.0,
                "children": 1, "vs_vwap_bps": vs_vwap, "vs_vwap_fees_bps": vs_vwap}

    rows = [row(0, "vwap", 2.0), row(1, "vwap", -4.0), row(2, "vwap", 3.0),
            row(0, "baseline_static_profile", -3.0), row(1, "baseline_static_profile", 5.0),
            row(2, "baseline_static_profile", 4.0)]

    summary = summarise(rows)

    vwap = summary["vwap"]["1%"]
    assert vwap["vwap_abs_dev_bps_mean"] == 3.0  # |2| + |-4| + |3|, not the signed 0.33
    assert vwap["vwap_abs_dev_bps_median"] == 3.0
    assert vwap["vwap_abs_dev_x_baseline"] == 0.75  # 9 / 12
    assert summary["baseline_static_profile"]["all"]["vwap_abs_dev_x_baseline"] == 1.0
