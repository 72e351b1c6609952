"""Violation text: reason code followed by the numbers."""

from decimal import Decimal

import pytest

from oms.risk.violations import Violation, ViolationCode, usd


def test_str_is_code_and_numbers_in_order() -> None:
    # Arrange
    v = Violation(
        ViolationCode.POSITION_LIMIT,
        "too big",
        {"symbol": "BTCUSDT", "position_usd": usd(Decimal("10450.2")), "limit_usd": Decimal(10000)},
    )
    # Act
    text = str(v)
    # Assert
    assert text == "POSITION_LIMIT: symbol=BTCUSDT position_usd=10450.20 limit_usd=10000"


def test_violation_is_frozen_and_hashable() -> None:
    v = Violation("X", "m", {"a": 1})
    with pytest.raises(AttributeError):
        v.code = "Y"  # type: ignore[misc, unused-ignore]
    assert hash(v) == hash(Violation("X", "m", {"a": 2}))
    assert v == Violation("X", "m", {"a": 1})
    assert v != Violation("X", "m", {"a": 2})


def test_str_without_numbers_is_the_code() -> None:
    assert str(Violation("TRADING_HALTED", "halted")) == "TRADING_HALTED"


def test_as_dict_keeps_decimals_exact_as_text() -> None:
    v = Violation(ViolationCode.DAILY_LOSS, "loss", {"daily_pnl_usd": Decimal("-500.01"),
                                                      "orders": 3})
    assert v.as_dict() == {
        "code": "DAILY_LOSS",
        "message": "loss",
        "numbers": {"daily_pnl_usd": "-500.01", "orders": 3},
        "text": "DAILY_LOSS: daily_pnl_usd=-500.01 orders=3",
    }
