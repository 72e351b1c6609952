"""Shortfall decomposition: components add up to the total, signs mirror, opportunity cost."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tca_builders import T0, D, make_fill, session_of, worked_fills, worked_parent

from oms.model.enums import Liquidity, Side
from oms.model.orders import Fill
from oms.tca import build_execution_report
from oms.tca.measures import fill_totals, reference_prices
from oms.tca.shortfall import COMPONENTS, Shortfall, decompose

TCA_COMPONENT_KEYS = (
    "delay_cost_bps",
    "spread_cost_bps",
    "market_impact_bps",
    "timing_cost_bps",
    "fees_bps",
    "opportunity_cost_bps",
)


def _shortfall(parent) -> Shortfall:  # type: ignore[no-untyped-def]
    prices = reference_prices(parent)
    return decompose(parent, prices,
                     fill_totals(parent.fills, prices.arrival, parent.unimpacted_mids))


def _price(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda cents: Decimal(cents) / 100)


@st.composite
def random_parents(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    count = draw(st.integers(1, 25))
    fills: list[Fill] = []
    for n in range(count):
        mid = draw(st.one_of(st.none(), _price(9_000, 11_000)))
        half = draw(st.one_of(st.none(), _price(0, 50)))
        fills.append(
            Fill(
                fill_id=f"f{n}",
                client_order_id=f"c{draw(st.integers(0, 4))}",
                parent_id="p",
                symbol="ETHUSDT",
                side=side,
                price=draw(_price(9_000, 11_000)),
                quantity=Decimal(draw(st.integers(1, 50_000))) / 10_000,
                fee=Decimal(draw(st.integers(-100, 2_000))) / 10_000,
                liquidity=draw(st.sampled_from(list(Liquidity))),
                ts=T0,
                venue="paper",
                mid_price=mid,
                half_spread=half,
            )
        )
    filled = sum((f.quantity for f in fills), Decimal(0))
    extra = Decimal(draw(st.integers(0, 50_000))) / 10_000
    # sometimes the mids without our own flow are known (the impact / timing split)
    unimpacted = draw(st.one_of(st.just(()), st.lists(st.one_of(st.none(), _price(9_000, 11_000)),
                                                      min_size=count, max_size=count)))
    parent = replace(
        worked_parent(side, fills),
        quantity=filled + extra,
        decision_price=draw(st.one_of(st.none(), _price(9_000, 11_000))),
        arrival_price=draw(st.one_of(st.none(), _price(9_000, 11_000))),
        end_price=draw(st.one_of(st.none(), _price(9_000, 11_000))),
        unimpacted_mids=tuple(unimpacted),
        impact_source="model" if unimpacted else "none",
    )
    return parent


@settings(max_examples=150, deadline=None, derandomize=True)
@given(random_parents())
def test_components_sum_to_total_exactly(parent) -> None:  # type: ignore[no-untyped-def]
    # Arrange: an independent total, straight from Perold's definition
    prices = reference_prices(parent)
    assert prices.decision is not None and prices.end is not None
    sign = parent.side.sign
    paid = sum((sign * f.quantity * (f.price - prices.decision) for f in parent.fills), Decimal(0))
    fees = sum((f.fee for f in parent.fills), Decimal(0))
    filled = sum((f.quantity for f in parent.fills), Decimal(0))
    unfilled = sign * (parent.quantity - filled) * (prices.end - prices.decision)
    # Act
    shortfall = _shortfall(parent)
    report = build_execution_report(session_of(parent), T0)
    # Assert: exact in USD, to float rounding in bps
    assert sum((getattr(shortfall, c) for c in COMPONENTS), Decimal(0)) == paid + fees + unfilled
    assert shortfall.total == paid + fees + unfilled
    for tca in (report["tca"], report["parents"][0]["tca"]):
        parts = sum(tca[key] for key in TCA_COMPONENT_KEYS)
        assert parts == pytest.approx(tca["total_cost_bps"], rel=1e-9, abs=1e-9)
        assert tca["implementation_shortfall_bps"] == tca["total_cost_bps"]


def test_buy_and_sell_of_the_same_fills_mirror_signs() -> None:
    # Arrange
    buy = build_execution_report(session_of(worked_parent(Side.BUY)), T0)["parents"][0]
    sell = build_execution_report(session_of(worked_parent(Side.SELL)), T0)["parents"][0]
    # Act / Assert: price-driven measures flip; fees and the spread (set by liquidity) do not
    for benchmark in ("arrival", "vwap", "twap"):
        assert sell["slippage_bps"][benchmark] == pytest.approx(-buy["slippage_bps"][benchmark])
    for key in ("delay_cost_bps", "timing_cost_bps", "opportunity_cost_bps"):
        assert sell["tca"][key] == pytest.approx(-buy["tca"][key])
        assert buy["tca"][key] != 0
    assert sell["tca"]["fees_bps"] == buy["tca"]["fees_bps"]
    assert sell["tca"]["spread_cost_bps"] == buy["tca"]["spread_cost_bps"]
    execution_buy = buy["tca"]["spread_cost_bps"] + buy["tca"]["market_impact_bps"]
    execution_sell = sell["tca"]["spread_cost_bps"] + sell["tca"]["market_impact_bps"]
    assert execution_sell == pytest.approx(-execution_buy)


def test_mirrored_market_gives_a_sell_the_same_costs_as_the_buy() -> None:
    # Arrange: reflect every price around the decision mid 100 (p -> 200 - p); a seller in the
    # reflected market meets exactly what the buyer met.
    def reflect(value: Decimal | None) -> Decimal | None:
        return None if value is None else D("200") - value

    sell_fills = [
        replace(f, side=Side.SELL, price=reflect(f.price), mid_price=reflect(f.mid_price))
        for f in worked_fills(Side.BUY)
    ]
    buy = worked_parent(Side.BUY)
    sell = replace(
        worked_parent(Side.SELL, sell_fills),
        arrival_price=reflect(buy.arrival_price),
        end_price=reflect(buy.end_price),
    )
    # Act
    buy_cost, sell_cost = _shortfall(buy), _shortfall(sell)
    # Assert
    assert sell_cost == buy_cost
    assert sell_cost.total == D("0.37")


def test_partially_filled_buy_carries_opportunity_cost() -> None:
    # Arrange: 0.8 of 1 filled; end mid 100.50 vs decision 100.00
    parent = worked_parent(Side.BUY)
    # Act
    report = build_execution_report(session_of(parent), T0)
    # Assert: 0.2 * 0.50 = 0.10 USD = 10 bps of the 100 USD decision notional
    assert report["parents"][0]["costs_usd"]["opportunity"] == pytest.approx(0.10)
    assert report["tca"]["opportunity_cost_bps"] == pytest.approx(10.0)
    assert report["summary"]["fill_rate"] == pytest.approx(0.8)


def test_partially_filled_sell_gains_when_the_price_rose() -> None:
    # Arrange: a sell that did not finish while the market went up: the unsold rest gained
    parent = replace(worked_parent(Side.SELL), quantity=D("2"))
    # Act
    shortfall = _shortfall(parent)
    # Assert: -1 * (2 - 0.8) * (100.50 - 100.00) = -0.60 USD over a 200 USD notional
    assert shortfall.opportunity == D("-0.60")
    assert shortfall.bps("opportunity") == pytest.approx(-30.0)


def test_unfilled_parent_is_all_opportunity_cost() -> None:
    # Arrange: nothing filled
    parent = replace(worked_parent(Side.BUY, fills=[]), filled_quantity=D("0"), child_count=0)
    # Act
    shortfall = _shortfall(parent)
    report = build_execution_report(session_of(parent), T0)
    # Assert: 1 * (100.50 - 100.00) = 0.50 USD = 50 bps, every other component zero
    assert shortfall.total == shortfall.opportunity == D("0.50")
    assert report["tca"]["total_cost_bps"] == pytest.approx(50.0)
    assert report["parents"][0]["avg_fill_price"] is None
    assert report["parents"][0]["slippage_bps"]["arrival"] is None
    assert report["summary"]["avg_slippage_bps"] == 0.0
    assert report["quality"]["fill_rate"] == 0.0


def test_fill_without_mid_or_spread_falls_back_to_arrival_and_zero() -> None:
    # Arrange: one taker fill at 100.30 with no market snapshot; arrival 100.10
    fill = make_fill(1, price="100.30", quantity="1", fee="0", liquidity=Liquidity.TAKER,
                     mid=None, half_spread=None)  # fmt: skip
    parent = replace(worked_parent(Side.BUY, [fill]), end_price=D("100.00"))
    # Act
    shortfall = _shortfall(parent)
    # Assert: no timing (mid = arrival), no spread, the whole 0.20 deviation is impact
    assert shortfall.timing == 0
    assert shortfall.spread == 0
    assert shortfall.market_impact == D("0.20")
    assert shortfall.delay == D("0.10")
    assert shortfall.opportunity == 0
