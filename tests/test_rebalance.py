"""Targets text parsing, validation (every bad line named) and the portfolio diff."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from oms.errors import ValidationError
from oms.model import Side
from oms.rebalance import parse_targets_text, plan_rebalance, validate_targets

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


def test_plan_diff_buys_sells_and_skips_small() -> None:
    plan = plan_rebalance(
        {"BTCUSDT": D(3000), "ETHUSDT": D(0), "SOLUSDT": D(1002)},
        positions={"ETHUSDT": D(1), "SOLUSDT": D(10)},
        mids={"BTCUSDT": D(60000), "ETHUSDT": D(3000), "SOLUSDT": D(100)},
        min_notional=D(5), step_sizes={"BTCUSDT": D("0.00001"), "ETHUSDT": D("0.0001")})
    by_symbol = {p.symbol: p for p in plan.parents}
    assert by_symbol["BTCUSDT"].side is Side.BUY and by_symbol["BTCUSDT"].quantity == D("0.05")
    assert by_symbol["ETHUSDT"].side is Side.SELL and by_symbol["ETHUSDT"].quantity == D(1)
    assert [s for s, _ in plan.skipped] == ["SOLUSDT"]
    assert "minimum notional" in plan.skipped[0][1]
