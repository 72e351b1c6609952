"""The basis of a shaped paper venue: a deterministic, mean-reverting (Ornstein-Uhlenbeck) process
whose value at t depends on nothing but (seed, venue, symbol, t)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from oms.venues.venue_shape import VenueShape

T0 = 1_714_572_000.0  # 2024-05-01 14:00 UTC
DAY = 86_400


def shape(**kwargs: float) -> VenueShape:
    options: dict[str, float] = {"basis_sd_bps": 2.0, "basis_half_life_s": 30.0}
    options.update(kwargs)
    return VenueShape("okx", seed=11, **options)  # type: ignore[arg-type]


def series(s: VenueShape, start: float, seconds: int, step: float = 1.0) -> np.ndarray:
    return np.array([s.basis("BTCUSDT", start + k * step) for k in range(int(seconds / step))])


def test_the_same_seed_venue_and_symbol_give_the_same_basis() -> None:
    a, b = shape(), shape()

    values_a = series(a, T0, 600, 0.37)
    values_b = series(b, T0, 600, 0.37)

    assert np.array_equal(values_a, values_b)
    assert np.std(values_a) > 0  # not trivially equal
    other_venue = VenueShape("bybit", seed=11, basis_sd_bps=2.0, basis_half_life_s=30.0)
    other_seed = VenueShape("okx", seed=12, basis_sd_bps=2.0, basis_half_life_s=30.0)
    assert not np.array_equal(values_a, series(other_venue, T0, 600, 0.37))
    assert not np.array_equal(values_a, series(other_seed, T0, 600, 0.37))
    assert a.basis("BTCUSDT", T0 + 5) != a.basis("ETHUSDT", T0 + 5)


def test_the_value_at_t_does_not_depend_on_the_order_of_the_calls() -> None:
    # Arrange: times spread over many blocks (a block is 20 half-lives = 600 s here)
    rng = random.Random(4)
    times = [T0 + rng.uniform(0, 6 * 3600) for _ in range(2000)]
    in_order = shape()
    expected = {t: in_order.basis("SOLUSDT", t) for t in sorted(times)}

    # Act: a fresh shape asked backwards, then shuffled, with other symbols in between
    backwards = shape()
    got_backwards = {t: backwards.basis("SOLUSDT", t) for t in sorted(times, reverse=True)}
    shuffled = shape()
    rng.shuffle(times)
    got_shuffled = {}
    for t in times:
        shuffled.basis("BTCUSDT", t + 1000)
        got_shuffled[t] = shuffled.basis("SOLUSDT", t)

    # Assert
    assert got_backwards == expected
    assert got_shuffled == expected


def test_the_basis_is_continuous_across_grid_points_and_blocks() -> None:
    s = shape()
    block_s = s.block_steps * s.grid_s
    boundary = (math.floor(T0 / block_s) + 1) * block_s

    before, after = s.basis("BTCUSDT", boundary - 1e-6), s.basis("BTCUSDT", boundary + 1e-6)
    mid_grid = s.basis("BTCUSDT", T0 + 0.5)
    left, right = s.basis("BTCUSDT", T0), s.basis("BTCUSDT", T0 + 1.0)

    sd = 2.0e-4
    assert abs(after - before) < 1e-3 * sd
    assert min(left, right) - 1e-15 <= mid_grid <= max(left, right) + 1e-15


def test_the_basis_reverts_to_zero_with_its_standard_deviation() -> None:
    # Arrange: two days on the 1 s grid; a 30 s half-life gives ~2,000 independent stretches
    s = shape(basis_sd_bps=2.0, basis_half_life_s=30.0)

    values = series(s, T0, 2 * DAY) * 1e4  # in bps

    # Assert: mean near 0 and SD near 2 bp (a few standard errors of the estimate)
    assert abs(values.mean()) < 0.25
    assert values.std() == pytest.approx(2.0, rel=0.06)


def test_the_autocorrelation_halves_over_one_half_life() -> None:
    s = shape(basis_sd_bps=2.0, basis_half_life_s=30.0)
    values = series(s, T0, 2 * DAY)

    def autocorrelation(lag: int) -> float:
        return float(np.corrcoef(values[:-lag], values[lag:])[0, 1])

    assert autocorrelation(30) == pytest.approx(0.5, abs=0.06)
    assert autocorrelation(60) == pytest.approx(0.25, abs=0.06)
    assert autocorrelation(5) == pytest.approx(0.5 ** (5 / 30), abs=0.03)
    assert abs(autocorrelation(600)) < 0.1  # 20 half-lives: forgotten


def test_a_long_half_life_is_honoured_too() -> None:
    s = VenueShape("okx", seed=3, basis_sd_bps=1.0, basis_half_life_s=600.0)
    values = series(s, T0, 4 * DAY, 10.0)  # every 10 s

    lagged = float(np.corrcoef(values[:-60], values[60:])[0, 1])  # 600 s

    assert lagged == pytest.approx(0.5, abs=0.1)
    assert values.std() * 1e4 == pytest.approx(1.0, rel=0.2)


def test_no_basis_is_exactly_zero_and_the_factor_one() -> None:
    s = VenueShape("binance", seed=1, basis_sd_bps=0.0)

    assert s.basis("BTCUSDT", T0 + 123.4) == 0.0
    assert s.factor("BTCUSDT", T0 + 123.4) == 1.0


@pytest.mark.parametrize(("field", "value"), [("depth_scale", 0.0), ("basis_sd_bps", -1.0),
                                              ("basis_half_life_s", 0.0)])
def test_bad_shape_figures_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        VenueShape("okx", seed=1, **{field: value})  # type: ignore[arg-type]
