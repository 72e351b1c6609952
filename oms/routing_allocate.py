"""After the water-fill: quantity beyond the books, min-notional merges, step rounding, and the
all-in cost of an allocation (the rules are listed in oms.routing's docstring).

An allocation is ``{venue index: quantity}``; every function returns a new one.
"""

from __future__ import annotations

import math

from oms.routing_costs import PricedVenue

__all__ = ["allocation_cost", "merge_small", "place_beyond_depth", "round_to_steps"]


def _largest(allocation: dict[int, float], exclude: int = -1) -> int | None:
    """Index of the largest allocation (ties: the venue listed first)."""
    largest: int | None = None
    for i, quantity in allocation.items():
        if i != exclude and (largest is None or quantity > allocation[largest]
                             or (quantity == allocation[largest] and i < largest)):
            largest = i
    return largest


def place_beyond_depth(quantity: float, allocation: dict[int, float],
                       eligible: list[PricedVenue], max_venues: int) -> dict[int, float]:
    """What no book shows goes to the best all-in touch with headroom left (then the next)."""
    result = dict(allocation)
    remaining = quantity - math.fsum(result.values())
    if remaining <= quantity * 1e-12:
        return result

    def touch_bps(venue: PricedVenue) -> tuple[float, int]:
        price = venue.price_bps(venue.touch, 1.0)
        return price + venue.fee_bps + venue.latency_bps, venue.index

    for venue in sorted(eligible, key=touch_bps):
        if len(result) >= max_venues and venue.index not in result:
            continue
        room = venue.capacity - result.get(venue.index, 0.0)
        if room <= 0:
            continue
        take = min(remaining, room)
        result[venue.index] = result.get(venue.index, 0.0) + take
        remaining -= take
        if remaining <= quantity * 1e-12:
            break
    return result


def merge_small(allocation: dict[int, float], priced: list[PricedVenue],
                mid: float) -> dict[int, float]:
    """A piece below its venue's min notional joins the largest other piece that has headroom
    for it (smallest piece first); a piece nobody can absorb stays (the venue decides)."""
    result = dict(allocation)
    kept: set[int] = set()
    while True:
        small = [i for i, x in result.items()
                 if i not in kept and x * mid < priced[i].state.min_notional]
        if not small:
            return result
        piece = min(small, key=lambda i: (result[i], i))
        candidates = {i: x for i, x in result.items()
                      if i != piece and priced[i].capacity - x >= result[piece]}
        target = _largest(candidates)
        if target is None:
            kept.add(piece)
            continue
        result[target] += result.pop(piece)


def _floor_to_step(quantity: float, step: float) -> float:
    if step <= 0:
        return quantity
    steps = math.floor(quantity / step + 1e-9)  # 0.3 / 0.1 is 2.9999999999999996
    return min(steps * step, quantity)


def round_to_steps(allocation: dict[int, float], priced: list[PricedVenue]) -> dict[int, float]:
    """Each piece rounded down to its venue's step; the remainder joins the largest piece
    (within its headroom), so the total is unchanged. Pieces of nothing are dropped."""
    largest = _largest(allocation)
    if largest is None:
        return {}
    result: dict[int, float] = {}
    for i, quantity in allocation.items():
        if i != largest:
            rounded = _floor_to_step(quantity, priced[i].state.step_size)
            if rounded > 0:
                result[i] = rounded
    if not result and len(allocation) == 1:
        return dict(allocation)  # one piece: nothing to round (the engine rounds it)
    rest = math.fsum(allocation.values()) - math.fsum(result.values())
    rest = min(rest, priced[largest].capacity)
    if rest > 0:
        result[largest] = rest
    return result


def allocation_cost(allocation: dict[int, float], priced: list[PricedVenue],
                    passive_bps: dict[int, float] | None = None) -> float:
    """Quantity-weighted all-in bps (walks, fees, latency; the passive figure when given);
    nan for an empty allocation."""
    total = weighted = 0.0
    for i, quantity in allocation.items():
        bps = passive_bps[i] if passive_bps is not None else priced[i].cost_bps(quantity)
        total += quantity
        weighted += quantity * bps
    return weighted / total if total > 0 else math.nan
