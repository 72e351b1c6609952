"""The worked example of Almgren and Chriss (2000), section 3.4, on the paper's linear price model.

Sell X = 1,000,000 shares at S0 = 50 over T = 5 days in N = 5 periods (tau = 1 day), with
sigma = 0.95 USD/day^0.5, epsilon = 0.0625 USD/share, gamma = 2.5e-7 USD/share^2 (permanent),
eta = 2.5e-6 USD/(share^2/day) (temporary), lambda = 1e-6 /USD. Price model:
``S_k = S_{k-1} + sigma tau^0.5 xi_k - gamma n_k`` and trade k executes at
``S_{k-1} - epsilon sgn(n_k) - eta n_k / tau``. Cost = X S0 - sum n_k * execution price.

From a schedule (shares sold per period) the expected cost and its variance are
``E = gamma X^2 / 2 + epsilon sum|n_k| + (eta - gamma tau / 2) / tau * sum n_k^2`` and
``V = sigma^2 tau sum x_k^2`` (x_k the holdings after trade k);
the Monte Carlo draws xi_k ~ N(0, 1).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from oms.algos.shortfall import ac_kappa, ac_trajectory

__all__ = ["PAPER_PARAMETERS", "SCENARIO_NAME", "AlmgrenChrissParameters", "expected_cost",
           "run_almgren_chriss", "schedules", "simulate_costs"]

SCENARIO_NAME = "almgren-chriss-2000"


@dataclass(frozen=True, slots=True)
class AlmgrenChrissParameters:
    """The model's parameters (defaults: the paper's section 3.4 example)."""

    initial_price: float = 50.0
    shares: float = 1_000_000.0
    horizon_days: float = 5.0
    periods: int = 5
    sigma: float = 0.95
    epsilon: float = 0.0625
    gamma: float = 2.5e-7
    eta: float = 2.5e-6
    risk_aversion: float = 1e-6

    @property
    def tau(self) -> float:
        """Length of one period, days."""
        return self.horizon_days / self.periods


PAPER_PARAMETERS = AlmgrenChrissParameters()


def schedules(p: AlmgrenChrissParameters = PAPER_PARAMETERS) -> dict[str, list[float]]:
    """Shares sold per period: all at once, the straight line, and the optimal (IS) trajectory."""
    market = [p.shares] + [0.0] * (p.periods - 1)
    twap = [p.shares / p.periods] * p.periods
    kappa = ac_kappa(p.risk_aversion, p.sigma, p.eta, tau=p.tau, gamma=p.gamma)
    holdings = ac_trajectory(p.shares, kappa, p.horizon_days, p.periods)
    optimal = [a - b for a, b in itertools.pairwise(holdings)]
    return {"market": market, "twap": twap, "is": optimal}


def expected_cost(trades: list[float], p: AlmgrenChrissParameters = PAPER_PARAMETERS,
                  ) -> tuple[float, float]:
    """(expected cost, standard deviation) of a schedule, USD, from the paper's formulas."""
    eta_tilde = p.eta - p.gamma * p.tau / 2.0
    mean = (0.5 * p.gamma * p.shares**2 + p.epsilon * sum(abs(n) for n in trades)
            + eta_tilde / p.tau * sum(n * n for n in trades))
    holdings, left = [], p.shares
    for n in trades:
        left -= n
        holdings.append(left)
    variance = p.sigma**2 * p.tau * sum(x * x for x in holdings)
    return mean, math.sqrt(max(variance, 0.0))


def simulate_costs(trades: list[float], paths: int, rng: np.random.Generator,
                   p: AlmgrenChrissParameters = PAPER_PARAMETERS) -> np.ndarray:
    """Realised costs on ``paths`` simulated price paths of the linear model."""
    n = np.asarray(trades, dtype=float)
    shocks = rng.standard_normal((paths, len(trades))) * p.sigma * math.sqrt(p.tau)
    # price before trade k: S0 + sum_{j<k} (shock_j - gamma n_j)
    moves = shocks - p.gamma * n
    before = p.initial_price + np.cumsum(moves, axis=1) - moves
    executed = before - p.epsilon * np.sign(n) - p.eta * n / p.tau
    return np.asarray(p.shares * p.initial_price - executed @ n)


def run_almgren_chriss(paths: int, seed: int) -> dict[str, Any]:
    """The scenario's JSON: expected and Monte Carlo cost of MARKET, TWAP and IS schedules."""
    if paths < 2:
        raise ValueError(f"paths must be at least 2, got {paths}")
    rng = np.random.default_rng(seed)
    algorithms: dict[str, Any] = {}
    for name, trades in schedules().items():
        mean, std = expected_cost(trades)
        costs = simulate_costs(trades, paths, rng)
        algorithms[name] = {
            "expected_cost_usd": round(mean, 2),
            "std_cost_usd": round(std, 2),
            "mc_mean_cost_usd": round(float(costs.mean()), 2),
            "mc_std_cost_usd": round(float(costs.std(ddof=1)), 2),
            "trades": [round(t, 2) for t in trades],
        }
    return {"scenario": SCENARIO_NAME, "paths": paths, "algorithms": algorithms}
