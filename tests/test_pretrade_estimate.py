"""Pre-trade estimate: the cost model's numbers by hand, the schedule asked of the real
algorithm (a 3-minute TWAP is one child, and says why), the limits with their numbers, and the
answer's quantities as exact strings with the step's decimals."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from oms_harness import make_harness

from oms.config import Settings
from oms.market.impact import ImpactParams
from oms.market.types import Quote
from oms.model import AlgoName, ParentOrder, Side, TradingState
from oms.model.filters import SymbolFilters, round_to_step
from oms.pretrade_cost import estimate_record, parent_cost
from oms.pretrade_estimate import (
    MarketInputs,
    cost_estimate,
    estimate_rebalance,
    parent_json,
    qty_text,
)
from oms.pretrade_schedule import planned_schedule
from oms.rebalance import PlanInputs, PlanLimits, plan_rebalance

NOW = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
BTC = SymbolFilters("BTCUSDT")  # step 0.00001, tick 0.01, min notional 5
QUOTE = Quote("BTCUSDT", NOW, D("59999.99"), D("60000.01"), D(1), D(1))


def _market(bid: str = "99.9", ask: str = "100.1", sigma: float = 0.001,
            volume: float = 100.0) -> MarketInputs:
    return MarketInputs(D(bid), D(ask), sigma, volume, "test")


def _parent(quantity: str, algo: AlgoName, minutes: float) -> ParentOrder:
    parent = ParentOrder(parent_id="p", session_id="s", symbol="BTCUSDT", side=Side.BUY,
                         quantity=D(quantity), algo=algo, created_at=NOW,
                         duration_minutes=minutes, algo_params={"max_child_notional": "5000"},
                         seed=7)
    parent.started_at = NOW
    return parent


# -- cost model -------------------------------------------------------------------------------


def test_spread_fees_permanent_impact_and_range_match_the_formulas() -> None:
    # Arrange: 10 units at mid 100, half spread 0.1 (10 bps), sigma 0.1 %/min, V 100/min
    params = ImpactParams(kind="sqrt", coefficient=0.7, permanent_fraction=0.5)

    # Act
    cost = cost_estimate(D(10), _market(), 30.0, taker_fee_bps=D(10), params=params)

    # Assert: permanent = p Y sigma sqrt(X / V) / (1 + 1/2), in bps
    assert math.isclose(cost.spread_bps, 10.0, rel_tol=1e-12)
    assert cost.fees_bps == 10.0
    assert math.isclose(cost.permanent_impact_bps,
                        0.5 * 0.7 * 0.001 * math.sqrt(10 / 100) / 1.5 * 1e4, rel_tol=1e-3)
    assert math.isclose(cost.sd_bps, 0.001 * math.sqrt(30 / 3) * 1e4, rel_tol=1e-12)  # 31.62
    assert math.isclose(cost.usd(cost.total_bps), 1000 * cost.total_bps / 1e4, rel_tol=1e-12)


def test_linear_temporary_impact_is_the_decaying_flow_integral() -> None:
    # Arrange: linear law, theta = 10 min, X = 10 over T = 30 (rate 1/3 per minute)
    params = ImpactParams(kind="linear", coefficient=0.7, permanent_fraction=0.5, decay_s=600)
    rate, theta, horizon, scale = 10 / 30, 10.0, 30.0, 0.7 * 0.001 / 100

    # Act
    cost = cost_estimate(D(10), _market(), horizon, taker_fee_bps=D(0), params=params)

    # Assert: C_tmp = (1-p) r * scale * r theta (T - theta (1 - exp(-T/theta))), per unit
    flow_integral = rate * theta * (horizon - theta * (1 - math.exp(-horizon / theta)))
    temporary = 0.5 * rate * scale * flow_integral
    assert math.isclose(cost.temporary_impact_bps, temporary / 10 * 1e4, rel_tol=1e-3)
    # C_perm (linear) = p scale X^2 / 2
    assert math.isclose(cost.permanent_impact_bps, 0.5 * scale * 10 / 2 * 1e4, rel_tol=1e-3)


def test_one_child_sent_at_once_has_no_timing_risk_but_full_impact() -> None:
    params = ImpactParams()
    at_once = cost_estimate(D(10), _market(), 0.0, taker_fee_bps=D(10), params=params)
    spread_out = cost_estimate(D(10), _market(), 60.0, taker_fee_bps=D(10), params=params)
    assert at_once.sd_bps == 0.0
    assert at_once.temporary_impact_bps > spread_out.temporary_impact_bps


# -- schedule -----------------------------------------------------------------------------------


def test_a_3_minute_twap_sends_one_child_and_says_why() -> None:
    # Arrange: 0.04945 BTC at 60,000 (2,967 USD, under the 5,000 USD child cap)
    parent = _parent("0.04945", AlgoName.TWAP, 3)

    # Act
    schedule = planned_schedule(parent, QUOTE, BTC, volume_per_minute=30.0,
                                max_child_notional=D(5000))

    # Assert: max(1, min(20, 3 // 2)) = 1 slice
    assert schedule.children == (D("0.04945"),)
    assert schedule.exact and schedule.first_at == schedule.last_at == NOW
    assert "= 1 for 3 min" in schedule.basis and "ONE child" in schedule.basis


def test_a_10_minute_twap_plans_five_slices_summing_to_the_parent() -> None:
    schedule = planned_schedule(_parent("0.05", AlgoName.TWAP, 10), QUOTE, BTC,
                                volume_per_minute=30.0, max_child_notional=D(5000))
    assert schedule.count == 5  # 10 // 2
    assert schedule.total == D("0.05")
    assert NOW <= schedule.last_at < NOW + timedelta(minutes=10)
    # sizes randomised within 0.8-1.2 of 0.01 by the seeded TWAP
    assert all(D("0.008") <= c <= D("0.012") for c in schedule.children)


def test_a_slice_over_the_child_cap_is_split_as_the_executor_sends_it() -> None:
    # Arrange: 0.2 BTC at 60,000 = 12,000 USD; cap 5,000 USD -> 0.08333 BTC (rounded down)
    parent = _parent("0.2", AlgoName.MARKET, 1)

    # Act
    schedule = planned_schedule(parent, QUOTE, BTC, volume_per_minute=30.0,
                                max_child_notional=D(5000))

    # Assert: 0.08333 + 0.08333 + 0.03334
    assert schedule.children == (D("0.08333"), D("0.08333"), D("0.03334"))
    assert "split" in schedule.basis


def test_vwap_is_an_estimate_from_its_documented_slicing() -> None:
    # 30 minutes: the plan ends min(3 x 120 s, 5% of 30 min = 90 s) early -> 28.5 min, one child
    # every 120 s -> ceil(28.5 / 2) = 15 children
    schedule = planned_schedule(_parent("0.05", AlgoName.VWAP, 30), QUOTE, BTC,
                                volume_per_minute=30.0, max_child_notional=D(5000))
    assert schedule.count == 15 and not schedule.exact
    assert schedule.total == D("0.05")
    assert "while it runs" in schedule.basis


# -- the whole estimate -------------------------------------------------------------------------


def _inputs(cash_positions: dict[str, D] | None = None) -> PlanInputs:
    return PlanInputs(positions=cash_positions or {}, in_flight={},
                      mids={"BTCUSDT": D("60000.00")}, steps={"BTCUSDT": D("0.00001")},
                      min_notional=D(5),
                      limits=PlanLimits(D(10_000), D(30_000), D(1_000_000)),
                      filters={"BTCUSDT": BTC})


def test_estimate_quantities_are_exact_strings_with_the_step_decimals() -> None:
    # Arrange: 2,912.64 / 60,000 = 0.048544 -> 0.04854 once rounded down to the step
    plan = plan_rebalance({"BTCUSDT": D("2912.64")}, _inputs())

    # Act
    estimate = estimate_rebalance(plan, algo=AlgoName.TWAP, duration_minutes=3, urgency=0.5,
                                  now=NOW, settings=Settings(), filters={"BTCUSDT": BTC},
                                  quotes={"BTCUSDT": QUOTE}, cash=D(100_000), daily_pnl=D(0),
                                  trading_state=TradingState.ACTIVE)
    answer = parent_json(estimate.parents[0])

    # Assert
    assert answer["quantity"] == "0.04854" == answer["schedule"]["total"]
    assert answer["mid"] == "60000.000" and answer["planned_children"] == 1
    assert answer["notional_usd"] == "2912.40"  # 0.04854 x 60,000
    assert answer["limit_breaches"] == []
    # spread 0.01 / 60,000 = 0.0017 bps, taker 10 bps: about 10 bps all in
    assert 10.0 <= answer["expected_cost_bps"] < 10.5


def test_limits_are_reported_with_their_numbers() -> None:
    # Arrange: a 20,000 USD buy with 1,000 USD of cash: over the position limit (refused) and
    # the cash (denied at send); the parent is over the 5,000 USD fat-finger per order (shapes)
    plan = plan_rebalance({"BTCUSDT": D(20_000)}, _inputs())

    # Act
    estimate = estimate_rebalance(plan, algo=AlgoName.TWAP, duration_minutes=30, urgency=0.5,
                                  now=NOW, settings=Settings(), filters={"BTCUSDT": BTC},
                                  quotes={"BTCUSDT": QUOTE}, cash=D(1_000), daily_pnl=D(0),
                                  trading_state=TradingState.ACTIVE)
    hits = {h.code: h for h in estimate.parents[0].limits}

    # Assert
    assert estimate.refused
    assert hits["POSITION_LIMIT"].effect == "refused" and "10000" in hits["POSITION_LIMIT"].message
    assert hits["MAX_ORDER_NOTIONAL"].effect == "shapes"
    assert hits["MAX_ORDER_NOTIONAL"].numbers == {"notional_usd": "19999.80",
                                                  "limit_usd": "5000"}
    # 0.33333 BTC x 60,000.01 x (1 + 50 bps) = 20,099.80
    quantity = round_to_step(D(20_000) / D(60_000), D("0.00001"))
    reserve = (quantity * D("60000.01") * (1 + D(50) / 10_000)).quantize(D("0.01"))
    assert hits["INSUFFICIENT_CASH"].numbers == {"order_usd": str(reserve), "cash_usd": "1000.00"}


def test_children_over_the_account_order_rate_are_reported() -> None:
    # Arrange: a MARKET buy of 9,000 USD with a 1,000 USD child cap -> 9 children at once,
    # against 5 orders a minute
    settings = Settings(risk={"max_order_notional_usd": 1000, "max_orders_per_minute": 5})
    plan = plan_rebalance({"BTCUSDT": D(9_000)}, _inputs())

    # Act
    estimate = estimate_rebalance(plan, algo=AlgoName.MARKET, duration_minutes=1, urgency=0.5,
                                  now=NOW, settings=settings, filters={"BTCUSDT": BTC},
                                  quotes={"BTCUSDT": QUOTE}, cash=D(100_000), daily_pnl=D(0),
                                  trading_state=TradingState.ACTIVE)

    # Assert: 0.15 BTC in pieces of 0.01666 BTC (1,000 / 60,000 rounded down): 9 children
    (parent,) = estimate.parents
    assert parent.schedule.count == 9
    rate = next(h for h in parent.limits if h.code == "ORDER_RATE")
    assert rate.effect == "denied"
    assert rate.numbers == {"children_per_minute": "9", "limit": "5"}


def test_a_halted_account_is_refused_in_the_estimate() -> None:
    plan = plan_rebalance({"BTCUSDT": D(1000)}, _inputs())
    estimate = estimate_rebalance(plan, algo=AlgoName.MARKET, duration_minutes=1, urgency=0.5,
                                  now=NOW, settings=Settings(), filters={"BTCUSDT": BTC},
                                  quotes={"BTCUSDT": QUOTE}, cash=D(100_000), daily_pnl=D(0),
                                  trading_state=TradingState.HALTED)
    assert [h.code for h in estimate.parents[0].limits] == ["TRADING_HALTED"]


def test_qty_text_keeps_the_step_decimals() -> None:
    assert qty_text(D("7.8"), SymbolFilters("SOLUSDT", step_size=D("0.01"))) == "7.80"
    assert qty_text(D("0.04945"), BTC) == "0.04945"


def test_the_estimated_quantity_is_the_quantity_sent_and_filled(tmp_path: Path) -> None:
    # Arrange: an OMS on a TestClock; the estimate and the submit see the same tick
    harness = make_harness(tmp_path)
    harness.run(5)
    targets = {"BTCUSDT": 2912.64, "ETHUSDT": 2000, "SOLUSDT": 1000}
    estimate = harness.service.estimate_rebalance(targets, "twap", 4)
    shown = {p.planned.symbol: parent_json(p) for p in estimate.parents}

    # Act: submit, tick without moving the market, then let the TWAP run to its end
    harness.service.submit_rebalance(targets, "twap", 4, wait=False)
    harness.tick()
    parents = {p.symbol: p for p in harness.engine.book.parents.values()}
    sent = {s: p.quantity for s, p in parents.items()}
    harness.run(300)

    # Assert
    try:
        assert {s: D(a["quantity"]) for s, a in shown.items()} == sent
        children = harness.service.child_orders(page_size=1000).rows
        for symbol, answer in shown.items():
            filled = sum((D(str(c["filled_quantity"])) for c in children
                          if c["symbol"] == symbol), D(0))
            assert filled == D(answer["quantity"]) == D(answer["schedule"]["total"])
            assert answer["planned_children"] == 2  # 4 // 2 slices, each under the cap
    finally:
        harness.oms.close()


def test_the_engine_stores_the_preview_estimate_for_the_same_parent() -> None:
    # Arrange: the preview of one 10-minute TWAP, and the parent the engine creates for it
    # (sessions.SessionDesk.new_parent's fields; the first parent: the preview's seed)
    settings = Settings()
    plan = plan_rebalance({"BTCUSDT": D("2912.64")}, _inputs())
    (shown,) = estimate_rebalance(plan, algo=AlgoName.TWAP, duration_minutes=10, urgency=0.5,
                                  now=NOW, settings=settings, filters={"BTCUSDT": BTC},
                                  quotes={"BTCUSDT": QUOTE}, cash=D(100_000), daily_pnl=D(0),
                                  trading_state=TradingState.ACTIVE).parents
    parent = ParentOrder(parent_id="p-1", session_id="s-1", symbol="BTCUSDT", side=Side.BUY,
                         quantity=shown.planned.quantity, algo=AlgoName.TWAP, created_at=NOW,
                         duration_minutes=10, urgency=0.5, algo_reason="chosen by the trader",
                         algo_params={"max_child_notional":
                                      str(settings.risk.max_order_notional_usd)},
                         decision_price=QUOTE.mid, seed=settings.seed * 1_000_003 + 1)

    # Act
    stored = estimate_record(parent, parent_cost(parent, QUOTE, BTC, settings, mid=QUOTE.mid))

    # Assert: every figure of the preview, unrounded
    cost = shown.cost
    assert stored["total_bps"] == cost.total_bps and stored["sd_bps"] == cost.sd_bps
    assert (stored["spread_bps"], stored["impact_bps"], stored["fees_bps"]) == (
        cost.spread_bps, cost.impact_bps, cost.fees_bps)
    assert stored["planned_children"] == shown.schedule.count == 5
    assert stored["horizon_min"] == cost.horizon_min
    assert stored["total_usd"] == cost.usd(cost.total_bps)
    assert parent.started_at is None and parent.child_ids == []  # the parent is left as it was
