"""MARKET: one immediate child; several only under a price limit or a size cap."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from algo_fakes import T0, FakeMarket, execute

from oms.model.enums import AlgoName, OrderType, Side, TimeInForce


def test_one_immediate_market_child_fills_everything() -> None:
    result = execute(AlgoName.MARKET, "0.3", market=FakeMarket(), duration=0)

    assert len(result.children) == 1
    assert result.children[0].order_type is OrderType.MARKET
    assert result.children[0].created_at == T0
    assert result.parent.filled_quantity == Decimal("0.3")


def test_price_limit_splits_into_ioc_children_within_the_book() -> None:
    # the fake book shows 0.1 BTC a level; the limit admits the first 3 ask levels
    market = FakeMarket()
    market.advance_to(T0)
    limit = market.quote("BTCUSDT").ask + Decimal("0.02")

    result = execute(AlgoName.MARKET, "0.5", market=market, duration=0, limit_price=limit)

    assert len(result.children) >= 2
    assert all(c.quantity <= Decimal("0.3") for c in result.children)
    assert all(c.time_in_force is TimeInForce.IOC and c.limit_price == limit
               for c in result.children)
    assert result.parent.filled_quantity == Decimal("0.5")


def test_limit_never_reached_ends_after_grace_with_everything_unfilled() -> None:
    market = FakeMarket()
    market.advance_to(T0)
    limit = market.quote("BTCUSDT").bid - 100

    result = execute(AlgoName.MARKET, "0.5", market=market, side=Side.BUY, duration=0,
                     limit_price=limit, options={"grace_s": 30})

    assert result.children == []
    assert result.ended_at == T0 + timedelta(seconds=30)
    assert result.parent.remaining == Decimal("0.5")
    assert result.end_reason.startswith("window ended with 0.5 of 0.5 unfilled")


def test_max_child_notional_splits_the_order() -> None:
    result = execute(AlgoName.MARKET, "0.3", market=FakeMarket(), duration=0,  # 15,000 USD
                     options={"max_child_notional": 5_000})

    assert len(result.children) >= 3
    assert all(c.quantity * 50_000 <= 5_000 for c in result.children)
    assert result.parent.filled_quantity == Decimal("0.3")
