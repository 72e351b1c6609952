"""The evaluation script's order set and summary (the full run is a benchmark, not a test)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from algo_fakes import shared_kline_file

from benchmarks.algo_eval import DATA_END, SIZES, make_orders, summarise
from oms.market.klines import kline_arrays


def test_orders_stay_in_the_calibration_period_and_cycle_sizes() -> None:
    arrays = kline_arrays(shared_kline_file("BTCUSDT"), end=DATA_END)

    orders = make_orders(arrays, 30, seed=1)

    assert len(orders) == 30
    assert all(o.start + timedelta(hours=1) <= DATA_END - timedelta(hours=1) for o in orders)
    assert [o.size_share for o in orders[:3]] == list(SIZES)
    for order in orders:
        assert float(order.quantity) == pytest.approx(order.hour_volume * order.size_share,
                                                      rel=1e-3)
    assert len({o.side for o in orders}) == 2
    assert make_orders(arrays, 30, seed=1) == orders


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
