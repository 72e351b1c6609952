"""Implementation Shortfall: the Almgren-Chriss (2000) optimal trajectory, front-loaded by urgency.

Holdings after slice j: ``x_j = X sinh(kappa (T - t_j)) / sinh(kappa T)``, with
``kappa = sqrt(lambda sigma^2 / eta)`` (continuous-time limit of the paper's
``cosh(kappa tau) = 1 + tilde_kappa^2 tau^2 / 2``).

Market inputs, in USD and minutes, measured at the start:
- ``sigma``: price volatility, USD per sqrt(minute), from the last hour of 1-minute bars
  (fallback: 8 bps per sqrt(minute), BTCUSDT's Jan-Apr 2024 typical level);
- ``eta``: temporary impact, USD per (share per minute): trading the market's whole per-minute
  volume costs ``IMPACT_AT_FULL_RATE`` (1%) of the price, i.e. ``eta = 0.01 S / V_min``.

Urgency -> risk aversion (documented mapping): ``lambda = LAMBDA_SCALE * urgency^2 / (X S)``
[1/USD], i.e. the aversion per dollar of order notional grows with the square of urgency
(``LAMBDA_SCALE = 50``). Urgency 0 gives TWAP (kappa -> 0); for a 2%-of-volume hour order on
BTC urgency 0.5 gives kappa T ~ 1.5, urgency 1 about 3. Participation is capped at
``min(0.2, urgency * 0.3)`` of printed volume (plus one minute of look-ahead).
"""

from __future__ import annotations

import itertools
import math
from datetime import timedelta
from decimal import Decimal
from typing import Any

from oms.algos.base import AlgoContext
from oms.algos.executor import ExecutorOptions
from oms.algos.schedule import build_schedule, default_slice_count
from oms.algos.twap import SliceScheduleAlgo
from oms.model.orders import ParentOrder
from oms.venues.filters import SymbolFilters

__all__ = [
    "IMPACT_AT_FULL_RATE",
    "LAMBDA_SCALE",
    "ShortfallAlgo",
    "ac_kappa",
    "ac_trajectory",
    "urgency_to_lambda",
]

LAMBDA_SCALE = 50.0
IMPACT_AT_FULL_RATE = 0.01
DEFAULT_SIGMA_PER_SQRT_MINUTE = 0.0008
MAX_KAPPA_T = 12.0


def urgency_to_lambda(urgency: float, notional_usd: float) -> float:
    """Risk aversion lambda [1/USD] for an urgency in [0, 1] and the order's notional."""
    if not 0.0 <= urgency <= 1.0:
        raise ValueError(f"urgency must be in [0, 1], got {urgency}")
    if notional_usd <= 0:
        raise ValueError("notional must be positive")
    return LAMBDA_SCALE * urgency**2 / notional_usd


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
        self.slices = []

    def market_inputs(self, ctx: AlgoContext) -> tuple[float, float, float]:
        """(price, sigma USD/sqrt(min), per-minute volume) measured on the last hour of bars."""
        price = float(self._price(ctx))
        bars = ctx.market.bars(self.parent.symbol, ctx.now - timedelta(minutes=60), ctx.now)
        returns = [
            math.log(b.close / a.close) for a, b in itertools.pairwise(bars)
            if a.close > 0 and b.close > 0
        ]
        if len(returns) >= 10:
            mean = sum(returns) / len(returns)
            sigma_rel = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
        else:
            sigma_rel = DEFAULT_SIGMA_PER_SQRT_MINUTE
        volume = self.volume_per_minute or 0.0
        return price, max(sigma_rel, 1e-6) * price, volume

    def plan(self, ctx: AlgoContext) -> None:
        """Compute kappa from urgency and the market, then lay the trajectory on the slices."""
        start = self.started_at or ctx.now
        end = max(self.window_end(ctx), start + timedelta(seconds=1))
        horizon = (end - start) / timedelta(minutes=1)
        price, sigma, volume = self.market_inputs(ctx)
        quantity = float(self.plan_quantity)
        if volume > 0 and self.urgency > 0:
            eta = IMPACT_AT_FULL_RATE * price / volume
            risk_aversion = urgency_to_lambda(self.urgency, quantity * price)
            self.kappa = min(ac_kappa(risk_aversion, sigma, eta), MAX_KAPPA_T / horizon)
        holdings = ac_trajectory(quantity, self.kappa, horizon, self.slice_count)
        trades = [max(a - b, 0.0) for a, b in itertools.pairwise(holdings)]
        span = (end - start) / self.slice_count
        times = [(start + span * j, start + span * (j + 1)) for j in range(self.slice_count)]
        self.slices = build_schedule(self.plan_quantity, trades, times, self.filters,
                                     Decimal(repr(price)))

