"""Positions: average cost, realised P&L on reductions and flips; account cash and fees."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from oms.model import Account, Fill, Liquidity, Position, Side

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_position_average_cost_and_realised_pnl() -> None:
    pos = Position("BTCUSDT")
    pos.apply(Side.BUY, D(1), D(100))
    pos.apply(Side.BUY, D(1), D(200))
    assert pos.avg_cost == D(150)
    pos.apply(Side.SELL, D("0.5"), D(250))
    assert pos.realised_pnl == D(50) and pos.quantity == D("1.5") and pos.avg_cost == D(150)
    pos.apply(Side.SELL, D(2), D(100))  # flips short
    assert pos.quantity == D("-0.5") and pos.avg_cost == D(100)
    assert pos.realised_pnl == D(50) + D(-75)


def test_account_moves_cash_and_fees() -> None:
    account = Account(cash=D(1000))
    account.apply_fill(Fill("f1", "c1", "p1", "BTCUSDT", Side.BUY, D(100), D(2), D("0.2"),
                            Liquidity.TAKER, T0, "paper"))
    assert account.cash == D("799.8")
    assert account.equity({"BTCUSDT": D(110)}) == D("1019.8")
