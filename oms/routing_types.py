"""Value types of the smart order router (oms.routing): what the engine hands in, what it gets back.

Floats throughout: the router is a cost model the engine calls once per child; the engine converts
the chosen quantities to Decimal and rounds them to the venue's steps itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from oms.model.enums import Side

__all__ = [
    "Ineligible",
    "RouteOutcome",
    "RouteRequest",
    "RoutingDecision",
    "VenueCost",
    "VenueState",
]


@dataclass(frozen=True, slots=True)
class VenueState:
    """One venue as the engine sees it now (books best first, fees in bps, headroom in USD)."""

    name: str
    bid: float
    ask: float
    asks: Sequence[tuple[float, float]]  # (price, quantity) a BUY walks, best first
    bids: Sequence[tuple[float, float]]  # (price, quantity) a SELL walks, best first
    maker_fee_bps: float
    taker_fee_bps: float
    latency_ms: float  # expected order round trip
    passive_fill_probability: float = 0.8  # chance a resting order at the touch fills in time
    min_notional: float = 0.0
    step_size: float = 0.0
    healthy: bool = True
    health_reason: str = ""
    headroom_usd: float = math.inf  # notional the venue's exposure limits still allow


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """One child intent to route; costs are measured against ``reference_mid``."""

    side: Side
    quantity: float
    marketable: bool  # market / IOC / a limit that crosses: walks the book, pays taker
    reference_mid: float  # consolidated mid the costs are measured against
    sigma_per_sqrt_s: float  # volatility, fraction of price per sqrt(second) (latency risk)
    limit_price: float | None = None  # a marketable limit walks no level beyond it


class Ineligible(StrEnum):
    """Why a venue may take nothing of this request (the typed twin of ``VenueCost.reason``)."""

    UNHEALTHY = "UNHEALTHY"
    BAD_SNAPSHOT = "BAD_SNAPSHOT"  # a non-finite or negative figure, or no price on the side
    NO_HEADROOM = "NO_HEADROOM"  # headroom below the venue's min notional
    BELOW_MIN_NOTIONAL = "BELOW_MIN_NOTIONAL"  # the whole request is below the min notional


class RouteOutcome(StrEnum):
    """What kind of decision the router made."""

    SINGLE = "SINGLE"  # everything to the cheapest venue
    SPLIT = "SPLIT"  # several venues, cheaper all-in than any one alone
    PASSIVE = "PASSIVE"  # a resting order on one venue
    FIXED = "FIXED"  # the configured venue, as asked
    FIXED_INELIGIBLE = "FIXED_INELIGIBLE"  # the configured venue cannot take it: reject the child
    NO_ELIGIBLE_VENUE = "NO_ELIGIBLE_VENUE"  # nothing allocated


@dataclass(frozen=True, slots=True)
class VenueCost:
    """One venue considered for the whole request alone; costs in bps of ``reference_mid``,
    + is a cost; nan where the snapshot does not allow a figure."""

    venue: str
    eligible: bool
    reason: str  # why not eligible, or a short note ("fills 0.42 of 1.0 within limit")
    fillable: float  # quantity this venue could take (depth within limit, headroom)
    price_bps: float  # average price walked vs reference_mid, signed so that + is a cost
    fee_bps: float
    latency_bps: float  # adverse move over the latency: k * sigma * sqrt(latency_s) * 1e4
    nonfill_bps: float  # passive only: (1 - p_fill) x cost of crossing later
    total_bps: float
    code: Ineligible | None = None  # set exactly when not eligible

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: bps to 3 decimals, quantities to 12 significant places, nan/inf -> None."""
        return {
            "venue": self.venue, "eligible": self.eligible, "reason": self.reason,
            "code": None if self.code is None else self.code.value,
            "fillable": _quantity(self.fillable), "price_bps": _bps(self.price_bps),
            "fee_bps": _bps(self.fee_bps), "latency_bps": _bps(self.latency_bps),
            "nonfill_bps": _bps(self.nonfill_bps), "total_bps": _bps(self.total_bps),
        }


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """Where the child (or its pieces) goes, every venue's cost, and one line a trader reads."""

    allocations: tuple[tuple[str, float], ...]  # (venue, quantity); sum <= request quantity
    considered: tuple[VenueCost, ...]  # every venue, in input order
    expected_cost_bps: float  # of the allocation, quantity-weighted, all-in; nan if none
    reason: str
    outcome: RouteOutcome = RouteOutcome.SINGLE
    unallocated: float = 0.0  # quantity no eligible venue could take (headroom exhausted)

    @property
    def allocated(self) -> float:
        """Sum of the allocated quantities."""
        return math.fsum(quantity for _, quantity in self.allocations)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (json.dumps(..., allow_nan=False) accepts it) for the audit row."""
        return {
            "outcome": self.outcome.value,
            "allocations": [{"venue": venue, "quantity": _quantity(quantity)}
                            for venue, quantity in self.allocations],
            "unallocated": _quantity(self.unallocated),
            "expected_cost_bps": _bps(self.expected_cost_bps),
            "reason": self.reason,
            "considered": [cost.as_dict() for cost in self.considered],
        }


def _bps(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def _quantity(value: float) -> float | None:
    return float(f"{value:.12g}") if math.isfinite(value) else None
