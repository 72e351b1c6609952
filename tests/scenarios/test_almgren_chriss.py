"""The Almgren-Chriss (2000) section 3.4 example: exact expected figures and Monte Carlo checks."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from oms.scenarios.almgren_chriss import (
    PAPER_PARAMETERS,
    SCENARIO_NAME,
    expected_cost,
    run_almgren_chriss,
    schedules,
)

PAPER = {  # expected cost, standard deviation (USD), from the paper's formulas
    "is": (911_227.0, 603_431.0),
    "twap": (662_500.0, 1_040_673.0),
    "market": (2_562_500.0, 0.0),
}


@pytest.fixture(scope="module")
def report() -> dict[str, object]:
    return run_almgren_chriss(paths=20_000, seed=11)


@pytest.mark.parametrize("name", ["is", "twap", "market"])
def test_expected_figures_match_the_paper_to_a_tenth_of_a_percent(
    report: dict[str, object], name: str
) -> None:
    algo = report["algorithms"][name]  # type: ignore[index]
    mean, std = PAPER[name]

    assert algo["expected_cost_usd"] == pytest.approx(mean, rel=1e-3)
    assert algo["std_cost_usd"] == pytest.approx(std, rel=1e-3, abs=1.0)


def test_optimal_frontier_point_e_plus_lambda_v() -> None:
    mean, std = expected_cost(schedules()["is"])

    assert mean + PAPER_PARAMETERS.risk_aversion * std**2 == pytest.approx(1_275_356, rel=1e-3)


@pytest.mark.parametrize("name", ["is", "twap", "market"])
def test_monte_carlo_means_within_three_standard_errors(
    report: dict[str, object], name: str
) -> None:
    algo = report["algorithms"][name]  # type: ignore[index]
    paths = report["paths"]
    standard_error = algo["std_cost_usd"] / math.sqrt(paths)  # type: ignore[operator]

    assert abs(algo["mc_mean_cost_usd"] - algo["expected_cost_usd"]) <= 3 * standard_error + 0.01
    assert algo["mc_std_cost_usd"] == pytest.approx(algo["std_cost_usd"], rel=0.03, abs=1.0)


def test_schedules_sell_everything_and_is_is_front_loaded() -> None:
    plans = schedules()

    for trades in plans.values():
        assert sum(trades) == pytest.approx(1_000_000)
    optimal = plans["is"]
    assert all(a > b for a, b in itertools.pairwise(optimal))


def test_json_shape_is_the_contract(report: dict[str, object]) -> None:
    text = json.dumps(report)
    loaded = json.loads(text)

    assert loaded["scenario"] == SCENARIO_NAME == "almgren-chriss-2000"
    assert loaded["paths"] == 20_000
    assert set(loaded["algorithms"]) == {"market", "twap", "is"}
    for algo in loaded["algorithms"].values():
        assert set(algo) == {"expected_cost_usd", "std_cost_usd", "mc_mean_cost_usd",
                             "mc_std_cost_usd", "trades"}
        assert len(algo["trades"]) == 5


def test_same_seed_same_result_and_too_few_paths_refused() -> None:
    assert run_almgren_chriss(100, 3) == run_almgren_chriss(100, 3)
    with pytest.raises(ValueError):
        run_almgren_chriss(1, 3)
