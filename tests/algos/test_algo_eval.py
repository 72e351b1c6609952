"""The evaluation script's order set and summary (the full run is a benchmark, not a test)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from algo_fakes import shared_kline_file

from benchmarks.algo_eval import (
    ALGORITHMS,
    DATA_END,
    IDEAL,
    SIZES,
    make_orders,
    run_order,
    summarise,
)
from oms.market.klines import kline_arrays


def test_orders_stay_in_the_calibration_period_and_cycle_sizes() -> None:
    arrays = kline_arrays(shared_kline_file("BTCUSDT"), end=DATA_END)

    orders = make_orders(arrays, 30, seed=1)

    assert len(orders) == 30
    assert all(o.start + timedelta(hours=1) <= DATA_END - timedelta(hours=1) for o in orders)
    assert [o.size_share for o in orders[:len(SIZES)]] == list(SIZES)
    for order in orders:
        assert float(order.quantity) == pytest.approx(order.hour_volume * order.size_share,
                                                      rel=1e-3)
    assert len({o.side for o in orders}) == 2
    assert make_orders(arrays, 30, seed=1) == orders


def test_one_order_runs_through_the_real_engine_for_each_algorithm() -> None:
    arrays = kline_arrays(shared_kline_file("BTCUSDT"), end=DATA_END)
    order = next(o for o in make_orders(arrays, 6, seed=1) if o.side.value == "SELL")
    chosen = {"vwap": ALGORITHMS["vwap"], "ideal_vwap": IDEAL["ideal_vwap"]}

    rows = run_order(arrays, order, seed=7, algos=chosen)

    assert [r["algo"] for r in rows] == ["vwap", "ideal_vwap"]
    for row in rows:  # a sell: the account starts holding what it sells
        assert row["fill_rate"] == pytest.approx(1.0) and row["end_state"] == "COMPLETED"
        assert {"vs_arrival_bps", "vs_vwap_bps", "vs_twap_fees_bps"} <= set(row)
    vwap, ideal = rows
    assert vwap["passive_ratio"] > 0.5 and ideal["passive_ratio"] == 0.0
    assert vwap["vs_vwap_fees_bps"] > vwap["vs_vwap_bps"]  # fees counted
    assert ideal["vs_vwap_fees_bps"] == ideal["vs_vwap_bps"]  # the ideal venue charges none
    assert run_order(arrays, order, seed=7, algos=chosen) == rows  # deterministic


def test_summary_means_medians_and_fill_rates() -> None:
    rows = [
        {"order": i, "algo": "twap", "size": 0.005, "side": "BUY", "fill_rate": 1.0,
         "children": 10, "vs_arrival_bps": float(i), "vs_arrival_fees_bps": i + 10.0,
         "vs_vwap_bps": -1.0, "vs_vwap_fees_bps": 9.0, "vs_twap_bps": 0.0,
         "vs_twap_fees_bps": 10.0, "passive_ratio": 0.5}
        for i in range(5)
    ]

    summary = summarise(rows)

    stats = summary["twap"]["0.5%"]
    assert stats["orders"] == 5
    assert stats["vs_arrival_bps_mean"] == 2.0 and stats["vs_arrival_bps_median"] == 2.0
    assert stats["vs_arrival_fees_bps_mean"] == 12.0
    assert stats["vwap_abs_dev_bps_mean"] == 1.0
    assert stats["fill_rate_mean"] == 1.0 and stats["passive_ratio_mean"] == 0.5
    assert "market" in summary and summary["market"] == {}
