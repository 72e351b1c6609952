"""Own impact is impact: the mid our flow moved leaves timing, by hand and on a 10% POV backtest."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
from tca_builders import T0, D, make_fill, session_of, worked_parent

from oms.backtest import BacktestSpec, run_backtest
from oms.market.base import MarketData
from oms.market.calibration import CALIBRATION
from oms.market.impact import ImpactParams
from oms.model.enums import Liquidity, Side
from oms.model.orders import Fill
from oms.tca import build_execution_report
from oms.tca.own_impact import estimate_own_impact, model_unimpacted_mids

BTC_FILE = "klines_1m/BTCUSDT-1m-2024-01-01_2024-06-25.csv.gz"
SIGMA, VOLUME = 0.0008, 30.0


def test_split_moves_our_mid_impact_from_timing_to_impact_by_hand() -> None:
    # Arrange: the worked example, whose fills 1-2 would have seen 100.15 and fill 3 100.20
    # without our flow (arrival 100.10)
    parent = replace(worked_parent(), unimpacted_mids=(D("100.15"), D("100.15"), D("100.20")),
                     impact_source="model")
    # Act
    report = build_execution_report(session_of(parent), T0)
    # Assert (USD, decision notional 100 USD = 1 bps per 0.01 USD):
    # U = 0.3*100.15 + 0.3*100.15 + 0.2*100.20 = 80.13; timing = U - F A = 80.13 - 80.08 = 0.05
    # own mid impact = M - U = 80.19 - 80.13 = 0.06; impact = (N - U) - spread = 0.08 - 0.01
    costs = report["parents"][0]["costs_usd"]
    assert costs["timing"] == pytest.approx(0.05)
    assert costs["market_impact"] == pytest.approx(0.07)
    assert costs["own_mid_impact"] == pytest.approx(0.06)
    assert costs["total"] == pytest.approx(0.37)  # the split changes no total
    tca = report["tca"]
    assert tca["timing_cost_bps"] == pytest.approx(5.0)
    assert tca["market_impact_bps"] == pytest.approx(7.0)
    assert tca["own_mid_impact_bps"] == pytest.approx(6.0)
    assert report["parents"][0]["impact_source"] == report["summary"]["impact_source"] == "model"
    assert [f["unimpacted_mid"] for f in report["parents"][0]["fills"]] == [100.15, 100.15, 100.2]


def test_without_unimpacted_mids_the_split_is_the_old_one() -> None:
    report = build_execution_report(session_of(worked_parent()), T0)

    assert report["tca"]["timing_cost_bps"] == pytest.approx(11.0)
    assert report["tca"]["own_mid_impact_bps"] == 0.0
    assert report["summary"]["impact_source"] == "none"
    assert report["parents"][0]["fills"][0]["unimpacted_mid"] is None


def _taker(n: int, quantity: str, mid: str, at: datetime, *, child: str | None = None,
           liquidity: Liquidity = Liquidity.TAKER) -> Fill:
    return make_fill(n, price=mid, quantity=quantity, fee="0", liquidity=liquidity, mid=mid,
                     half_spread="0", ts=at, child=child)


def test_model_replays_the_square_root_law_over_our_taker_orders() -> None:
    # Arrange: 3 BTC taken at T0 (two fills of one order share its pre-trade mid), a maker fill
    # 30 s later, 2 BTC taken a minute later
    fills = [_taker(1, "1", "50000", T0, child="a"), _taker(2, "2", "50000", T0, child="a"),
             _taker(3, "1", "50010", T0 + timedelta(seconds=30), liquidity=Liquidity.MAKER),
             _taker(4, "2", "50020", T0 + timedelta(seconds=60))]
    # Act
    mids = model_unimpacted_mids(fills, side=Side.BUY, sigma_1m=SIGMA, volume_per_minute=VOLUME)
    # Assert: I(x) = 0.7 sigma sqrt(x / V); half of it permanent, the rest decays over 600 s
    peak = 0.7 * SIGMA * math.sqrt(3 / VOLUME)
    at_30 = peak / 2 + 0.7 * SIGMA * math.sqrt(3 * math.exp(-30 / 600) / VOLUME) / 2
    at_60 = peak / 2 + 0.7 * SIGMA * math.sqrt(3 * math.exp(-60 / 600) / VOLUME) / 2
    assert mids[0] == mids[1] == Decimal("50000.0")
    assert float(mids[2]) == pytest.approx(50010 * math.exp(-at_30), rel=1e-12)
    assert float(mids[3]) == pytest.approx(50020 * math.exp(-at_60), rel=1e-12)


def test_model_of_a_sell_lowers_the_mid() -> None:
    fills = [make_fill(n, price="100", quantity="5", fee="0", liquidity=Liquidity.TAKER,
                       mid="100", half_spread="0", side=Side.SELL) for n in (1, 2)]

    mids = model_unimpacted_mids(fills, side=Side.SELL, sigma_1m=SIGMA, volume_per_minute=VOLUME,
                                 params=ImpactParams())

    assert mids[0] == Decimal("100.0") and mids[1] is not None and mids[1] > Decimal(100)


@pytest.fixture(scope="module")
def pov_report() -> dict:
    from oms_harness import shared_data_dir
    data = shared_data_dir()
    if data is None:
        pytest.skip("../shared/data/binance is not available")
    spec = BacktestSpec.parse(data=Path(data) / BTC_FILE, symbol="BTCUSDT", side="buy",
                              quantity="300", algo="pov", start="2024-02-01T10:00:00Z",
                              duration_minutes=30)
    return run_backtest(spec, kline_cache=None)


def test_a_10_percent_pov_books_its_own_impact_as_impact(pov_report: dict) -> None:
    parent = pov_report["parents"][0]
    fills = parent["fills"]
    notional = parent["quantity"] * parent["decision_price"]
    arrival = parent["arrival_price"]
    # Act: the law replayed over the fills, apart from the simulator
    own = model_unimpacted_mids(
        [Fill(fill_id=f["fill_id"], client_order_id=f["client_order_id"], parent_id="p",
              symbol="BTCUSDT", side=Side.BUY, price=Decimal(repr(f["price"])),
              quantity=Decimal(repr(f["quantity"])), fee=Decimal(0),
              liquidity=Liquidity(f["liquidity"]),
              ts=datetime.fromisoformat(f["time"].replace("Z", "+00:00")), venue="paper",
              mid_price=Decimal(repr(f["mid_price"])), half_spread=None) for f in fills],
        side=Side.BUY, sigma_1m=CALIBRATION["BTCUSDT"]["sigma_1m"],
        volume_per_minute=CALIBRATION["BTCUSDT"]["volume_per_minute"])
    model_bps = sum(f["quantity"] * (f["mid_price"] - float(u))
                    for f, u in zip(fills, own, strict=True)) / notional * 1e4
    # Assert: about a tenth of the volume, and the mid it moved is impact, not timing
    tca = parent["tca"]
    assert parent["impact_source"] == "simulator"
    assert 0.07 < parent["participation_rate"] < 0.13
    filled_notional = parent["filled_quantity"] * parent["decision_price"]
    assert parent["costs_usd"]["own_mid_impact"] / filled_notional * 1e4 > 3.0  # per unit filled
    assert tca["own_mid_impact_bps"] == pytest.approx(model_bps, rel=0.02)
    assert tca["market_impact_bps"] >= tca["own_mid_impact_bps"]
    # every figure recomputes from the fill rows (floats: to rounding)
    timing = sum(f["quantity"] * (f["unimpacted_mid"] - arrival) for f in fills)
    spread = sum(f["quantity"] * f["half_spread"] * (1 if f["liquidity"] == "taker" else -1)
                 for f in fills)
    impact = sum(f["quantity"] * (f["price"] - f["unimpacted_mid"]) for f in fills) - spread
    own_mid = sum(f["quantity"] * (f["mid_price"] - f["unimpacted_mid"]) for f in fills)
    assert tca["timing_cost_bps"] == pytest.approx(timing / notional * 1e4, rel=1e-6, abs=1e-6)
    assert tca["market_impact_bps"] == pytest.approx(impact / notional * 1e4, rel=1e-6, abs=1e-6)
    assert tca["own_mid_impact_bps"] == pytest.approx(own_mid / notional * 1e4, rel=1e-6)
    parts = sum(tca[k] for k in ("delay_cost_bps", "spread_cost_bps", "market_impact_bps",
                                 "timing_cost_bps", "fees_bps", "opportunity_cost_bps"))
    assert parts == pytest.approx(tca["total_cost_bps"], rel=1e-9)


def test_simulator_source_is_the_unperturbed_path_anchored_at_arrival() -> None:
    # Arrange: a synthetic market moved by 20 BTC of our buying at T0 + 1 s
    from oms.market.synthetic import SyntheticMarket
    market = SyntheticMarket(["BTCUSDT"], T0, seed=3)
    market.advance_to(T0 + timedelta(seconds=1))
    arrival = Decimal(repr(market.top("BTCUSDT").mid))
    market.record_own_trade("BTCUSDT", Side.BUY, 20.0)
    market.advance_to(T0 + timedelta(seconds=30))
    impacted = market.top("BTCUSDT").mid
    fills = [make_fill(1, price="1", quantity="1", fee="0", liquidity=Liquidity.TAKER,
                       mid=repr(impacted), half_spread="0", ts=T0 + timedelta(seconds=30))]
    # Act
    own = estimate_own_impact(market, "BTCUSDT", Side.BUY, fills, start=T0 + timedelta(seconds=1),
                              end=T0 + timedelta(minutes=1), arrival=arrival, bars=[],
                              market_volume=None)
    # Assert: u = P(t) * A / P(start); the mid our 20 BTC moved is what separates it from m
    path_now = market.path_mid("BTCUSDT", T0 + timedelta(seconds=30), quoted=True)
    path_start = market.path_mid("BTCUSDT", T0 + timedelta(seconds=1), quoted=True)
    assert own.source == "simulator"
    assert float(own.unimpacted_mids[0] or 0) == pytest.approx(
        path_now * float(arrival) / path_start, rel=1e-12)
    shift = math.log(impacted / float(own.unimpacted_mids[0] or 1))
    now = (T0 + timedelta(seconds=30)).timestamp()
    quoted_at = max(market.touch_events("BTCUSDT", now - 60.0, now + 1e-9))  # quote in force
    assert shift == pytest.approx(market.impact_model("BTCUSDT").offset(quoted_at), rel=0.01)


def test_without_a_simulator_the_model_estimates_and_without_inputs_nothing() -> None:
    live_feed = cast(MarketData, object())  # not a simulator: nothing knows the path
    fills = [make_fill(n, price="100", quantity="5", fee="0", liquidity=Liquidity.TAKER,
                       mid="100", half_spread="0") for n in (1, 2)]
    window = {"start": T0, "end": T0 + timedelta(minutes=10), "arrival": D("100"), "bars": []}

    live = estimate_own_impact(live_feed, "BTCUSDT", Side.BUY, fills, market_volume=None,
                               **window)  # type: ignore[arg-type]
    unknown = estimate_own_impact(live_feed, "XYZUSDT", Side.BUY, fills, market_volume=None,
                                  **window)  # type: ignore[arg-type]

    assert live.source == "model" and live.unimpacted_mids[1] is not None
    assert live.unimpacted_mids[1] < D("100")
    assert unknown.source == "none" and unknown.unimpacted_mids == (None, None)
