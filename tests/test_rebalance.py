"""Targets text parsing, validation (every bad line named) and the portfolio diff."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from oms.errors import ValidationError
from oms.model import Side
from oms.rebalance import (
    PlanInputs,
    PlanLimits,
    parse_targets_text,
    plan_rebalance,
    validate_targets,
)

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


def test_parse_accepts_spreadsheet_paste() -> None:
    text = "BTCUSDT\t3000\nETHUSDT, 2,000\n\n# comment\nSOLUSDT 1000"
    # a thousands separator inside the number is not supported: comma splits fields
    with pytest.raises(ValidationError) as err:
        parse_targets_text(text)
    assert "line 2" in str(err.value)
    assert parse_targets_text("BTCUSDT\t3000\nSOLUSDT;1000") == {"BTCUSDT": "3000",
                                                                 "SOLUSDT": "1000"}


@pytest.mark.parametrize(("targets", "needle"), [
    ({"btcusdt": "10"}, "not a symbol"),
    ({"DOGEUSDT": "10"}, "unknown symbol DOGEUSDT"),
    ({"BTCUSDT": "-5"}, "must not be negative"),
    ({"BTCUSDT": "abc"}, "must be a number"),
    ({"BTCUSDT": "NaN"}, "must be finite"),
    ({"BTCUSDT": "inf"}, "must be finite"),
    ({"BTCUSDT": "1e12"}, "exceeds the maximum"),
    ({}, "no targets"),
])
def test_validate_names_field_and_problem(targets: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_targets(targets, SYMBOLS, D(1_000_000))
    assert needle in str(err.value)


def test_duplicate_symbol_line_is_reported() -> None:
    with pytest.raises(ValidationError) as err:
        parse_targets_text("BTCUSDT 1\nBTCUSDT 2")
    assert "duplicate symbol BTCUSDT" in str(err.value) and "line 2" in str(err.value)


def test_all_bad_lines_reported_together() -> None:
    with pytest.raises(ValidationError) as err:
        validate_targets({"BTCUSDT": "-1", "XXX": "1", "SOLUSDT": "5"}, SYMBOLS, D(10**6))
    fields = [e.field for e in err.value.errors]
    assert fields == ["targets.BTCUSDT", "targets.XXX"]


_LIMITS = PlanLimits(max_position_usd=D(10_000), max_gross_exposure_usd=D(30_000),
                     max_parent_notional_usd=D(1_000_000))


def _inputs(positions: dict[str, D] | None = None, *, in_flight: dict[str, D] | None = None,
            mids: dict[str, D] | None = None, steps: dict[str, D] | None = None,
            limits: PlanLimits = _LIMITS, min_notional: D = D(5),
            working: dict[str, tuple[str, ...]] | None = None) -> PlanInputs:
    return PlanInputs(positions=positions or {}, in_flight=in_flight or {},
                      mids=mids or {"BTCUSDT": D(60000), "ETHUSDT": D(3000), "SOLUSDT": D(100)},
                      steps=steps or {}, min_notional=min_notional, limits=limits,
                      working=working or {})


def test_plan_diff_buys_sells_and_skips_small() -> None:
    plan = plan_rebalance(
        {"BTCUSDT": D(3000), "ETHUSDT": D(0), "SOLUSDT": D(1002)},
        _inputs({"ETHUSDT": D(1), "SOLUSDT": D(10)},
                steps={"BTCUSDT": D("0.00001"), "ETHUSDT": D("0.0001")}))
    by_symbol = {p.symbol: p for p in plan.parents}
    assert by_symbol["BTCUSDT"].side is Side.BUY and by_symbol["BTCUSDT"].quantity == D("0.05")
    assert by_symbol["ETHUSDT"].side is Side.SELL and by_symbol["ETHUSDT"].quantity == D(1)
    assert [s for s, _ in plan.skipped] == ["SOLUSDT"]
    assert "minimum notional" in plan.skipped[0][1]
    assert not plan.breaches


def test_plan_diff_of_exactly_the_minimum_notional_creates_a_parent() -> None:
    plan = plan_rebalance({"BTCUSDT": D(10)},
                          _inputs(mids={"BTCUSDT": D(50000)}, steps={"BTCUSDT": D("0.00001")},
                                  min_notional=D(10)))
    assert [(p.symbol, p.quantity) for p in plan.parents] == [("BTCUSDT", D("0.0002"))]


def test_plan_quantity_never_rounds_above_the_difference() -> None:
    plan = plan_rebalance({"BTCUSDT": D(3000)},
                          _inputs(mids={"BTCUSDT": D(60001)}, steps={"BTCUSDT": D("0.00001")}))
    (parent,) = plan.parents
    assert parent.quantity * D(60001) <= D(3000)
    assert parent.quantity == D("0.04999")


def test_plan_counts_what_open_children_may_still_fill() -> None:
    plan = plan_rebalance({"BTCUSDT": D(3000)},
                          _inputs(in_flight={"BTCUSDT": D("0.03")},
                                  working={"BTCUSDT": ("p1",)}))
    (parent,) = plan.parents
    assert parent.quantity == D("0.02") and parent.current_usd == D(1800)
    assert plan.superseded == ["p1"]


def test_plan_refuses_a_target_over_the_position_limit_with_the_numbers() -> None:
    plan = plan_rebalance({"BTCUSDT": D(50000)}, _inputs())
    assert [e.field for e in plan.breaches] == ["targets.BTCUSDT", "targets"]
    assert "POSITION_LIMIT" in plan.breaches[0].message and "10000" in plan.breaches[0].message


def test_plan_clips_to_the_limits_when_asked() -> None:
    plan = plan_rebalance({"BTCUSDT": D(50000)}, _inputs(), on_limit="clip")
    (parent,) = plan.parents
    assert not plan.breaches
    assert parent.target_usd == D(10000) and parent.clipped_from_usd == D(50000)
    assert parent.notional_usd <= D(10000)


def test_plan_refuses_and_clips_gross_exposure() -> None:
    targets = {"BTCUSDT": D(9000), "ETHUSDT": D(9000), "SOLUSDT": D(9000)}
    inputs = _inputs(limits=PlanLimits(D(10_000), D(20_000), D(1_000_000)))
    refused = plan_rebalance(targets, inputs)
    assert [e.field for e in refused.breaches] == ["targets"]
    assert "GROSS_EXPOSURE" in refused.breaches[0].message
    clipped = plan_rebalance(targets, inputs, on_limit="clip")
    assert sum((p.target_usd for p in clipped.parents), D(0)) == D(20_000)
