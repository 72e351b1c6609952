"""Breaker and risk settings from the environment: a partial nested setting keeps the other
fields' defaults (``OMS_BREAKERS__HIGH_SLIPPAGE__THRESHOLD`` alone is enough)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from oms.config import CircuitBreakerSettings, Settings


def test_only_the_slippage_threshold_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMS_BREAKERS__HIGH_SLIPPAGE__THRESHOLD", "40")
    breakers = Settings().breakers
    slippage = breakers.high_slippage
    assert (slippage.threshold, slippage.count, slippage.window_s) == (40.0, 3, 300.0)
    assert slippage.action == "HALTED" and slippage.enabled is True
    assert breakers.market_stress == CircuitBreakerSettings().market_stress


def test_partial_settings_of_several_breakers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_BREAKERS__MARKET_STRESS__COUNT", "4")
    monkeypatch.setenv("OMS_BREAKERS__HIGH_LATENCY__ACTION", "REDUCING")
    breakers = Settings().breakers
    assert (breakers.market_stress.threshold, breakers.market_stress.count,
            breakers.market_stress.window_s) == (100.0, 4, 60.0)
    assert breakers.high_latency.action == "REDUCING"
    assert breakers.high_latency.threshold == 1000.0


def test_partial_breaker_as_json_and_in_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_BREAKERS", '{"high_rejection": {"window_s": 30}}')
    rejection = Settings().breakers.high_rejection
    assert (rejection.threshold, rejection.count, rejection.window_s) == (10.0, 5, 30.0)
    in_code = CircuitBreakerSettings.model_validate({"high_slippage": {"count": 7}})
    assert in_code.high_slippage.threshold == 25.0 and in_code.high_slippage.count == 7


def test_a_bad_partial_value_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_BREAKERS__HIGH_SLIPPAGE__COUNT", "0")
    with pytest.raises(ValidationError, match="count"):
        Settings()


def test_spot_reservation_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().risk.spot is True
    monkeypatch.setenv("OMS_RISK__SPOT", "false")
    monkeypatch.setenv("OMS_RISK__BUY_RESERVE_BUFFER_BPS", "20")
    risk = Settings().risk
    assert risk.spot is False and risk.buy_reserve_buffer_bps == Decimal(20)
    assert risk.max_orders_per_minute == 20
