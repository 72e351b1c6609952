"""Quality scores at the anchor points their docstrings promise."""

from __future__ import annotations

import numpy as np
import pytest

from oms.tca.measures import ChildSlippage
from oms.tca.quality import (
    QUALITY_WEIGHTS,
    consistency_score,
    cost_score,
    impact_score,
    pooled_dispersion_bps,
    quality_scores,
    speed_score,
)


@pytest.mark.parametrize(
    ("cost_bps", "score"), [(-5.0, 100.0), (0.0, 100.0), (10.0, 80.0), (25.0, 50.0), (60.0, 0.0)]
)
def test_cost_score_is_50_at_the_25_bps_threshold(cost_bps: float, score: float) -> None:
    assert cost_score(cost_bps) == pytest.approx(score)


@pytest.mark.parametrize(
    ("latency_ms", "score"),
    [(None, 100.0), (40.0, 100.0), (100.0, 100.0), (200.0, 50.0), (1000.0, 10.0)],
)
def test_speed_score_against_the_100_ms_target(latency_ms: float | None, score: float) -> None:
    assert speed_score(latency_ms) == pytest.approx(score)


def test_impact_and_consistency_scores() -> None:
    assert impact_score(5.0) == pytest.approx(80.0)
    assert impact_score(-3.0) == 100.0
    assert impact_score(30.0) == 0.0
    assert consistency_score(None) == 100.0
    assert consistency_score(10.0) == pytest.approx(80.0)


def test_pooled_dispersion_ignores_differences_between_parents() -> None:
    # Arrange: two parents whose children are uniform inside each parent but far apart
    uniform_a = ChildSlippage(("a", "b"), np.array([5.0, 5.0]), np.array([1.0, 3.0]))
    uniform_b = ChildSlippage(("c", "d"), np.array([40.0, 40.0]), np.array([2.0, 2.0]))
    spread = ChildSlippage(("e", "f"), np.array([0.0, 10.0]), np.array([1.0, 1.0]))
    # Act / Assert
    assert pooled_dispersion_bps([uniform_a, uniform_b]) == pytest.approx(0.0)
    assert pooled_dispersion_bps([spread]) == pytest.approx(5.0)
    assert pooled_dispersion_bps([ChildSlippage(("x",), np.array([3.0]), np.array([1.0]))]) is None


def test_overall_is_the_documented_weighted_mean() -> None:
    # Arrange / Act
    scores = quality_scores(
        cost_bps=25.0, latency_ms=200.0, fill_rate=0.9, impact_bps=5.0, dispersion_bps=10.0
    )
    # Assert
    assert sum(QUALITY_WEIGHTS.values()) == pytest.approx(1.0)
    expected = 0.35 * 50 + 0.25 * 90 + 0.15 * 80 + 0.15 * 80 + 0.10 * 50
    assert scores.overall == pytest.approx(expected)
    assert scores.as_dict()["speed"] == pytest.approx(50.0)
