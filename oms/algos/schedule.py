"""Slicing helpers shared by the scheduled algorithms: split, round, merge, jitter.

A schedule is a list of ``Slice``: a quantity due at a time, to be done by a deadline. Quantities
are Decimal, rounded DOWN to the venue's step size on cumulative targets (so every rounding
remainder is carried into the next slice and the total is exactly the parent quantity), and slices
below the venue's minimum notional or minimum quantity are merged into a neighbour, never sent to
be rejected.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from oms.model.filters import round_to_step
from oms.venues.filters import SymbolFilters

__all__ = [
    "Slice",
    "build_schedule",
    "default_slice_count",
    "is_tradable",
    "jittered_times",
    "merge_small",
    "randomised_weights",
    "split_quantity",
]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Slice:
    """One scheduled piece of a parent: ``quantity`` due at ``due``, to be done by ``deadline``."""

    index: int
    due: datetime
    deadline: datetime
    quantity: Decimal


def default_slice_count(
    duration_minutes: float, *, min_slices: int = 1, max_slices: int = 20
) -> int:
    """The issue's default: max(1, min(20, duration_minutes // 2)), clamped to [min, max]."""
    count = max(1, min(20, int(duration_minutes // 2)))
    return max(min_slices, min(max_slices, count))


def is_tradable(quantity: Decimal, price: Decimal, filters: SymbolFilters) -> bool:
    """True when ``quantity`` at ``price`` passes the lot-size and minimum-notional filters."""
    return (
        quantity >= filters.min_qty
        and quantity >= filters.step_size
        and quantity * price >= filters.min_notional
    )


def split_quantity(total: Decimal, weights: Sequence[float], step: Decimal) -> list[Decimal]:
    """Split ``total`` by ``weights`` into step multiples that sum exactly to ``total``.

    Rounding is done on cumulative targets (carrying each remainder forward); the last piece takes
    whatever is left, so if ``total`` is itself a step multiple every piece is one.
    """
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        raise ValueError("weights must have a positive sum")
    pieces: list[Decimal] = []
    cumulative_weight = 0.0
    done = ZERO
    for weight in weights[:-1]:
        cumulative_weight += weight
        share = Decimal(repr(cumulative_weight / weight_sum))
        target = min(round_to_step(total * share, step), total)
        pieces.append(max(target - done, ZERO))
        done = max(done, target)
    pieces.append(total - done)
    return pieces


def merge_small(
    quantities: Sequence[Decimal], price: Decimal, filters: SymbolFilters
) -> list[tuple[int, Decimal]]:
    """Merge untradable pieces forward (the last one backward); returns (origin index, quantity).

    The total is kept; a piece is kept where it was first due, so merging never delays quantity
    that was due earlier.
    """
    merged: list[tuple[int, Decimal]] = []
    carry = ZERO
    carry_index: int | None = None
    for index, quantity in enumerate(quantities):
        if carry_index is None:
            carry_index = index
        carry += quantity
        if carry > 0 and is_tradable(carry, price, filters):
            merged.append((carry_index, carry))
            carry, carry_index = ZERO, None
    if carry > 0:
        if merged:
            last_index, last_quantity = merged[-1]
            merged[-1] = (last_index, last_quantity + carry)
        else:  # the whole total is below the minimum: one piece, the venue will say no
            merged.append((carry_index if carry_index is not None else 0, carry))
    return merged


def randomised_weights(count: int, rng: random.Random, spread: float = 0.2) -> list[float]:
    """Weights around 1 within [1 - spread, 1 + spread] that sum exactly to ``count``.

    Pairs of slices share one draw with opposite signs (then the order is shuffled), so each stays
    inside its bounds and the total is unchanged.
    """
    weights = [1.0] * count
    order = list(range(count))
    rng.shuffle(order)
    for a, b in zip(order[0::2], order[1::2], strict=False):
        delta = rng.uniform(-spread, spread)
        weights[a] += delta
        weights[b] -= delta
    return weights


def jittered_times(
    start: datetime, end: datetime, count: int, rng: random.Random, jitter: float = 0.5
) -> list[tuple[datetime, datetime]]:
    """Equal intervals over [start, end); each slice due at a random point of the first ``jitter``
    share of its interval. Returns (due, interval end) pairs; the first slice is due at ``start``.
    """
    span = (end - start) / count
    times: list[tuple[datetime, datetime]] = []
    for index in range(count):
        interval_start = start + span * index
        offset = timedelta(0) if index == 0 else span * rng.uniform(0.0, jitter)
        times.append((interval_start + offset, interval_start + span))
    return times


def build_schedule(
    total: Decimal,
    weights: Sequence[float],
    times: Sequence[tuple[datetime, datetime]],
    filters: SymbolFilters,
    price: Decimal,
) -> list[Slice]:
    """Turn weights and (due, deadline) times into tradable slices summing exactly to ``total``."""
    if len(weights) != len(times):
        raise ValueError("weights and times must have the same length")
    pieces = split_quantity(total, weights, filters.step_size)
    merged = merge_small(pieces, price, filters)
    slices: list[Slice] = []
    for position, (origin, quantity) in enumerate(merged):
        # the slice is due when its first piece was due and must be done by its last piece's end
        next_origin = merged[position + 1][0] if position + 1 < len(merged) else len(times)
        deadline = times[next_origin - 1][1]
        slices.append(Slice(position, times[origin][0], deadline, quantity))
    return slices
