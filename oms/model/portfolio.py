"""Positions and the account: cash in the quote asset plus one position per symbol.

Where a fill's commission goes depends on the asset it was paid in (``Fill.fee_paid_in``): a
quote-asset fee is charged to cash; a base-asset fee leaves the position (the wallet received
that much less on a buy, gave that much more on a sell) and cash is untouched; a fee in a third
asset (BNB) touches neither, its quantity is kept per asset and its value lowers the equity.
In every case ``fee`` (its value in the quote asset) is added to ``fees_paid``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from oms.model.enums import Side
from oms.model.orders import ZERO, FeePaidIn, Fill

__all__ = ["Account", "Position"]


@dataclass(slots=True)
class Position:
    """Net quantity held in one symbol, its average cost and realised P&L (quote asset)."""

    symbol: str
    quantity: Decimal = ZERO
    avg_cost: Decimal = ZERO
    realised_pnl: Decimal = ZERO

    def apply(self, side: Side, quantity: Decimal, price: Decimal) -> None:
        """Apply a trade; realises P&L on the part that reduces the position."""
        signed = quantity * side.sign
        if self.quantity == 0 or (self.quantity > 0) == (signed > 0):
            total = self.quantity + signed
            self.avg_cost = (self.avg_cost * abs(self.quantity) + price * quantity) / abs(total)
            self.quantity = total
            return
        closing = min(quantity, abs(self.quantity))
        direction = 1 if self.quantity > 0 else -1
        self.realised_pnl += (price - self.avg_cost) * closing * direction
        self.quantity += signed
        if self.quantity == 0:
            self.avg_cost = ZERO
        elif (self.quantity > 0) != (direction > 0):  # flipped through zero
            self.avg_cost = price

    def market_value(self, mid: Decimal) -> Decimal:
        """Signed value at ``mid``."""
        return self.quantity * mid

    def unrealised_pnl(self, mid: Decimal) -> Decimal:
        """P&L of the open quantity at ``mid``."""
        return (mid - self.avg_cost) * self.quantity


@dataclass(slots=True)
class Account:
    """Cash (quote asset, e.g. USDT) and positions; fees as the module docstring says."""

    cash: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    fees_paid: Decimal = ZERO  # every fee, valued in the quote asset
    #: commission paid in assets other than a fill's base and quote (BNB), per asset
    other_asset_fees: dict[str, Decimal] = field(default_factory=dict)
    other_asset_fee_value: Decimal = ZERO  # their value in the quote asset at the fill times

    def position(self, symbol: str) -> Position:
        """The position in ``symbol`` (created flat on first use)."""
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position(symbol)
        return pos

    def apply_fill(self, fill: Fill) -> None:
        """Move cash and position for one fill, and book its fee where it was paid."""
        position = self.position(fill.symbol)
        position.apply(fill.side, fill.quantity, fill.price)
        base_fee = fill.base_fee
        if base_fee:
            # the venue kept these units: they leave at the fill price, worth ``fill.fee``
            position.apply(Side.SELL, base_fee, fill.price)
        self.cash -= fill.notional * fill.side.sign
        if fill.fee_paid_in is FeePaidIn.QUOTE:
            self.cash -= fill.fee
        elif fill.fee_paid_in is FeePaidIn.OTHER:
            self.other_asset_fee_value += fill.fee
            if fill.fee_asset is not None:
                spent = self.other_asset_fees.get(fill.fee_asset, ZERO)
                self.other_asset_fees[fill.fee_asset] = spent + (fill.fee_quantity or ZERO)
        self.fees_paid += fill.fee

    def equity(self, mids: dict[str, Decimal]) -> Decimal:
        """Cash plus positions marked at ``mids`` (positions without a mid count at cost), less
        the value of fees paid in other assets."""
        total = self.cash - self.other_asset_fee_value
        for symbol, pos in self.positions.items():
            total += pos.quantity * mids.get(symbol, pos.avg_cost)
        return total
