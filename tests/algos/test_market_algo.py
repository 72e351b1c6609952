"""MARKET: one immediate child; several only under a price limit or a size cap."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from algo_fakes import BTC, T0, FakeMarket, ScriptedVenue, make_parent

from oms.algos.market import MarketAlgo
from oms.algos.simloop import run_parent
from oms.model.enums import AlgoName, OrderType, Side, TimeInForce


def test_one_immediate_market_child_fills_everything() -> None:
    parent = make_parent("0.3", algo=AlgoName.MARKET, duration=0)
    market = FakeMarket()

    result = run_parent(MarketAlgo(parent, seed=1, filters=BTC), parent, market,
                        ScriptedVenue(market), start=T0)

    assert len(result.children) == 1
    assert result.children[0].order_type is OrderType.MARKET
    assert result.children[0].created_at == T0
    assert parent.filled_quantity == Decimal("0.3")


def test_price_limit_splits_into_ioc_children_within_the_book() -> None:
    # the fake book shows 0.1 BTC a level; the limit admits the first 3 ask levels
    market = FakeMarket()
    market.advance_to(T0)
    ask = market.quote("BTCUSDT").ask
    parent = make_parent("0.5", algo=AlgoName.MARKET, duration=0,
                         limit_price=ask + Decimal("0.02"))

    result = run_parent(MarketAlgo(parent, seed=1, filters=BTC), parent, market,
                        ScriptedVenue(market), start=T0)

    assert len(result.children) >= 2
    assert all(c.quantity <= Decimal("0.3") for c in result.children)
    assert all(c.time_in_force is TimeInForce.IOC and c.limit_price == parent.limit_price
               for c in result.children)
    assert parent.filled_quantity == Decimal("0.5")


def test_limit_never_reached_ends_after_grace_with_everything_unfilled() -> None:
    market = FakeMarket()
    market.advance_to(T0)
    parent = make_parent("0.5", algo=AlgoName.MARKET, side=Side.BUY, duration=0,
                         limit_price=market.quote("BTCUSDT").bid - 100)

    algo = MarketAlgo(parent, seed=1, filters=BTC, grace_s=30)
    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0)

    assert result.children == []
    assert result.ended_at == T0 + timedelta(seconds=30)
    assert parent.remaining == Decimal("0.5") and algo.stop_reason is not None


def test_max_child_notional_splits_the_order() -> None:
    parent = make_parent("0.3", algo=AlgoName.MARKET, duration=0)  # 15,000 USD
    market = FakeMarket()

    result = run_parent(MarketAlgo(parent, seed=1, filters=BTC, max_child_notional=5_000),
                        parent, market, ScriptedVenue(market), start=T0)

    assert len(result.children) >= 3
    assert all(c.quantity * 50_000 <= 5_000 for c in result.children)
    assert parent.filled_quantity == Decimal("0.3")
