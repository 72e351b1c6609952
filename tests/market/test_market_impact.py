"""Impact of our own flow: square-root law across sizes, linear model, decay, zero when idle;
permanent impact independent of slicing; passive fills move the price less than takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from oms.config import PaperVenueSettings
from oms.market.calibration import PASSIVE_IMPACT_RATIO
from oms.market.impact import ImpactModel, ImpactParams
from oms.market.synthetic import SyntheticMarket
from oms.model.enums import Liquidity, OrderType, Side
from oms.model.orders import ChildOrder, Fill
from oms.risk.halt import HaltGate
from oms.venues.events import OrderFilled
from oms.venues.paper import PaperVenue

START = datetime(2024, 5, 1, 14, tzinfo=UTC)


def _peak_after_metaorder(model: ImpactModel, quantity: float, slices: int = 50) -> float:
    for k in range(slices):
        model.record(quantity / slices, 1000.0 + k)
    return model.offset(1000.0 + slices - 1)


@pytest.mark.parametrize(("kind", "ratio"), [("sqrt", 2.0), ("linear", 4.0)])
def test_peak_impact_follows_the_chosen_law(kind: str, ratio: float) -> None:
    params = ImpactParams(kind=kind, coefficient=0.7)  # type: ignore[arg-type]
    small = _peak_after_metaorder(ImpactModel(params, 0.0008, 30.0), 5.0)
    large = _peak_after_metaorder(ImpactModel(params, 0.0008, 30.0), 20.0)

    assert large / small == pytest.approx(ratio, rel=0.05)
    if kind == "sqrt":  # Y * sigma * sqrt(Q / V), less a little decay during the 50 s
        assert small == pytest.approx(0.7 * 0.0008 * np.sqrt(5.0 / 30.0), rel=0.05)


def test_temporary_part_decays_permanent_part_stays() -> None:
    model = ImpactModel(ImpactParams(permanent_fraction=0.4, decay_s=60.0), 0.001, 10.0)

    peak = _peak_after_metaorder(model, 10.0, slices=10)
    later = model.offset(1000.0 + 20 * 60.0)

    assert later < peak
    assert later == pytest.approx(model.permanent, rel=1e-3)
    assert model.permanent == pytest.approx(0.4 * peak, rel=0.1)


def test_no_trades_no_impact_and_zero_mean_moves() -> None:
    model = ImpactModel(ImpactParams(), 0.001, 10.0)
    assert [model.offset(t) for t in (0.0, 1e3, 1e6)] == [0.0, 0.0, 0.0]
    market = SyntheticMarket(["BTCUSDT"], START, seed=21, history=None)  # reads all 3 days
    market.advance_to(START + timedelta(days=3))
    closes = np.array([b.close for b in market.bars("BTCUSDT", START, START + timedelta(days=3))])

    moves = np.diff(np.log(closes[::10]))  # 10-minute returns with nobody trading

    standard_error = moves.std() / np.sqrt(moves.size)
    assert abs(moves.mean()) < 3 * standard_error
    assert market.quote("BTCUSDT").bid <= Decimal(repr(market.path_mid("BTCUSDT", quoted=True)))


def _sliced_buy_cost_bps(total: Decimal, model: str = "sqrt") -> float:
    market = SyntheticMarket(["BTCUSDT"], START, seed=8)
    venue = PaperVenue(HaltGate(), market, PaperVenueSettings(
        latency_ms=0, latency_jitter_ms=0, impact_model=model), seed=8,  # type: ignore[arg-type]
        balances={"USDT": Decimal(10**8)})  # spot: a 32 BTC buy needs the cash
    fills: list[Fill] = []
    now = START
    for k in range(100):
        now += timedelta(seconds=1)
        market.advance_to(now)
        venue.submit(ChildOrder(f"c{k}", "p", "BTCUSDT", Side.BUY, total / 100,
                                OrderType.MARKET, now, "paper"), now)
        fills += [e.fill for e in venue.poll(now) if isinstance(e, OrderFilled)]
    costs = [(float(f.price) / market.path_mid("BTCUSDT", f.ts, quoted=True) - 1) * 1e4
             * float(f.quantity) for f in fills]
    return sum(costs) / float(sum(f.quantity for f in fills))


def test_execution_cost_grows_like_the_square_root_of_size() -> None:
    costs = [_sliced_buy_cost_bps(Decimal(q)) for q in ("2", "8", "32")]

    assert costs[0] > 0
    assert costs[1] / costs[0] == pytest.approx(2.0, rel=0.2)
    assert costs[2] / costs[1] == pytest.approx(2.0, rel=0.2)


def test_linear_model_cost_grows_in_proportion_to_size() -> None:
    costs = [_sliced_buy_cost_bps(Decimal(q), model="linear") for q in ("4", "16")]

    assert costs[1] / costs[0] == pytest.approx(4.0, rel=0.2)


def test_permanent_impact_follows_the_metaorder_total_not_its_slicing() -> None:
    params = ImpactParams(permanent_fraction=0.5, decay_s=600.0)
    at_once = ImpactModel(params, 0.0008, 30.0)
    sliced = ImpactModel(params, 0.0008, 30.0)

    at_once.record(5.0, 1000.0)
    for k in range(60):
        sliced.record(5.0 / 60, 1000.0 + 10.0 * k)

    assert sliced.permanent == pytest.approx(at_once.permanent, rel=1e-9)
    assert at_once.permanent == pytest.approx(0.5 * 0.7 * 0.0008 * np.sqrt(5.0 / 30.0))
    # hours later only the permanent part is left, the same for both
    assert sliced.offset(1e5) == pytest.approx(at_once.offset(1e5), rel=1e-6)


def _venue_buys(slices: int) -> SyntheticMarket:
    market = SyntheticMarket(["BTCUSDT"], START, seed=8)
    venue = PaperVenue(HaltGate(), market, PaperVenueSettings(latency_ms=0, latency_jitter_ms=0),
                       seed=8, balances={"USDT": Decimal(10**7)})
    now = START
    size = (Decimal(5) / slices).quantize(Decimal("0.00001"))
    for k in range(slices):  # the last slice takes the rounding: 5 BTC in all
        now += timedelta(seconds=60 // slices)
        market.advance_to(now)
        quantity = size if k < slices - 1 else Decimal(5) - size * (slices - 1)
        venue.submit(ChildOrder(f"c{k}", "p", "BTCUSDT", Side.BUY, quantity,
                                OrderType.MARKET, now, "paper"), now)
        venue.poll(now)
    market.advance_to(now + timedelta(hours=3))  # the temporary part has decayed
    return market


def test_the_venue_gives_5_btc_the_same_permanent_impact_at_once_or_in_60_slices() -> None:
    once, sliced = _venue_buys(1), _venue_buys(60)

    permanent_once = once.impact_model("BTCUSDT").permanent
    permanent_sliced = sliced.impact_model("BTCUSDT").permanent

    assert once.impact_model("BTCUSDT").net == pytest.approx(5.0)
    assert sliced.impact_model("BTCUSDT").net == pytest.approx(5.0)
    assert permanent_once > 0
    assert permanent_sliced == pytest.approx(permanent_once, rel=0.03)  # was 1.16 vs 1.74 bps


def test_a_passive_fill_moves_the_price_less_than_a_take() -> None:
    model = ImpactModel(ImpactParams(), 0.0008, 30.0)
    taker = ImpactModel(ImpactParams(), 0.0008, 30.0)

    model.record(2.0, 1000.0, passive=True)
    taker.record(2.0, 1000.0)

    assert 0 < model.permanent < taker.permanent
    assert model.net == pytest.approx(PASSIVE_IMPACT_RATIO * 2.0)
    assert 0.05 <= PASSIVE_IMPACT_RATIO < 1.0


@pytest.mark.parametrize("setting", [None, 0.1])
def test_the_venue_feeds_passive_fills_to_the_impact_model(setting: float | None) -> None:
    market = SyntheticMarket(["BTCUSDT"], START, seed=8)
    settings = PaperVenueSettings(latency_ms=0, latency_jitter_ms=0,
                                  impact_passive_ratio=setting)
    venue = PaperVenue(HaltGate(), market, settings, seed=8, balances={"USDT": Decimal(10**7)})
    now = START
    filled = Decimal(0)
    for k in range(20):  # rest a small buy at the bid until something fills passively
        market.advance_to(now)
        bid = market.quote("BTCUSDT").bid
        venue.submit(ChildOrder(f"r{k}", "p", "BTCUSDT", Side.BUY, Decimal("0.01"),
                                OrderType.LIMIT, now, "paper", limit_price=bid), now)
        for _ in range(60):
            now += timedelta(seconds=1)
            market.advance_to(now)
            filled += sum((e.fill.quantity for e in venue.poll(now)
                           if isinstance(e, OrderFilled) and e.fill.liquidity is Liquidity.MAKER),
                          Decimal(0))
        if filled:
            break
        venue.cancel(f"r{k}", now)

    assert filled > 0
    ratio = PASSIVE_IMPACT_RATIO if setting is None else setting  # OMS_PAPER__IMPACT_PASSIVE_RATIO
    assert market.impact_model("BTCUSDT").net == pytest.approx(ratio * float(filled))
