"""Slicing helpers: exact totals, rounding, merging, bounded and reproducible randomisation."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from algo_fakes import BTC, T0
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.algos.schedule import (
    build_schedule,
    default_slice_count,
    jittered_times,
    merge_small,
    randomised_weights,
    split_quantity,
)


def test_default_slice_count_follows_the_issue_formula() -> None:
    assert default_slice_count(1) == 1
    assert default_slice_count(10) == 5
    assert default_slice_count(30) == 15
    assert default_slice_count(240) == 20
    assert default_slice_count(10, min_slices=8) == 8
    assert default_slice_count(240, max_slices=12) == 12


@settings(max_examples=200, deadline=None)
@given(
    steps=st.integers(min_value=1, max_value=10**7),
    weights=st.lists(st.floats(min_value=0.01, max_value=5.0), min_size=1, max_size=25),
)
def test_split_sums_exactly_and_uses_step_multiples(steps: int, weights: list[float]) -> None:
    total = BTC.step_size * steps

    pieces = split_quantity(total, weights, BTC.step_size)

    assert sum(pieces) == total
    assert all(p >= 0 and p % BTC.step_size == 0 for p in pieces)


def test_merge_small_keeps_total_and_drops_untradable_pieces() -> None:
    # at 50,000 USD, 0.00005 BTC = 2.5 USD < 5 USD minimum notional
    pieces = [Decimal("0.00005"), Decimal("0.00005"), Decimal("0.001"), Decimal("0.00002")]

    merged = merge_small(pieces, Decimal(50_000), BTC)

    assert sum(q for _, q in merged) == sum(pieces)
    assert merged == [(0, Decimal("0.00010")), (2, Decimal("0.00102"))]


def test_randomised_weights_stay_in_bounds_sum_to_count_and_repeat_for_a_seed() -> None:
    first = randomised_weights(15, random.Random(3))
    again = randomised_weights(15, random.Random(3))
    other = randomised_weights(15, random.Random(4))

    assert first == again
    assert first != other
    assert abs(sum(first) - 15) < 1e-9
    assert all(0.8 <= w <= 1.2 for w in first)


def test_jittered_times_stay_inside_their_intervals() -> None:
    end = T0 + timedelta(minutes=30)

    times = jittered_times(T0, end, 10, random.Random(1))

    span = timedelta(minutes=3)
    for index, (due, interval_end) in enumerate(times):
        assert T0 + span * index <= due <= T0 + span * index + span / 2
        assert interval_end == T0 + span * (index + 1)
    assert times[0][0] == T0


def test_build_schedule_merges_tiny_slices_into_tradable_ones() -> None:
    total = Decimal("0.00030")  # 15 USD at 50,000: three 5-USD slices at most
    times = jittered_times(T0, T0 + timedelta(minutes=20), 10, random.Random(1))

    slices = build_schedule(total, [1.0] * 10, times, BTC, Decimal(50_000))

    assert sum(s.quantity for s in slices) == total
    assert all(s.quantity * 50_000 >= 5 for s in slices)
    assert len(slices) <= 3
    assert slices[-1].deadline == T0 + timedelta(minutes=20)
