"""Estimate vs realised (oms.tca.estimate_check): the expected figures come from the stored
estimate, the realised ones from the report's own decomposition, and ``within_1sd`` says
whether the shortfall fell inside expected +- 1 SD (None when nothing filled)."""

from __future__ import annotations

import pytest

from oms.tca.estimate_check import estimate_vs_realised

STORED = {"total_bps": 10.5, "sd_bps": 4.0, "spread_bps": 0.25, "impact_bps": 0.25,
          "fees_bps": 10.0, "fees_usd": 2.0, "total_usd": 2.1, "planned_children": 5,
          "schedule_exact": True, "horizon_min": 10.0, "algo": "twap", "mid": "100.0",
          "notional_usd": 2000.0}


def _entry(shortfall_bps: float, *, filled: float = 20.0) -> dict[str, object]:
    return {"filled_quantity": filled,
            "tca": {"implementation_shortfall_bps": shortfall_bps, "spread_cost_bps": 0.2,
                    "market_impact_bps": 0.4, "fees_bps": 9.5, "delay_cost_bps": 0.0,
                    "timing_cost_bps": shortfall_bps - 10.1, "opportunity_cost_bps": 0.0},
            "costs_usd": {"total": shortfall_bps * 0.2, "fees": 1.9},
            "slippage_bps": {"arrival": shortfall_bps - 9.5}}


@pytest.mark.parametrize(("realised", "within"), [(10.5, True), (6.5, True), (14.5, True),
                                                  (14.6, False), (-3.0, False)])
def test_within_1sd_is_the_realised_shortfall_inside_expected_plus_minus_one_sd(
        realised: float, within: bool) -> None:
    block = estimate_vs_realised(STORED, _entry(realised), children_sent=4)
    assert block is not None
    assert block["within_1sd"] is within
    assert block["difference_bps"] == pytest.approx(realised - 10.5)


def test_the_pairs_map_the_estimate_to_the_decomposition() -> None:
    # Act
    block = estimate_vs_realised(STORED, _entry(12.0), children_sent=4)

    # Assert
    assert block is not None
    expected, realised = block["expected"], block["realised"]
    assert expected["range_1sd_bps"] == [6.5, 14.5] and expected["execution_bps"] == 0.5
    assert expected["planned_children"] == 5 and realised["children_sent"] == 4
    assert realised["shortfall_bps"] == 12.0 and realised["arrival_slippage_bps"] == 2.5
    assert (realised["spread_bps"], realised["impact_bps"]) == (0.2, 0.4)
    assert (expected["fees_usd"], realised["fees_usd"]) == (2.0, 1.9)


def test_nothing_filled_is_not_judged_and_no_estimate_is_none() -> None:
    unfilled = estimate_vs_realised(STORED, _entry(0.0, filled=0.0), children_sent=0)
    assert unfilled is not None and unfilled["within_1sd"] is None
    assert estimate_vs_realised(None, _entry(12.0), children_sent=1) is None
