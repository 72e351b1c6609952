"""Kelly with a cap, and volatility targeting."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from oms.engine.signals import DEFAULT_SIGMA_1M, signal_sigma_1m
from oms.market.types import Bar
from oms.sizing import (
    annualised_sigma,
    auto_size,
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


# -- auto size of a signal: fractional Kelly x volatility targeting, capped ------------------------



def _auto(**overrides: object) -> object:
    args: dict[str, object] = dict(
        equity=Decimal(10_000), win_rate=Decimal("0.821"), payoff_ratio=Decimal("0.6"),
        kelly_fraction=Decimal("0.25"), target_volatility=Decimal(10), sigma_1m=0.001,
        volatility_source="test", cap_usd=Decimal(5_000))
    args.update(overrides)
    return auto_size(**args)  # type: ignore[arg-type]


def test_auto_size_is_quarter_kelly_of_the_dipmaster_edge() -> None:
    # full Kelly 0.821 - 0.179 / 0.6 = 0.522667; a quarter: 0.130667; vol scale capped at 1
    sized = _auto()
    assert sized.full_kelly == Decimal("0.522667")  # type: ignore[attr-defined]
    assert sized.kelly_stake == Decimal("0.130667")  # type: ignore[attr-defined]
    assert sized.volatility_scale == Decimal(1)  # type: ignore[attr-defined]
    assert sized.size_usd == Decimal("1306.67")  # type: ignore[attr-defined]
    assert sized.cap_applied is False  # type: ignore[attr-defined]


def test_auto_size_scales_by_target_over_measured_volatility() -> None:
    # p 0.6, b 1: full Kelly 0.2, half: 0.1 of 100,000 = 10,000; sigma_1m 0.001 a minute is
    # 0.001 * sqrt(525600) = 0.724983 a year; target 0.5: scale 0.5 / 0.724983 = 0.689671
    sized = _auto(equity=Decimal(100_000), win_rate=Decimal("0.6"), payoff_ratio=Decimal(1),
                  kelly_fraction=Decimal("0.5"), target_volatility=Decimal("0.5"),
                  cap_usd=Decimal(1_000_000))
    assert sized.measured_volatility == Decimal("0.724983")  # type: ignore[attr-defined]
    assert sized.volatility_scale == Decimal("0.689671")  # type: ignore[attr-defined]
    assert sized.size_usd == Decimal("6896.71")  # type: ignore[attr-defined]


def test_auto_size_is_capped_by_the_risk_limits() -> None:
    sized = _auto(equity=Decimal(100_000))  # 13,066.70 uncapped
    assert sized.uncapped_usd == Decimal("13066.70")  # type: ignore[attr-defined]
    assert sized.size_usd == Decimal(5_000) and sized.cap_applied  # type: ignore[attr-defined]
    assert sized.as_dict()["cap_applied"] is True  # type: ignore[attr-defined]


def test_no_edge_sizes_zero() -> None:
    sized = _auto(win_rate=Decimal("0.5"), payoff_ratio=Decimal("0.5"))  # f* = -0.5
    assert sized.full_kelly == Decimal("-0.5") and sized.size_usd == 0  # type: ignore[attr-defined]


def test_auto_size_refuses_nonsense_inputs() -> None:
    with pytest.raises(ValueError, match="payoff_ratio"):
        _auto(payoff_ratio=Decimal(0))
    with pytest.raises(ValueError, match="sigma_1m"):
        _auto(sigma_1m=0.0)


def _bars(symbol: str, closes: list[float]) -> list[Bar]:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    return [Bar(symbol, t0 + timedelta(minutes=i), c, c, c, c, 1.0, c) for i, c in
            enumerate(closes)]


def test_volatility_is_measured_on_bars_else_calibrated_else_default() -> None:
    # log returns +-0.00995033: sample SD 0.0114896 (by hand)
    sigma, source = signal_sigma_1m("BTCUSDT", _bars("BTCUSDT", [100, 101, 100, 101]))
    assert sigma == pytest.approx(0.0114896, rel=1e-5) and source == "measured (4 bars)"
    assert signal_sigma_1m("BTCUSDT", _bars("BTCUSDT", [100, 101])) == (0.0008328,
                                                                         "calibration")
    assert signal_sigma_1m("XYZUSDT", []) == (DEFAULT_SIGMA_1M, "default")
    assert annualised_sigma(0.001) == pytest.approx(0.7249828)
