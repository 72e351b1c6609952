"""SmartOrderRouter: venue choice and split by all-in cost (book walk, fees, latency risk).

A pure cost model: the engine calls ``route`` once per child intent with a snapshot of each venue
and sends the child (or its pieces) where the decision says. Costs are bps of ``reference_mid``.

Marketable: a venue's all-in cost is its book walk's average price against the mid, + taker fee,
+ latency risk ``k sigma sqrt(latency_s) 1e4``. The split water-fills ``chunks`` equal pieces, each
to the venue whose NEXT piece (the walk goes on where it stopped) is cheapest all-in, within its
headroom and visible depth, on at most ``max_venues`` venues; the split is kept only when it is
strictly cheaper than the best venue able to take everything alone. Then:

1. quantity no book shows goes to the venue with the best all-in touch (touch vs mid + taker fee +
   latency) that has headroom left, priced as oms.routing_costs says (limit, else deepest level);
2. a piece below its venue's min notional joins the largest allocation (that has headroom for it);
3. pieces are rounded down to their venue's step and the remainder joins the largest allocation.

Whatever no eligible venue's headroom allows stays unallocated and the reason says so. Headroom
and min notional are compared with quantity x ``reference_mid``. A piece that step rounding leaves
under its min notional is not merged again (the engine's filter check has the last word).

Each ``VenueCost`` prices its venue taking the whole request alone (as much as its headroom
allows), so the figures compare like for like; ``fillable`` is what its book within the limit
and its headroom back. Eligibility: healthy, a usable snapshot (finite fees, latency >= 0, a
price on the side walked; a two-sided touch for a resting order), headroom at least the min
notional, and the request itself at least the min notional. ``expected_cost_bps`` is nan when
nothing is allocated (``as_dict`` writes None).

Passive (a resting limit at or behind the touch): one venue, never split, the lowest of price
(limit or touch vs mid, negative when it earns the half spread) + maker fee + latency risk +
``(1 - p_fill) (half spread + taker fee - maker fee)``; a venue able to rest the whole quantity
beats one whose headroom caps it. Ties everywhere go to the venue listed first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from oms.errors import FieldError, ValidationError
from oms.routing_allocate import allocation_cost, merge_small, place_beyond_depth, round_to_steps
from oms.routing_costs import PricedVenue, price_venue
from oms.routing_split import single_is_optimal, water_fill
from oms.routing_types import (
    Ineligible,
    RouteOutcome,
    RouteRequest,
    RoutingDecision,
    VenueCost,
    VenueState,
)

__all__ = [
    "Ineligible",
    "RouteOutcome",
    "RouteRequest",
    "RoutingDecision",
    "SmartOrderRouter",
    "VenueCost",
    "VenueState",
]

_SPLIT_GAIN_BPS = 1e-9  # a split must beat the best single venue by more than this


def _q(value: float) -> str:
    return f"{value:.6g}"


class SmartOrderRouter:
    """Routes one child intent across venues; ``fixed`` pins every child to one venue."""

    def __init__(self, *, fixed: str | None = None, max_venues: int = 3, chunks: int = 16,
                 latency_risk_k: float = 1.0) -> None:
        errors = []
        if max_venues < 1:
            errors.append(FieldError("max_venues", f"must be >= 1, got {max_venues}"))
        if chunks < 1:
            errors.append(FieldError("chunks", f"must be >= 1, got {chunks}"))
        if not math.isfinite(latency_risk_k) or latency_risk_k < 0:
            errors.append(FieldError("latency_risk_k", f"must be >= 0, got {latency_risk_k}"))
        if errors:
            raise ValidationError(errors)
        self.fixed = fixed
        self.max_venues = max_venues
        self.chunks = chunks
        self.latency_risk_k = latency_risk_k

    def route(self, request: RouteRequest, venues: Sequence[VenueState]) -> RoutingDecision:
        """Decide where ``request`` goes; raises ValidationError on malformed input."""
        _validate(request, venues)
        priced = [price_venue(i, v, request, self.latency_risk_k) for i, v in enumerate(venues)]
        costs = tuple(self._venue_cost(p, request) for p in priced)
        if self.fixed is not None:
            return self._fixed(request, priced, costs)
        if not any(p.eligible for p in priced):
            return _nothing(costs, RouteOutcome.NO_ELIGIBLE_VENUE, "no eligible venue: "
                            + "; ".join(f"{c.venue} {c.reason}" for c in costs))
        if not request.marketable:
            return self._passive(request, priced, costs)
        return self._marketable(request, priced, costs)

    # -- per venue --------------------------------------------------------------------------

    def _venue_cost(self, venue: PricedVenue, request: RouteRequest) -> VenueCost:
        """The venue taking the whole request alone (as much as its headroom allows)."""
        name, mid, quantity = venue.state.name, request.reference_mid, request.quantity
        take = min(quantity, venue.capacity)
        if request.marketable:
            price = (venue.price_bps(venue.notional(take), take)
                     if take > 0 else math.nan)
            nonfill = 0.0
            fillable = min(take, venue.depth)
        else:
            state = venue.state
            own_touch = state.bid if venue.sign > 0 else state.ask  # a buy rests on the bid
            rest = request.limit_price if request.limit_price is not None else own_touch
            price = venue.sign * (rest - mid) / mid * 1e4
            half_spread = (state.ask - state.bid) / 2.0 / mid * 1e4
            nonfill = ((1.0 - state.passive_fill_probability)
                       * (half_spread + state.taker_fee_bps - state.maker_fee_bps))
            fillable = take
        total = price + venue.fee_bps + venue.latency_bps + nonfill
        if not venue.eligible:
            fillable = 0.0
            note = venue.why
        elif take < quantity:
            note = f"headroom allows {_q(take)} of {_q(quantity)}"
        elif request.marketable and venue.depth < quantity:
            where = "within limit" if request.limit_price is not None else "in the book"
            note = f"fills {_q(venue.depth)} of {_q(quantity)} {where}; rest priced at " \
                   f"{venue.beyond_price:.8g}"
        else:
            note = ""
        return VenueCost(name, venue.eligible, note, fillable, price, venue.fee_bps,
                         venue.latency_bps, nonfill, total, venue.code)

    # -- the three decisions ----------------------------------------------------------------

    def _fixed(self, request: RouteRequest, priced: list[PricedVenue],
               costs: tuple[VenueCost, ...]) -> RoutingDecision:
        chosen = next((p for p in priced if p.state.name == self.fixed), None)
        if chosen is None:
            return _nothing(costs, RouteOutcome.FIXED_INELIGIBLE,
                            f"fixed venue {self.fixed} is not among the venues offered")
        if not chosen.eligible:
            return _nothing(costs, RouteOutcome.FIXED_INELIGIBLE,
                            f"fixed venue {self.fixed} not eligible: {chosen.why}")
        take = min(request.quantity, chosen.capacity)
        best = min((c for c in costs if c.eligible and c.venue != self.fixed),
                   key=lambda c: c.total_bps, default=None)
        cost = costs[chosen.index].total_bps
        line = f"fixed to {self.fixed}: {cost:.2f} bps all-in"
        if best is not None:
            line += f" (best other {best.venue} {best.total_bps:.2f} bps)"
        return _finish(request, {chosen.index: take}, priced, RouteOutcome.FIXED, line, costs)

    def _passive(self, request: RouteRequest, priced: list[PricedVenue],
                 costs: tuple[VenueCost, ...]) -> RoutingDecision:
        eligible = [p for p in priced if p.eligible]
        best = min(eligible, key=lambda p: (-min(request.quantity, p.capacity),
                                            costs[p.index].total_bps, p.index))
        cost = costs[best.index]
        p_fill = best.state.passive_fill_probability
        line = (f"rest {_q(min(request.quantity, best.capacity))} on {cost.venue}: "
                f"{cost.total_bps:.2f} bps expected (maker {cost.fee_bps:.2f} bps, "
                f"fill {p_fill:.0%})" + _runner_up(costs, best.index))
        return _finish(request, {best.index: min(request.quantity, best.capacity)}, priced,
                       RouteOutcome.PASSIVE, line, costs)

    def _marketable(self, request: RouteRequest, priced: list[PricedVenue],
                    costs: tuple[VenueCost, ...]) -> RoutingDecision:
        quantity = request.quantity
        eligible = [p for p in priced if p.eligible]
        singles = [p for p in eligible if p.capacity >= quantity]
        best = min(singles, key=lambda p: (costs[p.index].total_bps, p.index), default=None)
        split: dict[int, float] = {}
        split_cost = math.inf
        if best is None or not single_is_optimal(best, eligible, quantity):
            split = water_fill(quantity, eligible, chunks=self.chunks,
                                max_venues=self.max_venues)
            split = place_beyond_depth(quantity, split, eligible, self.max_venues)
            split = merge_small(split, priced, request.reference_mid)
            split = round_to_steps(split, priced)
            split_cost = allocation_cost(split, priced)
        if best is not None and (len(split) < 2
                                 or costs[best.index].total_bps <= split_cost + _SPLIT_GAIN_BPS):
            line = (f"all {_q(quantity)} to {best.state.name}: "
                    f"{costs[best.index].total_bps:.2f} bps all-in" + _runner_up(costs, best.index))
            return _finish(request, {best.index: quantity}, priced, RouteOutcome.SINGLE, line,
                           costs)
        parts = " / ".join(f"{priced[i].state.name} {_q(x)}"
                           for i, x in sorted(split.items(), key=lambda kv: (-kv[1], kv[0])))
        if best is not None:
            why = (f"{best.state.name}'s book alone costs "
                   f"{costs[best.index].total_bps - split_cost:.2f} bps more")
        else:
            why = f"no single venue may take {_q(quantity)}"
        outcome = RouteOutcome.SPLIT if len(split) > 1 else RouteOutcome.SINGLE
        verb = "split " if len(split) > 1 else ""
        return _finish(request, split, priced, outcome,
                       f"{verb}{parts}: {split_cost:.2f} bps all-in; {why}", costs, split_cost)


def _validate(request: RouteRequest, venues: Sequence[VenueState]) -> None:
    errors = []
    if not (math.isfinite(request.quantity) and request.quantity > 0):
        errors.append(FieldError("quantity", f"must be a finite number > 0, got "
                                             f"{request.quantity}"))
    if not (math.isfinite(request.reference_mid) and request.reference_mid > 0):
        errors.append(FieldError("reference_mid", f"must be a finite price > 0, got "
                                                  f"{request.reference_mid}"))
    if not (math.isfinite(request.sigma_per_sqrt_s) and request.sigma_per_sqrt_s >= 0):
        errors.append(FieldError("sigma_per_sqrt_s", f"must be finite and >= 0, got "
                                                     f"{request.sigma_per_sqrt_s}"))
    limit = request.limit_price
    if limit is not None and not (math.isfinite(limit) and limit > 0):
        errors.append(FieldError("limit_price", f"must be a finite price > 0, got {limit}"))
    if not venues:
        errors.append(FieldError("venues", "no venue offered"))
    names = [v.name for v in venues]
    if len(set(names)) != len(names):
        errors.append(FieldError("venues", f"venue names repeat: {names}"))
    if errors:
        raise ValidationError(errors)


def _runner_up(costs: tuple[VenueCost, ...], chosen: int) -> str:
    others = [(c.total_bps, i, c) for i, c in enumerate(costs)
              if i != chosen and c.eligible and math.isfinite(c.total_bps)]
    if not others:
        return ""
    _, _, cost = min(others, key=lambda t: (t[0], t[1]))
    return f"; next {cost.venue} {cost.total_bps:.2f} bps " \
           f"(+{cost.total_bps - costs[chosen].total_bps:.2f})"


def _nothing(costs: tuple[VenueCost, ...], outcome: RouteOutcome, reason: str) -> RoutingDecision:
    return RoutingDecision((), costs, math.nan, reason, outcome, 0.0)


def _finish(request: RouteRequest, allocation: dict[int, float], priced: list[PricedVenue],
            outcome: RouteOutcome, reason: str, costs: tuple[VenueCost, ...],
            cost: float | None = None) -> RoutingDecision:
    """Step rounding (unless done), the never-more-than-asked guard, the cost (unless given)
    and the unallocated note."""
    quantity = request.quantity
    rounded = allocation if cost is not None else round_to_steps(allocation, priced)
    total = math.fsum(rounded.values())
    if total > quantity:  # float dust only: the largest piece gives it back
        largest = min(rounded, key=lambda i: (-rounded[i], i))
        while total > quantity:
            rounded[largest] = math.nextafter(rounded[largest], 0.0)
            total = math.fsum(rounded.values())
        cost = None
    if cost is None:
        passive = None if request.marketable else {i: costs[i].total_bps for i in rounded}
        cost = allocation_cost(rounded, priced, passive)
    unallocated = quantity - total
    if unallocated > quantity * 1e-9:
        reason += f"; {_q(unallocated)} unallocated: no eligible venue's headroom allows more"
    else:
        unallocated = 0.0
    allocations = tuple((priced[i].state.name, rounded[i]) for i in sorted(rounded))
    return RoutingDecision(allocations, costs, cost, reason, outcome, unallocated)
