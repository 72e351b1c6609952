"""Kelly with a cap, and volatility targeting."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from oms.sizing import (
    kelly_fraction,
    kelly_size_usd,
    realised_volatility,
    volatility_target_size_usd,
)


def test_kelly_formula_below_the_cap() -> None:
    assert kelly_fraction(0.55, 1.0) == pytest.approx(0.10)
    assert kelly_fraction(0.55, 1.0, scale=0.5) == pytest.approx(0.05)


def test_kelly_is_capped_and_never_negative() -> None:
    assert kelly_fraction(0.9, 3.0, cap=0.25) == 0.25
    assert kelly_fraction(0.3, 1.0) == 0.0


def test_kelly_size_in_usd() -> None:
    assert kelly_size_usd(Decimal(10_000), 0.55, 1.0) == Decimal("1000.00")


def test_kelly_refuses_bad_inputs() -> None:
    with pytest.raises(ValueError):
        kelly_fraction(1.2, 1.0)
    with pytest.raises(ValueError):
        kelly_fraction(0.5, 0.0)


def test_realised_volatility_of_alternating_returns() -> None:
    closes = [100.0 * math.exp(0.01 * (i % 2)) for i in range(11)]

    vol = realised_volatility(closes, periods_per_year=365)

    returns = [0.01, -0.01] * 5
    expected = math.sqrt(sum(r * r for r in returns) / 9 * 365)
    assert vol == pytest.approx(expected)


def test_volatility_target_scales_and_caps_leverage() -> None:
    assert volatility_target_size_usd(Decimal(10_000), 0.2, 0.8) == Decimal("2500.00")
    assert volatility_target_size_usd(Decimal(10_000), 0.2, 0.1) == Decimal("10000.00")
    assert volatility_target_size_usd(Decimal(10_000), 0.2, 0.1, max_leverage=3) \
        == Decimal("20000.00")
    with pytest.raises(ValueError):
        volatility_target_size_usd(Decimal(10_000), 0.2, 0.0)
