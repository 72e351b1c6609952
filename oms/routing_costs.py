"""Per-venue cost arithmetic of the smart order router: eligibility, the book walk, latency risk.

A ``PricedVenue`` is one venue prepared for one request: the levels of the side the request walks
(those beyond a limit dropped, malformed ones skipped), its capacity and its fixed costs in bps.
Beyond the visible depth a quantity is priced at the limit when there is one (the worst it may
pay), otherwise at the deepest visible level (the book shows no better; deeper liquidity, if it
exists, costs at least that), otherwise at the touch.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass

from oms.model.enums import Side
from oms.routing_types import Ineligible, RouteRequest, VenueState

__all__ = ["PricedVenue", "latency_bps", "price_venue"]


def latency_bps(sigma_per_sqrt_s: float, latency_ms: float, k: float) -> float:
    """Adverse move over the round trip: ``k * sigma * sqrt(latency_s) * 1e4``."""
    return k * sigma_per_sqrt_s * math.sqrt(latency_ms / 1000.0) * 1e4


@dataclass(slots=True)
class PricedVenue:
    """One venue prepared for one request (quantities in base units, costs in bps of the mid)."""

    index: int
    state: VenueState
    sign: int  # +1 buy, -1 sell
    mid: float  # the request's reference mid
    prices: list[float]  # levels the request may walk, best first
    filled: list[float]  # quantity walked at the end of each level, after a leading 0
    spent: list[float]  # quote currency spent at the end of each level, after a leading 0
    depth: float  # the visible quantity within the limit
    beyond_price: float  # price of any quantity past ``depth``
    touch: float  # ask for a buy, bid for a sell
    capacity: float  # quantity the headroom allows
    fee_bps: float
    latency_bps: float
    code: Ineligible | None
    why: str  # the reason when ineligible

    @property
    def eligible(self) -> bool:
        """True when the venue may take part of this request."""
        return self.code is None

    def level_of(self, quantity: float) -> int:
        """1-based level holding the ``quantity``-th unit walked from the top (len + 1: beyond
        the visible depth)."""
        return bisect_left(self.filled, quantity, 1)

    def marginal_price(self, quantity: float) -> float:
        """Price of the ``quantity``-th unit walked from the top."""
        level = self.level_of(quantity)
        return self.prices[level - 1] if level <= len(self.prices) else self.beyond_price

    def notional(self, quantity: float) -> float:
        """Cost in quote currency of the first ``quantity`` units walked from the top."""
        filled = self.filled
        level = bisect_left(filled, quantity, 1)  # level_of, inlined: the router's hot path
        if level == len(filled):
            return self.spent[-1] + (quantity - self.depth) * self.beyond_price
        return self.spent[level - 1] + (quantity - filled[level - 1]) * self.prices[level - 1]

    def price_bps(self, notional: float, quantity: float) -> float:
        """Average price ``notional / quantity`` against the mid in bps, + is a cost."""
        return self.sign * (notional / quantity - self.mid) / self.mid * 1e4

    def cost_bps(self, quantity: float) -> float:
        """All-in cost of ``quantity`` walked from the top: price + fee + latency risk."""
        return self.price_bps(self.notional(quantity), quantity) + self.fee_bps + self.latency_bps


def _bad_figure(state: VenueState) -> str:
    """The first figure of the snapshot that cannot be used, as ``name=value``; "" if none."""
    if not math.isfinite(state.maker_fee_bps):
        return f"maker_fee_bps={state.maker_fee_bps}"
    if not math.isfinite(state.taker_fee_bps):
        return f"taker_fee_bps={state.taker_fee_bps}"
    if not 0.0 <= state.latency_ms < math.inf:
        return f"latency_ms={state.latency_ms}"
    if not 0.0 <= state.min_notional < math.inf:
        return f"min_notional={state.min_notional}"
    if not 0.0 <= state.step_size < math.inf:
        return f"step_size={state.step_size}"
    if not 0.0 <= state.passive_fill_probability <= 1.0:
        return f"passive_fill_probability={state.passive_fill_probability}"
    if math.isnan(state.headroom_usd):
        return "headroom_usd=nan"
    return ""


def price_venue(index: int, state: VenueState, request: RouteRequest, k: float) -> PricedVenue:
    """Prepare ``state`` for ``request``: walkable levels, capacity, fixed costs, eligibility."""
    buy = request.side is Side.BUY
    limit = request.limit_price
    prices: list[float] = []
    filled = [0.0]  # running sums, so that a walk is one bisection
    spent = [0.0]
    if request.marketable:  # a resting order walks nothing
        inf, depth, notional = math.inf, 0.0, 0.0
        low, high = (0.0, limit) if buy and limit is not None else (limit or 0.0, inf)
        for price, size in state.asks if buy else state.bids:
            # a malformed level (nan, inf, <= 0) is skipped, not trusted; so is one past the limit
            if 0.0 < price < inf and 0.0 < size < inf and low <= price <= high:
                depth += size
                notional += price * size
                prices.append(price)
                filled.append(depth)
                spent.append(notional)
    touch = state.ask if buy else state.bid
    if not math.isfinite(touch) or touch <= 0:
        touch = prices[0] if prices else math.nan
    beyond = limit if limit is not None else (prices[-1] if prices else touch)
    two_sided = 0 < state.bid <= state.ask < math.inf  # a resting order needs both (half spread)
    mid = request.reference_mid
    headroom = max(state.headroom_usd, 0.0) if not math.isnan(state.headroom_usd) else 0.0
    code: Ineligible | None = None
    why = ""
    usable = (0.0 <= state.latency_ms < math.inf and 0.0 <= state.min_notional < math.inf
              and 0.0 <= state.step_size < math.inf and 0.0 <= state.passive_fill_probability <= 1.0
              and math.isfinite(state.maker_fee_bps + state.taker_fee_bps)
              and not math.isnan(state.headroom_usd))
    bad = "" if usable else _bad_figure(state)  # the message only when something is wrong
    if not state.healthy:
        code, why = Ineligible.UNHEALTHY, state.health_reason or "unhealthy"
    elif bad:
        code, why = Ineligible.BAD_SNAPSHOT, f"bad snapshot: {bad}"
    elif request.marketable and not math.isfinite(beyond):
        code, why = Ineligible.BAD_SNAPSHOT, f"no {'ask' if buy else 'bid'} price"
    elif not request.marketable and not two_sided:
        code, why = Ineligible.BAD_SNAPSHOT, f"no two-sided touch: bid={state.bid} ask={state.ask}"
    elif headroom < state.min_notional or headroom <= 0:
        code, why = (Ineligible.NO_HEADROOM,
                     f"headroom {headroom:.2f} USD < min notional {state.min_notional:.2f} USD")
    elif request.quantity * mid < state.min_notional:
        code, why = (Ineligible.BELOW_MIN_NOTIONAL,
                     f"request {request.quantity * mid:.2f} USD < min notional "
                     f"{state.min_notional:.2f} USD")
    fee = state.taker_fee_bps if request.marketable else state.maker_fee_bps
    latency = latency_bps(request.sigma_per_sqrt_s, max(state.latency_ms, 0.0), k)
    return PricedVenue(index, state, 1 if buy else -1, mid, prices, filled, spent, filled[-1],
                       beyond, touch, headroom / mid, fee, latency, code, why)
