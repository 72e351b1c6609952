"""A worked 3-fill buy parent: every figure of its report checked against hand arithmetic.

Parent: buy Q = 1 BTC, decision mid D = 100.00, arrival mid A = 100.10, end mid E = 100.50.
Fills (q, price, mid, half spread, liquidity, fee):
  1: 0.3 @ 100.25, mid 100.20, h 0.05, taker, 0.03   (paid the half spread exactly)
  2: 0.3 @ 100.15, mid 100.20, h 0.05, maker, 0.01   (earned the half spread)
  3: 0.2 @ 100.45, mid 100.35, h 0.05, taker, 0.02   (0.05 beyond the spread: impact)
Filled F = 0.8; notional N = 30.075 + 30.045 + 20.09 = 80.21; avg = 100.2625.
Mid notional M = 30.06 + 30.06 + 20.07 = 80.19.
  delay       = F (A - D)            = 0.8 * 0.10          = 0.08 USD ->  8 bps of 100
  timing      = M - F A              = 80.19 - 80.08       = 0.11 USD -> 11 bps
  spread      = 0.3*0.05 - 0.3*0.05 + 0.2*0.05             = 0.01 USD ->  1 bps
  impact      = (N - M) - spread     = 0.02 - 0.01         = 0.01 USD ->  1 bps
  fees        = 0.03 + 0.01 + 0.02                         = 0.06 USD ->  6 bps
  opportunity = (Q - F)(E - D)       = 0.2 * 0.50          = 0.10 USD -> 10 bps
  total       = (N - F D) + fees + opportunity = 0.21 + 0.06 + 0.10 = 0.37 USD -> 37 bps
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from tca_builders import T0, D, session_of, worked_parent

from oms.tca import build_execution_report
from oms.tca.measures import fill_totals, reference_prices
from oms.tca.shortfall import decompose

GENERATED = T0.replace(hour=11)


@pytest.fixture(scope="module")
def report() -> dict:
    return build_execution_report(session_of(worked_parent()), GENERATED)


def test_shortfall_usd_components_match_hand_figures() -> None:
    # Arrange
    parent = worked_parent()
    prices = reference_prices(parent)
    # Act
    shortfall = decompose(parent, prices, fill_totals(parent.fills, prices.arrival))
    # Assert
    assert shortfall.decision_notional == D("100.00")
    assert shortfall.delay == D("0.08")
    assert shortfall.timing == D("0.11")
    assert shortfall.spread == D("0.01")
    assert shortfall.market_impact == D("0.01")
    assert shortfall.fees == D("0.06")
    assert shortfall.opportunity == D("0.10")
    assert shortfall.total == D("0.37")


def test_parent_prices_and_slippage(report: dict) -> None:
    parent = report["parents"][0]
    assert parent["decision_price"] == 100.00
    assert parent["arrival_price"] == 100.10
    assert parent["end_price"] == 100.50
    assert parent["avg_fill_price"] == pytest.approx(100.2625, abs=1e-12)
    assert parent["quantity"] == 1.0
    assert parent["filled_quantity"] == pytest.approx(0.8)
    assert parent["filled_notional_usd"] == pytest.approx(80.21)
    slip = parent["slippage_bps"]
    assert slip["arrival"] == pytest.approx(0.1625 / 100.10 * 1e4)  # 16.2338 bps
    assert slip["vwap"] == pytest.approx(0.0625 / 100.20 * 1e4)  # 6.2375 bps
    assert slip["twap"] == pytest.approx(0.0125 / 100.25 * 1e4)  # 1.2469 bps


def test_parent_tca_bps(report: dict) -> None:
    tca = report["parents"][0]["tca"]
    expected = {
        "delay_cost_bps": 8.0,
        "timing_cost_bps": 11.0,
        "spread_cost_bps": 1.0,
        "market_impact_bps": 1.0,
        "fees_bps": 6.0,
        "opportunity_cost_bps": 10.0,
        "implementation_shortfall_bps": 37.0,
        "total_cost_bps": 37.0,
    }
    for key, value in expected.items():
        assert tca[key] == pytest.approx(value, abs=1e-9), key


def test_session_costs_and_tca(report: dict) -> None:
    costs = report["costs"]
    assert costs["total_cost_usd"] == pytest.approx(0.37)
    assert costs["total_cost_bps"] == pytest.approx(37.0)
    assert costs["fees_usd"] == pytest.approx(0.06)
    assert costs["fees_bps"] == pytest.approx(6.0)
    assert costs["spread_cost_usd"] == pytest.approx(0.01)
    assert costs["spread_cost_bps"] == pytest.approx(1.0)
    assert costs["market_impact_usd"] == pytest.approx(0.01)
    assert costs["market_impact_bps"] == pytest.approx(1.0)
    assert costs["opportunity_cost_usd"] == pytest.approx(0.10)
    assert report["tca"] == report["parents"][0]["tca"]


def test_summary_rates(report: dict) -> None:
    summary = report["summary"]
    assert summary["parent_orders"] == 1
    assert summary["child_orders"] == 3
    assert summary["fills"] == 3
    assert summary["fill_rate"] == pytest.approx(0.8)
    assert summary["filled_notional_usd"] == pytest.approx(80.21)
    assert summary["avg_slippage_bps"] == pytest.approx(0.1625 / 100.10 * 1e4)
    assert summary["vwap_slippage_bps"] == pytest.approx(0.0625 / 100.20 * 1e4)
    assert summary["twap_slippage_bps"] == pytest.approx(0.0125 / 100.25 * 1e4)
    # ours 80.21 USD over market 8 BTC * 100.20 VWAP = 801.6 USD
    assert summary["participation_rate"] == pytest.approx(80.21 / 801.6)
    assert report["parents"][0]["participation_rate"] == pytest.approx(0.8 / 8)
    assert summary["passive_ratio"] == pytest.approx(30.045 / 80.21)
    assert summary["risk_violations"] == 1
    # latencies (ms): acks 20, 30, 40 -> p50 30, p95 30 + 0.9 * 10 = 39
    assert summary["latency"]["ack_p50_ms"] == pytest.approx(30.0)
    assert summary["latency"]["ack_p95_ms"] == pytest.approx(39.0)
    assert summary["latency"]["fill_p95_ms"] == pytest.approx(240.0)


def test_quality_scores(report: dict) -> None:
    quality = report["quality"]
    # cost: executed cost 0.37 - 0.10 = 0.27 plus opportunity since arrival (Q - F)(E - A)
    # = 0.2 * 0.40 = 0.08, over Q D = 100: 35 bps -> 100 * (1 - 35 / 50)
    assert quality["cost"] == pytest.approx(30.0)
    assert quality["speed"] == pytest.approx(100.0)  # p95 ack 39 ms within the 100 ms target
    assert quality["fill_rate"] == pytest.approx(80.0)
    # impact: 0.01 USD / 80 USD = 1.25 bps -> 100 * (1 - 1.25 / 25)
    assert quality["market_impact"] == pytest.approx(95.0)
    # consistency: child slippage vs arrival 100.10, weighted by child notional
    slips = [(100.25 - 100.10) / 100.10 * 1e4, (100.15 - 100.10) / 100.10 * 1e4,
             (100.45 - 100.10) / 100.10 * 1e4]  # fmt: skip
    weights = [30.075, 30.045, 20.09]
    mean = sum(s * w for s, w in zip(slips, weights, strict=True)) / sum(weights)
    var = sum(w * (s - mean) ** 2 for s, w in zip(slips, weights, strict=True)) / sum(weights)
    consistency = 100 * (1 - math.sqrt(var) / 50)
    children = report["parents"][0]["children"]
    assert [c["client_order_id"] for c in children] == ["c-p-1-1", "c-p-1-2", "c-p-1-3"]
    assert [c["arrival_slippage_bps"] for c in children] == pytest.approx(slips)
    assert [c["filled_notional_usd"] for c in children] == pytest.approx(weights)
    assert quality["consistency"] == pytest.approx(consistency)
    overall = 0.35 * 30.0 + 0.25 * 80 + 0.15 * 95 + 0.15 * consistency + 0.10 * 100
    assert quality["overall"] == pytest.approx(overall)


def test_fills_times_and_json(report: dict) -> None:
    fills = report["parents"][0]["fills"]
    assert [f["price"] for f in fills] == [100.25, 100.15, 100.45]
    assert [f["liquidity"] for f in fills] == ["taker", "maker", "taker"]
    assert [f["fee"] for f in fills] == [0.03, 0.01, 0.02]
    assert fills[0]["time"] == "2024-01-15T10:00:10.000Z"
    assert report["generated_at"] == "2024-01-15T11:00:00.000Z"
    assert report["execution_time_ms"] == pytest.approx((30 * 60 + 5) * 1000.0)
    assert report["target_portfolio"]["total_usd"] == 100.0
    assert report["risk"]["trading_state"] == "ACTIVE"
    assert json.loads(json.dumps(report)) == report  # plain JSON types only


def test_decision_price_falls_back_to_arrival() -> None:
    # Arrange: no decision mid -> no delay cost, and bps refer to Q * arrival
    parent = worked_parent()
    parent = type(parent)(**{**{f: getattr(parent, f) for f in parent.__dataclass_fields__},
                             "decision_price": None})  # fmt: skip
    # Act
    prices = reference_prices(parent)
    shortfall = decompose(parent, prices, fill_totals(parent.fills, prices.arrival))
    # Assert
    assert prices.decision == Decimal("100.10")
    assert shortfall.delay == 0
    assert shortfall.opportunity == D("0.2") * (D("100.50") - D("100.10"))
