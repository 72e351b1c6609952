"""Pure domain model: enums, ids, orders, fills, positions and state machines."""

from oms.model.assets import account_balances, split_symbol
from oms.model.enums import (
    AlgoName,
    ChildState,
    Liquidity,
    OrderType,
    ParentState,
    Side,
    TimeInForce,
    TradingState,
)
from oms.model.ids import IdGenerator
from oms.model.orders import ZERO, ChildOrder, Fill, ParentOrder
from oms.model.portfolio import Account, Position

__all__ = [
    "ZERO",
    "Account",
    "AlgoName",
    "ChildOrder",
    "ChildState",
    "Fill",
    "IdGenerator",
    "Liquidity",
    "OrderType",
    "ParentOrder",
    "ParentState",
    "Position",
    "Side",
    "TimeInForce",
    "TradingState",
    "account_balances",
    "split_symbol",
]
