"""Builders shared by the risk tests: orders, quotes and risk contexts with sane defaults."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from oms.market.types import Quote
from oms.model.enums import OrderType, Side, TradingState
from oms.model.orders import ChildOrder
from oms.risk.pretrade import OpenQty, RiskContext
from oms.venues.filters import SymbolFilters

__all__ = ["T0", "D", "make_ctx", "make_order", "make_quote"]

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def D(value: str | int) -> Decimal:
    """Shorthand for Decimal(str)."""
    return Decimal(str(value))


def make_order(
    *,
    symbol: str = "BTCUSDT",
    side: Side = Side.BUY,
    quantity: str | Decimal = "0.01",
    order_type: OrderType = OrderType.MARKET,
    limit_price: str | Decimal | None = None,
    parent_id: str = "p1",
    at: datetime = T0,
) -> ChildOrder:
    """A child order (market by default)."""
    return ChildOrder(
        client_order_id=f"c{next(_ids)}",
        parent_id=parent_id,
        symbol=symbol,
        side=side,
        quantity=Decimal(str(quantity)),
        order_type=order_type,
        created_at=at,
        venue="paper",
        limit_price=None if limit_price is None else Decimal(str(limit_price)),
    )


def make_quote(symbol: str = "BTCUSDT", mid: str | Decimal = "50000", half_spread: str = "1",
               at: datetime = T0) -> Quote:
    """A quote around ``mid``."""
    m, h = Decimal(str(mid)), Decimal(half_spread)
    return Quote(symbol, at, m - h, m + h, D(5), D(5))


def make_ctx(
    *,
    now: datetime = T0,
    state: TradingState = TradingState.ACTIVE,
    symbol: str = "BTCUSDT",
    mid: str | Decimal | None = "50000",
    quote: bool = True,
    position: str | Decimal = "0",
    positions: Mapping[str, Decimal] | None = None,
    mids: Mapping[str, Decimal] | None = None,
    daily_pnl: str | Decimal = "0",
    open_orders: Mapping[str, OpenQty] | None = None,
    filters: SymbolFilters | None = None,
) -> RiskContext:
    """A context for one order in ``symbol``; ``quote=False`` leaves only ``mids``."""
    all_mids = dict(mids or {})
    if mid is not None:
        all_mids.setdefault(symbol, Decimal(str(mid)))
    pos = Decimal(str(position))
    all_positions = dict(positions or {})
    all_positions[symbol] = pos
    return RiskContext(
        now=now,
        trading_state=state,
        quote=make_quote(symbol, mid, at=now) if quote and mid is not None else None,
        filters=filters or SymbolFilters(symbol),
        position_qty=pos,
        mids=all_mids,
        positions=all_positions,
        daily_pnl=Decimal(str(daily_pnl)),
        open_orders=dict(open_orders or {}),
    )
