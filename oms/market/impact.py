"""Market impact of the OMS's own flow: square-root law (default) or linear Almgren-Chriss.

``I(x)`` is the impact of a signed quantity x (base asset) traded at once:

- ``sqrt``: ``I(x) = Y * sigma * sign(x) * sqrt(|x| / V)`` (the square-root law; Y ~ 0.5-1),
- ``linear``: ``I(x) = Y * sigma * x / V`` (Almgren-Chriss: impact proportional to quantity),

where ``sigma`` is the 1-minute return volatility and ``V`` the mean volume per minute (scaling
both to a day gives the same figure: sigma_d * sqrt(Q / V_d) = sigma_1m * sqrt(Q / V_1m)).

State per symbol, in "effective" quantity (a taker fill counts in full, a maker fill counts
``passive_ratio`` of its size):

- ``net``: our cumulative net effective quantity. The PERMANENT shift is
  ``permanent_fraction * I(net)``: a meta-order's permanent impact follows the square-root law of
  its total, whatever the slicing (5 BTC at once and 5 BTC in 60 slices end at the same price);
- ``flow``: our recent effective quantity, decaying exponentially with time constant
  ``decay_s``; the TEMPORARY shift is ``(1 - permanent_fraction) * I(flow)``.

Passive fills move the price too (our resting order soaks up flow that would otherwise have
moved the touch) but less: ``passive_ratio`` is the mid's response to limit-order flow at the
touch relative to its response to taker flow, fitted on the Binance recordings by an order-flow
imbalance regression (oms.market.micro_stats.maker_taker_ratio; PASSIVE_IMPACT_RATIO in
calibration.py, written by scripts/calibrate_market.py). With no trades both parts are exactly
zero, so the market path is untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from oms.market.calibration import PASSIVE_IMPACT_RATIO

__all__ = ["ImpactModel", "ImpactParams"]

ImpactKind = Literal["sqrt", "linear"]


@dataclass(frozen=True, slots=True)
class ImpactParams:
    """How a symbol's price reacts to our trades."""

    kind: ImpactKind = "sqrt"
    coefficient: float = 0.7  # Y
    permanent_fraction: float = 0.5  # share of I(net) that never decays
    decay_s: float = 600.0  # time constant of the temporary part (seconds)
    passive_ratio: float = PASSIVE_IMPACT_RATIO  # a maker fill's weight against a taker fill's


class ImpactModel:
    """Impact state of one symbol; offsets are log-price shifts (0.0001 = 1 bps)."""

    __slots__ = ("_flow", "_last_ts", "_net", "params", "sigma", "volume")

    def __init__(self, params: ImpactParams, sigma_1m: float, volume_per_minute: float) -> None:
        self.params = params
        self.sigma = sigma_1m
        self.volume = max(volume_per_minute, 1e-12)
        self._flow = 0.0
        self._last_ts = -math.inf
        self._net = 0.0

    def peak(self, signed_quantity: float) -> float:
        """I(x): the total log-price impact of ``signed_quantity`` traded at once."""
        if signed_quantity == 0.0:
            return 0.0
        y = self.params.coefficient * self.sigma
        if self.params.kind == "linear":
            return y * signed_quantity / self.volume
        return math.copysign(y * math.sqrt(abs(signed_quantity) / self.volume), signed_quantity)

    def _flow_at(self, ts: float) -> float:
        if self._flow == 0.0:
            return 0.0
        elapsed = ts - self._last_ts
        if elapsed <= 0:
            return self._flow
        return self._flow * math.exp(-elapsed / self.params.decay_s)

    def offset(self, ts: float) -> float:
        """Log-price shift at epoch second ``ts`` (permanent + decayed temporary)."""
        if self._flow == 0.0:
            return self.permanent
        temporary = (1.0 - self.params.permanent_fraction) * self.peak(self._flow_at(ts))
        return self.permanent + temporary

    @property
    def permanent(self) -> float:
        """The permanent log-price shift: ``permanent_fraction * I(net)``."""
        return self.params.permanent_fraction * self.peak(self._net)

    @property
    def net(self) -> float:
        """Our cumulative net effective quantity (+ bought)."""
        return self._net

    @property
    def last_ts(self) -> float:
        """Epoch second of our last recorded trade (-inf before any)."""
        return self._last_ts

    def record(self, signed_quantity: float, ts: float, *, passive: bool = False) -> None:
        """Account for our trade of ``signed_quantity`` (+buy / -sell) at epoch second ``ts``;
        ``passive``: a maker fill, weighted by ``passive_ratio``."""
        if ts < self._last_ts:
            ts = self._last_ts
        effective = signed_quantity * (self.params.passive_ratio if passive else 1.0)
        self._flow = self._flow_at(ts) + effective
        self._net += effective
        self._last_ts = ts
