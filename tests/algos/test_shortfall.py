"""Implementation Shortfall: the Almgren-Chriss closed form, urgency and participation cap."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta
from decimal import Decimal

import pytest
from algo_fakes import BTC, T0, FakeMarket, execute, make_parent

from oms.algos.base import AlgoContext
from oms.algos.shortfall import ShortfallAlgo, ac_kappa, ac_trajectory, urgency_to_lambda
from oms.model.enums import AlgoName


def _planned(urgency: float, quantity: str = "2", slices: int = 10) -> ShortfallAlgo:
    parent = make_parent(quantity, algo=AlgoName.IS, duration=60, urgency=urgency)
    algo = ShortfallAlgo(parent, seed=1, filters=BTC, slices=slices)
    market = FakeMarket(price_fn=lambda t: 50_000 * (1 + 0.001 * math.sin(t.minute)))
    market.advance_to(T0)
    algo.on_start(AlgoContext(T0, parent, market.quote("BTCUSDT"), BTC, market))
    return algo


def test_trajectory_equals_the_closed_form() -> None:
    kappa, horizon, total = 0.05, 60.0, 2.0

    holdings = ac_trajectory(total, kappa, horizon, 12)

    for j, x in enumerate(holdings):
        t = horizon * j / 12
        closed_form = total * math.sinh(kappa * (horizon - t)) / math.sinh(kappa * horizon)
        assert x == pytest.approx(closed_form)
    assert holdings[0] == pytest.approx(total) and holdings[-1] == pytest.approx(0.0, abs=1e-12)


def test_zero_kappa_is_the_straight_line() -> None:
    assert ac_trajectory(10.0, 0.0, 5.0, 5) == pytest.approx([10, 8, 6, 4, 2, 0])


def test_paper_kappa_from_the_discrete_formula() -> None:
    kappa = ac_kappa(1e-6, 0.95, 2.5e-6, tau=1.0, gamma=2.5e-7)

    assert kappa == pytest.approx(math.acosh(1 + 0.38 / 2), rel=1e-9)


def test_slices_follow_the_trajectory_of_the_algos_kappa() -> None:
    algo = _planned(0.6)

    holdings = ac_trajectory(2.0, algo.kappa, 60.0, 10)
    expected = [a - b for a, b in itertools.pairwise(holdings)]
    actual = [float(s.quantity) for s in algo.slices]

    assert algo.kappa > 0
    assert sum(s.quantity for s in algo.slices) == Decimal(2)
    assert actual == pytest.approx(expected, abs=2e-5)


def test_urgency_front_loads_and_zero_urgency_is_twap() -> None:
    calm, keen = _planned(0.0), _planned(1.0)

    assert calm.kappa == 0.0
    sizes = [s.quantity for s in calm.slices]
    assert max(sizes) - min(sizes) <= 2 * BTC.step_size
    assert keen.slices[0].quantity > 2 * keen.slices[-1].quantity


def test_urgency_to_lambda_is_quadratic_and_per_notional() -> None:
    assert urgency_to_lambda(0.5, 100_000) == pytest.approx(50 * 0.25 / 100_000)
    assert urgency_to_lambda(1.0, 100_000) == pytest.approx(4 * urgency_to_lambda(0.5, 100_000))
    with pytest.raises(ValueError):
        urgency_to_lambda(1.5, 100)


@pytest.mark.parametrize(("urgency", "cap"), [(0.1, 0.03), (0.5, 0.15), (0.9, 0.2)])
def test_participation_cap_is_min_of_02_and_urgency_times_03(urgency: float, cap: float) -> None:
    parent = make_parent(algo=AlgoName.IS, urgency=urgency)

    algo = ShortfallAlgo(parent, seed=1, filters=BTC)

    assert algo.options.participation_cap == pytest.approx(cap)


def test_full_run_fills_exactly_under_the_cap() -> None:
    market = FakeMarket(volume_per_minute=50.0)

    result = execute(AlgoName.IS, "2", market=market, duration=60, urgency=0.8)

    assert result.parent.filled_quantity == Decimal(2)
    assert result.children[0].created_at == T0


def test_cap_binds_in_a_thin_market_and_reports_the_rest() -> None:
    market = FakeMarket(volume_per_minute=0.2)  # 12 BTC an hour, cap 0.15 -> ~1.8 BTC

    # the cap lets out a small child every tick: one-second ticks keep the run short
    result = execute(AlgoName.IS, "4", market=market, duration=60, urgency=0.5,
                     options={"placement": "aggressive"}, tick=timedelta(seconds=1))

    assert Decimal("1.5") < result.parent.filled_quantity < Decimal("2.2")
    assert result.end_reason.startswith("window ended")
