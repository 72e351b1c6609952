"""Execution quality scores, 0-100 each, from documented formulas.

With clip(x) = min(max(x, 0), 1):

- cost        = 100 * clip(1 - max(c, 0) / (2 * 25))   c = (executed cost + opportunity cost)
                in bps of the ordered decision notional Q * D: the executed cost is the shortfall
                of what filled, the opportunity cost the unfilled rest times the side-signed move
                from the arrival to the end mid, s * (Q - F) * (E - A) (leaving a buy unfilled
                while the price runs away is a cost, not a free pass); 100 at no cost, 50 at the
                25 bps threshold, 0 at twice it.
- speed       = 100 * min(1, 100 / L)                  L = p95 submit->ack latency in ms (p95
                submit->first fill when no acks are known); 100 within the 100 ms target, 50 at
                twice it. 100 when no child was sent (nothing was slow).
- fill_rate   = 100 * clip(f)                          f = filled share of the decision notional.
- market_impact = 100 * clip(1 - max(i, 0) / 25)       i = market impact in bps of the filled
                decision notional; 0 when impact alone uses the whole 25 bps budget.
- consistency = 100 * clip(1 - d / (2 * 25))           d = dispersion of child slippage: the
                notional-weighted standard deviation of each child's arrival slippage around its
                parent's weighted mean, pooled over parents (bps). 100 with < 2 children.
- overall     = 0.35 cost + 0.25 fill_rate + 0.15 market_impact + 0.15 consistency + 0.10 speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from oms.tca.measures import ChildSlippage

__all__ = [
    "COST_THRESHOLD_BPS",
    "QUALITY_WEIGHTS",
    "TARGET_LATENCY_MS",
    "QualityScores",
    "consistency_score",
    "cost_score",
    "fill_rate_score",
    "impact_score",
    "pooled_dispersion_bps",
    "quality_scores",
    "speed_score",
]

COST_THRESHOLD_BPS = 25.0
TARGET_LATENCY_MS = 100.0
QUALITY_WEIGHTS: dict[str, float] = {
    "cost": 0.35,
    "fill_rate": 0.25,
    "market_impact": 0.15,
    "consistency": 0.15,
    "speed": 0.10,
}


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def cost_score(cost_bps: float) -> float:
    """100 at zero cost, 50 at the 25 bps threshold, 0 at 50 bps (negative cost scores 100)."""
    return 100.0 * _clip(1.0 - max(cost_bps, 0.0) / (2.0 * COST_THRESHOLD_BPS))


def speed_score(latency_ms: float | None) -> float:
    """100 within the 100 ms target, then target / latency (50 at 200 ms); 100 without data."""
    if latency_ms is None or latency_ms <= TARGET_LATENCY_MS:
        return 100.0
    return 100.0 * TARGET_LATENCY_MS / latency_ms


def fill_rate_score(rate: float) -> float:
    """The filled share in percent, clipped to 0..100."""
    return 100.0 * _clip(rate)


def impact_score(impact_bps: float) -> float:
    """100 without adverse impact, 0 when impact reaches the whole 25 bps cost threshold."""
    return 100.0 * _clip(1.0 - max(impact_bps, 0.0) / COST_THRESHOLD_BPS)


def consistency_score(dispersion_bps: float | None) -> float:
    """100 for uniform children, 0 when child slippage disperses by 50 bps; 100 without data."""
    if dispersion_bps is None:
        return 100.0
    return 100.0 * _clip(1.0 - dispersion_bps / (2.0 * COST_THRESHOLD_BPS))


def pooled_dispersion_bps(children: Sequence[ChildSlippage]) -> float | None:
    """Notional-weighted std of child slippage around each parent's mean, pooled; None if < 2."""
    deviations: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for child in children:
        total = float(child.notional.sum())
        if child.notional.size == 0 or total <= 0:
            continue
        mean = float((child.slippage_bps * child.notional).sum()) / total
        deviations.append(child.slippage_bps - mean)
        weights.append(child.notional)
    if sum(w.size for w in weights) < 2:
        return None
    dev = np.concatenate(deviations)
    weight = np.concatenate(weights)
    return float(np.sqrt((weight * dev * dev).sum() / weight.sum()))


@dataclass(frozen=True, slots=True)
class QualityScores:
    """The five component scores and their weighted mean, each 0-100."""

    overall: float
    cost: float
    speed: float
    fill_rate: float
    market_impact: float
    consistency: float

    def as_dict(self) -> dict[str, float]:
        """JSON-ready mapping of score name to value."""
        return asdict(self)


def quality_scores(
    *,
    cost_bps: float,
    latency_ms: float | None,
    fill_rate: float,
    impact_bps: float,
    dispersion_bps: float | None,
) -> QualityScores:
    """All scores from their measures (``cost_bps``: executed plus opportunity cost, see the
    module docstring); ``overall`` is the QUALITY_WEIGHTS weighted mean."""
    parts = {
        "cost": cost_score(cost_bps),
        "speed": speed_score(latency_ms),
        "fill_rate": fill_rate_score(fill_rate),
        "market_impact": impact_score(impact_bps),
        "consistency": consistency_score(dispersion_bps),
    }
    overall = sum(QUALITY_WEIGHTS[name] * value for name, value in parts.items())
    return QualityScores(overall=overall, **parts)
