"""The water-fill behind a split: ``chunks`` equal pieces, each to the venue whose NEXT piece is
cheapest all-in given what that venue already took (its walk goes on where it stopped).

All-in costs are convex in quantity (a book walk's marginal price only rises; fees and latency
risk are linear), so this greedy is the cheapest allocation in whole pieces, and when the last
unit the cheapest single venue would walk costs no more than the first unit anywhere else, no
split can beat that venue (``single_is_optimal``, which lets the router skip the fill).
This is the router's hot path (at most 50 us per decision): plain lists and inlined arithmetic,
one bisection per piece.
"""

from __future__ import annotations

import math
from bisect import bisect_left

from oms.routing_costs import PricedVenue

__all__ = ["single_is_optimal", "water_fill"]


def water_fill(quantity: float, eligible: list[PricedVenue], *, chunks: int,
               max_venues: int) -> dict[int, float]:
    """``{venue index: quantity}`` within each venue's visible depth and headroom, on at most
    ``max_venues`` venues; less than ``quantity`` when the books hold less. A venue's last piece
    may be smaller (what its book or headroom still holds); ties go to the venue listed first."""
    inf = math.inf
    chunk = quantity / chunks
    dust = quantity * 1e-12
    count = len(eligible)
    room = [min(v.depth, v.capacity) for v in eligible]
    # all-in bps of a piece = scale * average price + offset (price vs mid, fee, latency risk)
    scale = [v.sign * 1e4 / v.mid for v in eligible]
    offset = [v.fee_bps + v.latency_bps - v.sign * 1e4 for v in eligible]
    filled = [v.filled for v in eligible]
    spent_at = [v.spent for v in eligible]
    prices = [v.prices for v in eligible]
    taken = [0.0] * count
    spent = [0.0] * count  # quote currency each venue's walk has spent so far
    size = [0.0] * count  # each venue's next piece: its size, the spend after it, its bps
    spent_after = [0.0] * count
    bps = [inf] * count
    allowed = list(range(count))  # the venues that may still take a piece
    active: list[int] = []
    remaining = quantity
    to_price: list[int] = allowed
    while True:
        for j in to_price:
            piece = room[j] - taken[j]
            if piece > chunk:
                piece = chunk
            if piece > remaining:
                piece = remaining
            if piece <= dust:
                bps[j] = inf
                continue
            end = taken[j] + piece  # within the visible depth: room <= depth
            levels = filled[j]
            level = bisect_left(levels, end, 1)
            level = level if level < len(levels) else len(levels) - 1  # end == depth, in float
            after = spent_at[j][level - 1] + (end - levels[level - 1]) * prices[j][level - 1]
            spent_after[j] = after
            size[j] = piece
            bps[j] = scale[j] * (after - spent[j]) / piece + offset[j]
        best = -1
        cheapest = inf
        for j in allowed:  # ties: the venue listed first
            if bps[j] < cheapest:
                best, cheapest = j, bps[j]
        if best < 0 or remaining <= dust:
            break  # done, or the books (and headroom) hold no more
        taken[best] += size[best]
        remaining -= size[best]
        spent[best] = spent_after[best]
        if best not in active:
            active.append(best)
            if len(active) == max_venues:
                allowed = active
        # the last piece is smaller than a chunk: price it again everywhere still allowed
        to_price = allowed if remaining < chunk else [best]
    return {eligible[j].index: taken[j] for j in range(count) if taken[j] > 0}


def single_is_optimal(best: PricedVenue, eligible: list[PricedVenue], quantity: float) -> bool:
    """True when the last unit ``best`` would walk costs no more all-in than the first unit
    anywhere else, so no split can be cheaper than ``best`` alone."""
    last_bps = best.price_bps(best.marginal_price(quantity), 1.0) + best.fee_bps \
        + best.latency_bps
    for venue in eligible:
        first = venue.prices[0] if venue.prices else venue.beyond_price
        if venue is not best and venue.price_bps(first, 1.0) + venue.fee_bps \
                + venue.latency_bps < last_bps:
            return False
    return True
