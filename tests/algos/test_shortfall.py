"""Implementation Shortfall: coefficients calibrated on the venue's impact law, the closed form,
urgency and the participation cap."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from algo_fakes import BTC, T0, FakeMarket, execute, make_parent

from oms.algos.base import AlgoContext
from oms.algos.shortfall import (
    KAPPA_T_PER_URGENCY,
    ShortfallAlgo,
    ac_kappa,
    ac_trajectory,
    calibrate,
    measured_sigma,
    urgency_to_lambda,
)
from oms.market.calibration import CALIBRATION
from oms.market.impact import ImpactModel, ImpactParams
from oms.model.enums import AlgoName

BTC_SIGMA = CALIBRATION["BTCUSDT"]["sigma_1m"]
BTC_VOLUME = CALIBRATION["BTCUSDT"]["volume_per_minute"]


def _zigzag(sigma: float) -> FakeMarket:
    """A market whose 1-minute log returns alternate +-sigma (its measured volatility)."""
    def price(t: datetime) -> float:
        return 50_000.0 * math.exp(sigma / 2 if t.minute % 2 else -sigma / 2)
    return FakeMarket(price_fn=price, volume_per_minute=BTC_VOLUME)


def _planned(urgency: float, quantity: str = "2", slices: int = 10,
             market: FakeMarket | None = None) -> ShortfallAlgo:
    parent = make_parent(quantity, algo=AlgoName.IS, duration=60, urgency=urgency)
    algo = ShortfallAlgo(parent, seed=1, filters=BTC, slices=slices)
    market = market or FakeMarket(price_fn=lambda t: 50_000 * (1 + 0.001 * math.sin(t.minute)))
    market.advance_to(T0)
    algo.volume_per_minute = market.volume_per_minute
    algo.on_start(AlgoContext(T0, parent, market.quote("BTCUSDT"), BTC, market))
    return algo


def _venue_cost(quantity: float, minutes: float, step_s: float = 1.0) -> tuple[float, float]:
    """(temporary, permanent) cost shares paid trading at a constant rate on the real law,
    stepped trade by trade: each trade pays the log-mid shift it meets (units x shift)."""
    model = ImpactModel(ImpactParams(), BTC_SIGMA, BTC_VOLUME)
    steps = round(minutes * 60 / step_s)
    clip = quantity / steps
    temporary = permanent = 0.0
    for k in range(steps):
        t = (k + 0.5) * step_s
        permanent += clip * model.permanent
        temporary += clip * (model.offset(t) - model.permanent)
        model.record(clip, t)
    return temporary, permanent


@pytest.mark.parametrize("quantity", [5.0, 190.0])  # a small parent; ~10% of the volume
def test_coefficients_give_the_venue_laws_cost_at_the_parents_size(quantity: float) -> None:
    price = 60_000.0
    temporary, permanent = _venue_cost(quantity, 60.0)

    ac = calibrate(quantity, 60.0, price=price, sigma_1m=BTC_SIGMA, volume_per_minute=BTC_VOLUME)

    assert ac.eta * quantity**2 / 60.0 == pytest.approx(price * temporary, rel=0.03)
    assert ac.gamma * quantity**2 / 2 == pytest.approx(price * permanent, rel=0.03)
    assert ac.expected_cost(quantity, 60.0) == pytest.approx(price * (temporary + permanent),
                                                             rel=0.03)
    assert ac.sigma == pytest.approx(BTC_SIGMA * price)


def test_btc_temporary_cost_is_the_laws_not_the_old_one_percent_at_full_rate() -> None:
    # 10% of the volume for an hour: the old eta charged 1% of the price per unit of the
    # minute's volume (10 bps a unit here); the law's temporary part never exceeds half the
    # impact of the steady-state flow (rate x decay time): 0.5 * Y * sigma * sqrt(v theta / V)
    rate = 190.0 / 60.0
    ac = calibrate(190.0, 60.0, price=60_000.0, sigma_1m=BTC_SIGMA, volume_per_minute=BTC_VOLUME)
    per_unit_bps = ac.eta * rate / 60_000.0 * 1e4
    steady = 0.5 * 0.7 * BTC_SIGMA * math.sqrt(rate * 10.0 / BTC_VOLUME) * 1e4

    assert 0.5 * steady < per_unit_bps < steady < 0.01 * rate / BTC_VOLUME * 1e4 / 3


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


def test_algo_kappa_is_the_discrete_formula_of_its_coefficients() -> None:
    algo = _planned(0.6)
    ac = algo.coefficients

    assert ac is not None
    assert algo.kappa == pytest.approx(
        ac_kappa(algo.risk_aversion, ac.sigma, ac.eta, tau=6.0, gamma=ac.gamma), rel=1e-12)


def test_urgency_front_loads_and_zero_urgency_is_twap() -> None:
    calm, keen = _planned(0.0), _planned(1.0)

    assert calm.kappa == 0.0
    sizes = [s.quantity for s in calm.slices]
    assert max(sizes) - min(sizes) <= 2 * BTC.step_size
    assert keen.slices[0].quantity > 2 * keen.slices[-1].quantity


def test_higher_urgency_front_loads_more() -> None:
    firsts = [_planned(u).slices[0].quantity for u in (0.2, 0.4, 0.6, 0.8, 1.0)]

    assert all(a < b for a, b in itertools.pairwise(firsts))


@pytest.mark.parametrize("urgency", [0.25, 0.5, 1.0])
def test_at_the_calibrated_volatility_kappa_t_is_four_times_urgency(urgency: float) -> None:
    algo = _planned(urgency, market=_zigzag(BTC_SIGMA))

    assert algo.kappa * 60.0 == pytest.approx(KAPPA_T_PER_URGENCY * urgency, rel=0.02)


def test_a_more_volatile_market_front_loads_more_as_almgren_chriss_says() -> None:
    calm = _planned(0.5, market=_zigzag(BTC_SIGMA))
    wild = _planned(0.5, market=_zigzag(4 * BTC_SIGMA))

    # eta grows like sigma, so kappa ~ sqrt(sigma^2 / eta) ~ sqrt(sigma): 4x sigma -> 2x kappa
    assert wild.kappa == pytest.approx(2 * calm.kappa, rel=0.03)


def test_volatility_falls_back_to_the_calibrated_sigma_without_bars() -> None:
    assert measured_sigma([50_000.0, 50_010.0] * 10) is None  # too few returns
    market = FakeMarket(price_fn=lambda t: 50_000.0)  # flat bars measure nothing
    algo = _planned(0.5, market=market)

    assert algo.coefficients is not None
    assert algo.coefficients.sigma == pytest.approx(BTC_SIGMA * float(algo._price(
        AlgoContext(T0, algo.parent, market.quote("BTCUSDT"), BTC, market))), rel=1e-6)
    assert algo.kappa * 60 == pytest.approx(KAPPA_T_PER_URGENCY * 0.5, rel=0.02)


def test_urgency_to_lambda_sets_kappa_t_at_the_reference() -> None:
    eta, sigma = 5.0, 50.0

    risk_aversion = urgency_to_lambda(0.5, 60.0, eta, sigma)

    assert math.sqrt(risk_aversion * sigma**2 / eta) * 60 == pytest.approx(2.0)
    assert urgency_to_lambda(1.0, 60.0, eta, sigma) == pytest.approx(4 * risk_aversion)
    with pytest.raises(ValueError):
        urgency_to_lambda(1.5, 60.0, eta, sigma)


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
