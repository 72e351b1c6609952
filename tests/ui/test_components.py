"""Pure building blocks of the dashboard: formatting, forms, TCA figures, risk panels."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from ui_helpers import text_of

from components.blotter import child_grid_rows, parent_grid_rows
from components.format import fmt_bps, fmt_pct, fmt_price, fmt_qty, fmt_time, fmt_usd
from components.forms import algo_choice, error_list, rows_to_text, text_to_rows
from components.risk_panels import breakers_table, risk_event_rows, usage_bars
from components.tca_charts import (
    execution_chart,
    quality_chart,
    slippage_histogram,
    summary_kpis,
    waterfall_chart,
)
from oms.errors import FieldError


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("60123.456"), "60,123.46"), (3201.5, "3,201.50"), (42.5, "42.500"),
    (Decimal("1.23456"), "1.2346"), (0.1234567, "0.123457"), (None, "—"), ("nan", "—"),
    (float("inf"), "—")])
def test_prices_get_precision_by_size(value: Any, expected: str) -> None:
    assert fmt_price(value) == expected


def test_usd_qty_bps_pct_time() -> None:
    assert fmt_usd(Decimal("1234.5")) == "1,234.50"
    assert fmt_usd(-3, signed=True) == "-3.00" and fmt_usd(3, signed=True) == "+3.00"
    assert fmt_qty(Decimal("0.04997000")) == "0.04997" and fmt_qty(0) == "0"
    assert fmt_bps(3.21) == "+3.2 bps" and fmt_bps(-0.01) == "0.0 bps"
    assert fmt_pct(0.425) == "42%" and fmt_pct(0.4251, decimals=1) == "42.5%"
    assert fmt_time(datetime(2024, 3, 4, 14, 5, 9, tzinfo=UTC)) == "14:05:09"
    assert fmt_time("2024-03-04T14:05:09.123Z") == "14:05:09"


def test_targets_text_and_rows_round_trip() -> None:
    rows = text_to_rows("BTCUSDT 3000  # core\n\nETHUSDT,2000\nSOLUSDT")
    assert rows == [{"symbol": "BTCUSDT", "target_usd": "3000"},
                    {"symbol": "ETHUSDT", "target_usd": "2000"},
                    {"symbol": "SOLUSDT", "target_usd": ""}]
    assert rows_to_text(rows) == "BTCUSDT 3000\nETHUSDT 2000\nSOLUSDT"


def test_algo_choice_explains_the_policy() -> None:
    assert algo_choice(Decimal(5000), "auto", 0.5)[0] == "VWAP"
    assert algo_choice(Decimal(1000), "auto", 0.1)[0] == "TWAP"
    assert algo_choice(Decimal(1000), "pov", 0.5) == ("POV", "chosen by the trader")


def test_error_list_maps_symbols_to_line_numbers() -> None:
    shown = text_of(error_list([FieldError("targets.ETHUSDT", "must be finite"),
                              FieldError("duration_minutes", "must be > 0")],
                             "Rejected", "BTCUSDT 1\nETHUSDT nan"))
    assert "line 2 (ETHUSDT)" in shown and "duration_minutes" in shown
    assert "2 problems, nothing submitted" in shown


def test_blotter_rows_compute_fill_avg_price_and_slippage() -> None:
    ts = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
    parent = {"parent_id": "p", "side": "SELL", "quantity": Decimal(2),
              "filled_quantity": Decimal(1), "filled_notional": Decimal(99),
              "arrival_price": Decimal(100), "created_at": ts, "algo_params": {"x": 1}}
    row = parent_grid_rows([parent])[0]
    assert row["progress"] == 0.5 and row["avg_price"] == 99.0
    assert row["slippage_bps"] == pytest.approx(100.0)  # sold 1 % below arrival: a cost
    assert row["created"] == "2024-03-04 14:00:00 UTC" and "algo_params" not in row
    child = child_grid_rows([{"filled_quantity": Decimal(0), "filled_notional": Decimal(0),
                              "created_at": ts}])[0]
    assert child["avg_price"] is None


def _report() -> dict[str, Any]:
    fills = [{"time": f"2024-03-04T14:0{n}:00.000Z", "price": 100.0 + n, "quantity": 1.0 + n,
              "liquidity": "maker", "mid_price": 100.0 + n} for n in range(3)]
    parent = {"parent_id": "p1", "symbol": "BTCUSDT", "side": "BUY", "arrival_price": 100.0,
              "interval_vwap": 101.0, "avg_fill_price": 101.3, "end_price": 103.0,
              "start": "2024-03-04T14:00:00.000Z", "end": "2024-03-04T14:05:00.000Z",
              "fills": fills, "tca": {"total_cost_bps": 130.0}, "slippage_bps": {},
              "children": [{"arrival_slippage_bps": 10.0}, {"arrival_slippage_bps": 30.0}],
              "quality": {"overall": 60.0}, "costs_usd": {"total": 3.9}}
    tca = {"delay_cost_bps": 1.0, "spread_cost_bps": 2.0, "market_impact_bps": 3.0,
           "timing_cost_bps": -1.0, "fees_bps": 10.0, "opportunity_cost_bps": 0.0,
           "total_cost_bps": 15.0}
    return {"parents": [parent, {**parent, "parent_id": "p2", "symbol": "ETHUSDT"}],
            "tca": tca, "costs": {"total_cost_bps": 15.0}, "summary": {"parent_orders": 2},
            "quality": {"overall": 80.0, "cost": 40.0}}


def test_tca_figures_from_a_report() -> None:
    report = _report()
    single = execution_chart(report, "p1")
    many = execution_chart(report)
    waterfall = waterfall_chart(report["tca"])
    histogram = slippage_histogram(report, "p1")
    quality = quality_chart(report["quality"])
    assert [t.name for t in single.data][:2] == ["BTCUSDT BUY market mid", "BTCUSDT BUY fills"]
    assert {"arrival", "interval VWAP", "our avg price"} <= {t.name for t in single.data}
    assert list(single.data[1].marker.size)[-1] == pytest.approx(18.0)  # largest fill
    assert many.layout.yaxis.title.text == "bps vs arrival"
    assert list(waterfall.data[0].y) == [1.0, 2.0, 3.0, -1.0, 10.0, 0.0, 15.0]
    assert list(histogram.data[0].x) == [10.0, 30.0]
    assert list(quality.data[0].marker.color) == ["#2fcc71", "#ff6b6b"]
    assert "+130.0 bps" in text_of(summary_kpis(report, "p1"))


def test_tca_figures_say_why_they_are_empty() -> None:
    assert execution_chart({"parents": []}).layout.annotations[0].text.startswith("no parent")
    assert waterfall_chart(None).layout.annotations


def test_the_waterfall_says_how_much_impact_was_our_own_mid_move() -> None:
    tca = {"market_impact_bps": 3.0, "own_mid_impact_bps": 2.5, "total_cost_bps": 3.0}

    simulated = waterfall_chart(tca, "simulator").layout.title.text
    live = waterfall_chart(tca, "model").layout.title.text

    assert "+2.5 bps of mid moved by our own flow" in simulated and "simulator" in simulated
    assert "model estimate" in live
    assert "own flow" not in waterfall_chart(tca, "none").layout.title.text
    assert slippage_histogram({"parents": [{"fills": []}]}).layout.annotations


def test_risk_panels() -> None:
    usage = usage_bars({"position": {"value": 9500.0, "limit": 10000.0},
                        "exposure": {"value": 100.0, "limit": 30000.0}})
    breakers = breakers_table({"high_slippage": {"state": "TRIPPED", "threshold": 25.0,
                                                 "count": 3, "window_s": 300.0,
                                                 "last_trip_at": "2024-03-04T14:00:00+00:00",
                                                 "last_reason": "3 fills"}})
    rows = risk_event_rows([{"id": 1, "ts": datetime(2024, 3, 4, tzinfo=UTC), "kind": "KILL",
                             "code": "HALTED", "actor": "desk", "message": "drill"}])
    assert "95%" in text_of(usage) and "usage-bad" in str(usage)
    assert "TRIPPED" in text_of(breakers) and "> 25 bps, 3× in 300 s" in text_of(breakers)
    assert "14:00:00" in text_of(breakers)
    assert rows[0]["time"] == "03-04 00:00:00" and rows[0]["symbol"] == ""
