"""Positions and the account: cash in the quote asset plus one position per symbol."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from oms.model.enums import Side
from oms.model.orders import ZERO, Fill

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
    """Cash (quote asset, e.g. USDT) and positions; fees are paid from cash."""

    cash: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    fees_paid: Decimal = ZERO

    def position(self, symbol: str) -> Position:
        """The position in ``symbol`` (created flat on first use)."""
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position(symbol)
        return pos

    def apply_fill(self, fill: Fill) -> None:
        """Move cash and position for one fill."""
        self.position(fill.symbol).apply(fill.side, fill.quantity, fill.price)
        self.cash -= fill.notional * fill.side.sign + fill.fee
        self.fees_paid += fill.fee

    def equity(self, mids: dict[str, Decimal]) -> Decimal:
        """Cash plus positions marked at ``mids`` (positions without a mid count at cost)."""
        total = self.cash
        for symbol, pos in self.positions.items():
            total += pos.quantity * mids.get(symbol, pos.avg_cost)
        return total
