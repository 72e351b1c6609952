"""Domain enumerations."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AlgoName",
    "ChildState",
    "Liquidity",
    "OrderType",
    "ParentState",
    "Side",
    "TimeInForce",
    "TradingState",
]


class Side(StrEnum):
    """Order side; ``sign`` is +1 for a buy and -1 for a sell."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for BUY, -1 for SELL."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        """The other side."""
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """Child order types, named as Binance names them."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"  # post-only: rejected if it would cross


class TimeInForce(StrEnum):
    """How long a limit order stays working."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class Liquidity(StrEnum):
    """Whether a fill added (maker) or removed (taker) liquidity."""

    MAKER = "maker"
    TAKER = "taker"


class ChildState(StrEnum):
    """Child order lifecycle (DESIGN.md)."""

    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        """True once the order can no longer change (fills after cancel excepted)."""
        return self in _CHILD_TERMINAL

    @property
    def is_working(self) -> bool:
        """True while the order may still fill at the venue."""
        return not self.is_terminal


_CHILD_TERMINAL = frozenset(
    {ChildState.FILLED, ChildState.CANCELED, ChildState.REJECTED, ChildState.EXPIRED}
)


class ParentState(StrEnum):
    """Parent order lifecycle (DESIGN.md)."""

    PENDING = "PENDING"
    WORKING = "WORKING"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    HALTED = "HALTED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        """True once the parent is finished."""
        return self in _PARENT_TERMINAL


_PARENT_TERMINAL = frozenset(
    {ParentState.COMPLETED, ParentState.CANCELED, ParentState.HALTED, ParentState.FAILED}
)


class TradingState(StrEnum):
    """Account trading state: ACTIVE, REDUCING (only risk-reducing orders), HALTED (cancels)."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class AlgoName(StrEnum):
    """Execution algorithms a parent order can use; AUTO lets the selection policy choose."""

    AUTO = "auto"
    MARKET = "market"
    TWAP = "twap"
    VWAP = "vwap"
    IS = "is"
    POV = "pov"
    ICEBERG = "iceberg"
