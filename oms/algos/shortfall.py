"""Implementation Shortfall: the Almgren-Chriss (2000) optimal trajectory, calibrated on the
venue's own impact law, front-loaded by urgency.

Holdings after slice j: ``x_j = X sinh(kappa (T - t_j)) / sinh(kappa T)``, with the paper's
discrete ``cosh(kappa tau) = 1 + kappa~^2 tau^2 / 2``, ``kappa~^2 = lambda sigma^2 / eta~`` and
``eta~ = eta - gamma tau / 2``. Units: USD, minutes, base-asset quantity.

Impact coefficients (``calibrate``): the venue's law (oms.market.impact) moves the log-mid by
``I(F) = Y sigma_1m (F / V_1m)^a`` (a = 1/2, the square-root law; a = 1 linear): a temporary
share ``1 - p`` of I of our decaying flow ``F`` (time constant ``theta = decay_s``) and a
permanent ``p I(N)`` of our cumulative net quantity ``N`` (whatever the slicing). Trading the
parent X at the constant rate ``v = X / T`` gives ``F(t) = v theta (1 - exp(-t / theta))`` and
``N(t) = v t``, and the expected impact cost (USD, S the price) splits into

    temporary  C_tmp  = S (1 - p) v  integral_0^T I(F(t)) dt
    permanent  C_perm = S p v        integral_0^T I(v t) dt     (= S p X I(X) / (1 + a))

(every unit pays the shift it meets; spread and book depth are the venue's, outside this law).
The law is concave, so the linear coefficients depend on the parent: for BTCUSDT (sigma_1m
8.3 bps, V_1m 31.7 BTC, S 60,672) over an hour, X = 20 BTC gives eta 15.5 USD min/BTC^2,
gamma 0.94 USD/BTC^2 (0.85 + 1.54 = 2.4 bps), X = 190 BTC (10% of the volume) eta 5.0, gamma
0.30 (2.6 + 4.8 = 7.4 bps).
Linearising the law around this parent (its size X and horizon T) means choosing the
Almgren-Chriss coefficients whose continuous-time cost of the same constant-rate trajectory,
``gamma X^2 / 2 + eta X^2 / T``, equals it part by part:

    gamma = 2 C_perm / X^2        [USD / unit^2]
    eta   = C_tmp T / X^2         [USD min / unit^2]

The integrals are computed by the midpoint rule after ``s = T u^2`` (which smooths the
``sqrt(s)`` at the start). ``sigma_1m`` is measured on the bars the algorithm sees
(``VOLATILITY_LOOKBACK`` of 1-minute closes, at least ``MIN_RETURNS``), otherwise the
instrument's calibrated figure (oms.market.calibration), otherwise ``DEFAULT_SIGMA_1M``;
``V_1m`` is the recent volume per minute (calibrated figure as fallback).

Urgency -> risk aversion (documented mapping): at the instrument's calibrated volatility,
urgency ``u`` in [0, 1] gives ``kappa~ T = KAPPA_T_PER_URGENCY * u`` (0: TWAP, 0.5: 2, 1: 4;
the discrete kappa is within 1% of it for 10 slices);
i.e. ``lambda = (KAPPA_T_PER_URGENCY u / T)^2 eta~_ref / sigma_ref^2`` [1/USD] with ``eta~_ref``
the coefficient at the calibrated sigma. The measured market then moves kappa as Almgren-Chriss
says: eta grows like sigma, so a day twice as volatile as calibrated gives ``kappa T`` larger by
sqrt(2) (capped at ``MAX_KAPPA_T``). Participation is capped at ``min(0.2, urgency * 0.3)`` of
printed volume (plus one minute of look-ahead).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from oms.algos.base import AlgoContext
from oms.algos.executor import ExecutorOptions
from oms.algos.schedule import build_schedule, default_slice_count
from oms.algos.twap import SliceScheduleAlgo
from oms.market.calibration import CALIBRATION
from oms.market.impact import ImpactParams
from oms.model.orders import ParentOrder
from oms.sizing import realised_volatility
from oms.venues.filters import SymbolFilters

__all__ = [
    "DEFAULT_SIGMA_1M",
    "KAPPA_T_PER_URGENCY",
    "AcCoefficients",
    "ShortfallAlgo",
    "ac_kappa",
    "ac_trajectory",
    "calibrate",
    "measured_sigma",
    "urgency_to_lambda",
    "venue_impact_cost",
]

KAPPA_T_PER_URGENCY = 4.0
MAX_KAPPA_T = 12.0
DEFAULT_SIGMA_1M = 0.0008  # BTCUSDT's typical 1-minute return volatility, for unknown symbols
VOLATILITY_LOOKBACK = timedelta(minutes=120)
MIN_RETURNS = 30
_QUADRATURE_POINTS = 2000
_U = (np.arange(_QUADRATURE_POINTS) + 0.5) / _QUADRATURE_POINTS


def ac_kappa(risk_aversion: float, sigma: float, eta: float, tau: float = 0.0,
             gamma: float = 0.0) -> float:
    """Almgren-Chriss kappa; with ``tau > 0`` the paper's discrete form (eta~ = eta - gamma tau/2).
    """
    eta_tilde = eta - gamma * tau / 2.0
    if eta_tilde <= 0:
        raise ValueError("temporary impact must exceed gamma * tau / 2")
    kappa_tilde_sq = risk_aversion * sigma**2 / eta_tilde
    if tau <= 0:
        return math.sqrt(kappa_tilde_sq)
    return math.acosh(1.0 + kappa_tilde_sq * tau**2 / 2.0) / tau


def ac_trajectory(total: float, kappa: float, horizon: float, periods: int) -> list[float]:
    """Holdings x_0..x_N at t_j = j * horizon / N (x_0 = total, x_N = 0); a line if kappa = 0."""
    times = [horizon * j / periods for j in range(periods + 1)]
    if kappa * horizon < 1e-9:
        return [total * (horizon - t) / horizon for t in times]
    denominator = math.sinh(kappa * horizon)
    return [total * math.sinh(kappa * (horizon - t)) / denominator for t in times]


def venue_impact_cost(quantity: float, horizon_min: float, *, sigma_1m: float,
                      volume_per_minute: float, params: ImpactParams | None = None,
                      ) -> tuple[float, float]:
    """(temporary, permanent) impact cost of trading ``quantity`` at a constant rate over
    ``horizon_min`` under the venue's law, as a share of the price times quantity units (USD =
    price * value); the module docstring has the integrals."""
    law = params or ImpactParams()
    if quantity <= 0 or horizon_min <= 0:
        return 0.0, 0.0
    exponent = 1.0 if law.kind == "linear" else 0.5
    scale = law.coefficient * sigma_1m / max(volume_per_minute, 1e-12) ** exponent
    rate = quantity / horizon_min
    theta = law.decay_s / 60.0

    # the midpoint rule in u (s = T u^2, ds = 2 T u du), all points at once
    s = horizon_min * _U * _U
    weight = 2.0 * horizon_min * _U / _QUADRATURE_POINTS
    flow = rate * theta * -np.expm1(-s / theta)
    temporary = scale * float(np.dot(flow**exponent, weight))
    permanent = scale * float(np.dot((rate * s) ** exponent, weight))
    fraction = law.permanent_fraction
    return (1.0 - fraction) * rate * temporary, fraction * rate * permanent


@dataclass(frozen=True, slots=True)
class AcCoefficients:
    """Almgren-Chriss inputs for one parent: USD, minutes and base-asset units."""

    price: float
    sigma: float  # USD per sqrt(minute)
    eta: float  # temporary impact, USD min / unit^2
    gamma: float  # permanent impact, USD / unit^2

    def expected_cost(self, quantity: float, horizon_min: float) -> float:
        """Continuous-time impact cost of the constant-rate trajectory, USD."""
        return self.gamma * quantity**2 / 2.0 + self.eta * quantity**2 / horizon_min


def calibrate(quantity: float, horizon_min: float, *, price: float, sigma_1m: float,
              volume_per_minute: float, params: ImpactParams | None = None) -> AcCoefficients:
    """Linearise the venue's law around (quantity, horizon): see the module docstring."""
    temporary, permanent = venue_impact_cost(quantity, horizon_min, sigma_1m=sigma_1m,
                                             volume_per_minute=volume_per_minute, params=params)
    squared = max(quantity, 1e-12) ** 2
    return AcCoefficients(price=price, sigma=sigma_1m * price,
                          eta=max(price * temporary * horizon_min / squared, 1e-300),
                          gamma=2.0 * price * permanent / squared)


def urgency_to_lambda(urgency: float, horizon_min: float, eta_tilde_ref: float,
                      sigma_ref: float) -> float:
    """Risk aversion lambda [1/USD] giving ``kappa T = KAPPA_T_PER_URGENCY * urgency`` at the
    reference (calibrated) volatility ``sigma_ref`` [USD/sqrt(min)] and its ``eta~``."""
    if not 0.0 <= urgency <= 1.0:
        raise ValueError(f"urgency must be in [0, 1], got {urgency}")
    if horizon_min <= 0 or sigma_ref <= 0:
        raise ValueError("horizon and sigma must be positive")
    return (KAPPA_T_PER_URGENCY * urgency / horizon_min) ** 2 * eta_tilde_ref / sigma_ref**2


def measured_sigma(closes: list[float]) -> float | None:
    """Sample standard deviation of 1-minute log returns of the positive ``closes``; None with
    fewer than MIN_RETURNS returns or a flat series (a price that never moved measured
    nothing)."""
    positive = [c for c in closes if c > 0]
    if len(positive) - 1 < MIN_RETURNS:
        return None
    sigma = realised_volatility(positive, periods_per_year=1.0)
    return sigma if sigma > 0 else None


class ShortfallAlgo(SliceScheduleAlgo):
    """Almgren-Chriss schedule over equal periods; ``urgency`` (parent's) sets its front-loading."""

    def __init__(
        self,
        parent: ParentOrder,
        *,
        seed: int = 0,
        filters: SymbolFilters,
        slices: int | None = None,
        urgency: float | None = None,
        **options: Any,
    ) -> None:
        self.urgency = parent.urgency if urgency is None else float(urgency)
        options.setdefault("participation_cap", min(0.2, max(self.urgency, 0.01) * 0.3))
        super().__init__(
            parent, seed=seed, filters=filters, options=ExecutorOptions.from_options(options)
        )
        self.slice_count = slices or default_slice_count(parent.duration_minutes)
        self.kappa = 0.0  # per minute, set by plan()
        self.risk_aversion = 0.0  # 1/USD, set by plan()
        self.coefficients: AcCoefficients | None = None
        self.slices = []

    def market_inputs(self, ctx: AlgoContext) -> tuple[float, float, float]:
        """(price, sigma_1m as a return, volume per minute) from the bars, with fallbacks."""
        price = float(self._price(ctx))
        calibrated = CALIBRATION.get(self.parent.symbol, {})
        bars = ctx.market.bars(self.parent.symbol, ctx.now - VOLATILITY_LOOKBACK, ctx.now)
        sigma = measured_sigma([b.close for b in bars])
        if sigma is None:
            sigma = float(calibrated.get("sigma_1m", DEFAULT_SIGMA_1M))
        volume = self.volume_per_minute or float(calibrated.get("volume_per_minute", 0.0))
        return price, max(sigma, 1e-6), volume

    def plan(self, ctx: AlgoContext) -> None:
        """Calibrate the coefficients, set kappa from urgency, lay the trajectory on the slices."""
        start = self.started_at or ctx.now
        end = max(self.window_end(ctx), start + timedelta(seconds=1))
        horizon = (end - start) / timedelta(minutes=1)
        price, sigma, volume = self.market_inputs(ctx)
        quantity = float(self.plan_quantity)
        tau = horizon / self.slice_count
        if self.urgency > 0 and volume > 0:
            self.kappa = self._kappa(quantity, horizon, tau, price, sigma, volume)
        else:
            self.kappa = 0.0
        holdings = ac_trajectory(quantity, self.kappa, horizon, self.slice_count)
        trades = [max(a - b, 0.0) for a, b in itertools.pairwise(holdings)]
        span = (end - start) / self.slice_count
        times = [(start + span * j, start + span * (j + 1)) for j in range(self.slice_count)]
        self.slices = build_schedule(self.plan_quantity, trades, times, self.filters,
                                     Decimal(repr(price)))

    def _kappa(self, quantity: float, horizon: float, tau: float, price: float, sigma: float,
               volume: float) -> float:
        """kappa [1/min] of the measured market under the urgency's risk aversion."""
        coefficients = calibrate(quantity, horizon, price=price, sigma_1m=sigma,
                                 volume_per_minute=volume)
        sigma_ref = float(CALIBRATION.get(self.parent.symbol, {}).get("sigma_1m", sigma))
        reference = calibrate(quantity, horizon, price=price, sigma_1m=sigma_ref,
                              volume_per_minute=volume)
        # the discrete form needs eta~ > 0; keep gamma's share of it below one half
        gamma = min(coefficients.gamma, coefficients.eta / tau)
        gamma_ref = min(reference.gamma, reference.eta / tau)
        eta_tilde_ref = reference.eta - gamma_ref * tau / 2.0
        self.coefficients = AcCoefficients(price, coefficients.sigma, coefficients.eta, gamma)
        self.risk_aversion = urgency_to_lambda(self.urgency, horizon, eta_tilde_ref,
                                               reference.sigma)
        kappa = ac_kappa(self.risk_aversion, coefficients.sigma, coefficients.eta, tau=tau,
                         gamma=gamma)
        return min(kappa, MAX_KAPPA_T / horizon)
