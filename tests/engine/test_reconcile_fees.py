"""Balance reconciliation with fees paid where Binance takes them: a base-asset fee (the wallet
received less) and a BNB fee (the BNB balance fell) make no mismatch."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast

from oms.engine.book import BookView
from oms.engine.reconcile import Reconciler
from oms.model import Account, ChildOrder, Fill, Liquidity, Side
from oms.model.orders import FeePaidIn
from oms.venues.base import Balance, OrderStatusReport, VenueOrder
from oms.venues.filters import SymbolFilters

D = Decimal
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=30)


class _Book:
    """No open children: every balance comparison is settled (all the reconciler reads)."""

    open_children: Mapping[str, ChildOrder] = {}


class _Wallet:
    """A live spot account: what Binance holds per asset (changed by the test as it trades)."""

    def __init__(self, **totals: str) -> None:
        self.totals = {asset: D(v) for asset, v in totals.items()}

    def open_orders(self, now: datetime) -> list[VenueOrder]:
        return []

    def query(self, client_order_id: str) -> OrderStatusReport | None:
        return None

    def balances(self) -> dict[str, Balance]:
        return {asset: Balance(total, D(0)) for asset, total in self.totals.items()}

    def move(self, **changes: str) -> None:
        for asset, change in changes.items():
            self.totals[asset] = self.totals.get(asset, D(0)) + D(change)


def _reconciler(account: Account, wallet: _Wallet, symbols: list[str]) -> Reconciler:
    ids = iter(range(1, 1000))
    return Reconciler(interval=INTERVAL, book=cast(BookView, _Book()), account=account,
                      venue=wallet, filters=SymbolFilters, quote_asset="USDT", symbols=symbols,
                      new_id=lambda: f"m{next(ids)}", zero_baseline=False)


def _fill(fill_id: str, side: Side, qty: str, price: str, fee: str, asset: str, fee_qty: str,
          fee_price: str, paid_in: FeePaidIn) -> Fill:
    return Fill(fill_id, "c1", "p1", "BTCUSDT", side, D(price), D(qty), D(fee), Liquidity.TAKER,
                T0, "binance", fee_asset=asset, fee_quantity=D(fee_qty), fee_price=D(fee_price),
                fee_paid_in=paid_in)


def _runs(reconciler: Reconciler, start: datetime, count: int) -> list[object]:
    reported: list[object] = []
    for i in range(count):
        reported.extend(reconciler.run(start + INTERVAL * i).reported)
    return reported


def test_a_base_asset_fee_buy_and_sell_make_no_balance_mismatch() -> None:
    # Arrange: a live account, its baseline taken (arm, then the first settled comparison)
    account = Account(cash=D(100_000))
    wallet = _Wallet(USDT="5000", BTC="0.5")
    reconciler = _reconciler(account, wallet, ["BTCUSDT"])
    first = _runs(reconciler, T0, 2)

    # Act: a buy of 1 BTC at 50,000 whose 0.001 BTC fee Binance kept, then a sell of 0.5 BTC
    # paying 0.0005 BTC in fee (as both sides of the venue record them)
    account.apply_fill(_fill("f1", Side.BUY, "1", "50000", "50", "BTC", "0.001", "50000",
                             FeePaidIn.BASE))
    wallet.move(USDT="-50000", BTC="0.999")
    account.apply_fill(_fill("f2", Side.SELL, "0.5", "50000", "25", "BTC", "0.0005", "50000",
                             FeePaidIn.BASE))
    wallet.move(USDT="25000", BTC="-0.5005")
    later = _runs(reconciler, T0 + 2 * INTERVAL, 3)

    # Assert: every run compared balances and none found a difference
    assert first == [] and later == []
    view = reconciler.view()
    assert view.mismatches == () and view.pending == 0
    assert reconciler.balances_checked_at == T0 + 4 * INTERVAL


def test_a_bnb_fee_is_taken_from_bnb_when_bnb_is_traded_too() -> None:
    account = Account(cash=D(100_000))
    wallet = _Wallet(USDT="5000", BTC="0", BNB="2")
    reconciler = _reconciler(account, wallet, ["BTCUSDT", "BNBUSDT"])
    _runs(reconciler, T0, 2)

    account.apply_fill(_fill("f1", Side.BUY, "0.1", "50000", "3.0005", "BNB", "0.005", "600.1",
                             FeePaidIn.OTHER))
    wallet.move(USDT="-5000", BTC="0.1", BNB="-0.005")
    later = _runs(reconciler, T0 + 2 * INTERVAL, 3)

    assert later == [] and reconciler.view().pending == 0
