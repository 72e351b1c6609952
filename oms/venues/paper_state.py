"""Paper venue state: the venue's record of one order, default exchange rules, cross tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from oms.market.simulated import Top
from oms.model.enums import ChildState, Side
from oms.model.orders import ChildOrder
from oms.venues.filters import SymbolFilters

__all__ = ["DEFAULT_SPOT_FILTERS", "WorkingOrder", "crosses", "crosses_top"]

_ZERO = Decimal(0)

# Binance spot rules of the three simulated symbols (exchangeInfo figures; since 2023 NOTIONAL
# 5..9,000,000 USDT replaced MIN_NOTIONAL 10). Other symbols get SymbolFilters' defaults.
DEFAULT_SPOT_FILTERS: dict[str, SymbolFilters] = {
    "BTCUSDT": SymbolFilters("BTCUSDT", step_size=Decimal("0.00001"), min_qty=Decimal("0.00001"),
                             max_qty=Decimal(9000), base_asset="BTC"),
    "ETHUSDT": SymbolFilters("ETHUSDT", step_size=Decimal("0.0001"), min_qty=Decimal("0.0001"),
                             max_qty=Decimal(9000), base_asset="ETH"),
    "SOLUSDT": SymbolFilters("SOLUSDT", step_size=Decimal("0.01"), min_qty=Decimal("0.01"),
                             max_qty=Decimal(90000), base_asset="SOL"),
}

class WorkingOrder:
    """The venue's side of one order."""

    __slots__ = ("arrival_t", "cancel_requested", "checked_t", "credit", "filled",
                 "last_visible", "limit_f", "lock_asset", "lock_unit", "locked", "notional",
                 "open_counted", "order", "queue_ahead", "remaining_f", "sent_at", "state",
                 "venue_id")

    def __init__(self, order: ChildOrder, venue_id: str, sent_at: datetime, arrival_t: float,
                 state: ChildState = ChildState.NEW) -> None:
        self.order = order
        self.venue_id = venue_id
        self.sent_at = sent_at
        self.arrival_t = arrival_t
        self.state = state
        self.filled = _ZERO
        self.notional = _ZERO
        self.remaining_f = float(order.quantity)
        self.limit_f = float(order.limit_price) if order.limit_price is not None else 0.0
        self.queue_ahead = 0.0
        self.credit = 0.0
        self.checked_t = arrival_t
        self.last_visible = 0.0
        self.cancel_requested = False
        self.open_counted = False
        self.lock_asset = ""  # what the order locked at the exchange (paper_balances)
        self.locked = _ZERO
        self.lock_unit = _ZERO

    @property
    def remaining(self) -> Decimal:
        """Quantity not filled yet."""
        return self.order.quantity - self.filled


def crosses(order: ChildOrder, bid: Decimal, ask: Decimal) -> bool:
    """True if ``order``'s limit price would take liquidity at this bid/ask."""
    price = order.limit_price
    if price is None:
        return True
    return price >= ask if order.side is Side.BUY else price <= bid


def crosses_top(side: Side, price: float, top: Top) -> bool:
    """True if a limit at ``price`` on ``side`` would take liquidity at ``top``."""
    return price >= top.ask - 1e-9 if side is Side.BUY else price <= top.bid + 1e-9
