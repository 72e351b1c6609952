"""Fees in any asset: a base-asset fee leaves the position and not cash, a BNB fee touches
neither but lowers the equity (so the daily P&L), and the books stay consistent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from oms.model import Account, Fill, Liquidity, Side
from oms.model.orders import FeePaidIn

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _fill(side: Side, qty: str, price: str, fee: str, *, asset: str, fee_qty: str,
          fee_price: str | None, paid_in: FeePaidIn, fill_id: str = "f1") -> Fill:
    return Fill(fill_id, "c1", "p1", "BTCUSDT", side, D(price), D(qty), D(fee), Liquidity.TAKER,
                T0, "binance", fee_asset=asset, fee_quantity=D(fee_qty),
                fee_price=None if fee_price is None else D(fee_price), fee_paid_in=paid_in)


def test_a_base_asset_fee_buy_holds_quantity_minus_fee_and_charges_cash_only_the_notional() -> None:
    # Arrange: buy 1 BTC at 100, Binance keeps 0.001 BTC as commission
    account = Account(cash=D(1000))
    fill = _fill(Side.BUY, "1", "100", "0.1", asset="BTC", fee_qty="0.001", fee_price="100",
                 paid_in=FeePaidIn.BASE)

    # Act
    account.apply_fill(fill)

    # Assert: the wallet holds 0.999 BTC and paid 100 USDT; the fee is a cost of 0.1
    position = account.position("BTCUSDT")
    assert position.quantity == D("0.999")
    assert account.cash == D(900)
    assert account.fees_paid == D("0.1")
    assert account.equity({"BTCUSDT": D(110)}) == D(900) + D("0.999") * 110
    # the P&L decomposition still adds up: realised + unrealised - fees = equity change
    change = account.equity({"BTCUSDT": D(110)}) - D(1000)
    assert position.realised_pnl + position.unrealised_pnl(D(110)) - account.fees_paid == change


def test_selling_the_whole_net_position_after_a_base_fee_buy_leaves_it_flat() -> None:
    # Arrange: the buy above, then a sell of what the wallet really holds
    account = Account(cash=D(1000))
    account.apply_fill(_fill(Side.BUY, "1", "100", "0.1", asset="BTC", fee_qty="0.001",
                             fee_price="100", paid_in=FeePaidIn.BASE))
    held = account.position("BTCUSDT").quantity

    # Act: sell it at 110, fee in USDT
    account.apply_fill(_fill(Side.SELL, str(held), "110", "0.10989", asset="USDT",
                             fee_qty="0.10989", fee_price="1", paid_in=FeePaidIn.QUOTE,
                             fill_id="f2"))

    # Assert: flat, and the money made is exactly the cash moved
    position = account.position("BTCUSDT")
    assert position.quantity == 0
    assert account.cash == D(1000) - 100 + D("0.999") * 110 - D("0.10989")
    assert position.realised_pnl - account.fees_paid == account.cash - D(1000)


def test_a_base_asset_fee_sell_drops_the_position_by_quantity_plus_fee() -> None:
    account = Account(cash=D(0))
    account.position("BTCUSDT").apply(Side.BUY, D(2), D(100))

    account.apply_fill(_fill(Side.SELL, "1", "100", "0.1", asset="BTC", fee_qty="0.001",
                             fee_price="100", paid_in=FeePaidIn.BASE))

    assert account.position("BTCUSDT").quantity == D("0.999")
    assert account.cash == D(100)  # the whole proceeds: the fee was not taken from cash


def test_a_bnb_fee_is_a_cost_in_equity_but_moves_neither_cash_nor_position() -> None:
    # Arrange: 0.0001 BNB at 600 USDT = 0.06 USDT of commission
    account = Account(cash=D(1000))
    before = account.equity({"BTCUSDT": D(100)})

    # Act
    account.apply_fill(_fill(Side.BUY, "1", "100", "0.06", asset="BNB", fee_qty="0.0001",
                             fee_price="600", paid_in=FeePaidIn.OTHER))

    # Assert
    assert account.cash == D(900)
    assert account.position("BTCUSDT").quantity == D(1)
    assert account.fees_paid == D("0.06")
    assert account.other_asset_fees == {"BNB": D("0.0001")}
    assert account.equity({"BTCUSDT": D(100)}) - before == D("-0.06")


def test_a_fee_that_could_not_be_valued_is_marked() -> None:
    unvalued = _fill(Side.BUY, "1", "100", "0", asset="BNB", fee_qty="0.0001", fee_price=None,
                     paid_in=FeePaidIn.OTHER)
    valued = _fill(Side.BUY, "1", "100", "0.06", asset="BNB", fee_qty="0.0001", fee_price="600",
                   paid_in=FeePaidIn.OTHER)
    paper = Fill("f", "c", "p", "BTCUSDT", Side.BUY, D(100), D(1), D("0.1"), Liquidity.TAKER,
                 T0, "paper")

    assert not unvalued.fee_valued
    assert valued.fee_valued and paper.fee_valued
    assert paper.fee_paid_in is FeePaidIn.QUOTE and paper.base_fee == 0
