"""Market impact of the OMS's own flow: square-root law (default) or linear Almgren-Chriss.

State per symbol: ``flow`` is our recent signed traded quantity (base asset), decaying
exponentially with time constant ``decay_s``; the peak impact of that flow is ``I(flow)``:

- ``sqrt``: ``I(x) = Y * sigma * sign(x) * sqrt(|x| / V)`` (the square-root law; Y ~ 0.5-1),
- ``linear``: ``I(x) = Y * sigma * x / V`` (Almgren-Chriss: impact proportional to quantity),

where ``sigma`` is the 1-minute return volatility and ``V`` the mean volume per minute (scaling
both to a day gives the same figure: sigma_d * sqrt(Q / V_d) = sigma_1m * sqrt(Q / V_1m)).
A trade moves the log-mid by ``I(flow after) - I(flow before)``: a share ``permanent_fraction``
of each step stays for good (permanent impact); the rest is temporary and decays with the flow.
With no trades both parts are exactly zero, so the market path is untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["ImpactModel", "ImpactParams"]

ImpactKind = Literal["sqrt", "linear"]


@dataclass(frozen=True, slots=True)
class ImpactParams:
    """How a symbol's price reacts to our trades."""

    kind: ImpactKind = "sqrt"
    coefficient: float = 0.7  # Y
    permanent_fraction: float = 0.5  # share of each impact step that never decays
    decay_s: float = 600.0  # time constant of the temporary part (seconds)


class ImpactModel:
    """Impact state of one symbol; offsets are log-price shifts (0.0001 = 1 bps)."""

    __slots__ = ("_flow", "_last_ts", "_permanent", "params", "sigma", "volume")

    def __init__(self, params: ImpactParams, sigma_1m: float, volume_per_minute: float) -> None:
        self.params = params
        self.sigma = sigma_1m
        self.volume = max(volume_per_minute, 1e-12)
        self._flow = 0.0
        self._last_ts = -math.inf
        self._permanent = 0.0

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
            return self._permanent
        temporary = (1.0 - self.params.permanent_fraction) * self.peak(self._flow_at(ts))
        return self._permanent + temporary

    @property
    def permanent(self) -> float:
        """The permanent log-price shift accumulated so far."""
        return self._permanent

    def record(self, signed_quantity: float, ts: float) -> None:
        """Account for our trade of ``signed_quantity`` (+buy / -sell) at epoch second ``ts``."""
        if ts < self._last_ts:
            ts = self._last_ts
        before = self._flow_at(ts)
        after = before + signed_quantity
        self._permanent += self.params.permanent_fraction * (self.peak(after) - self.peak(before))
        self._flow = after
        self._last_ts = ts
