"""Violations: why a pre-trade check denied a child order, with a reason code and the numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

__all__ = ["CENT", "Violation", "ViolationCode", "usd"]

CENT = Decimal("0.01")


class ViolationCode(StrEnum):
    """Reason codes of the pre-trade checks (stable: persisted in risk_events)."""

    TRADING_HALTED = "TRADING_HALTED"
    REDUCE_ONLY = "REDUCE_ONLY"
    SYMBOL_NOT_ALLOWED = "SYMBOL_NOT_ALLOWED"
    NO_MARKET_PRICE = "NO_MARKET_PRICE"
    ORDER_RATE = "ORDER_RATE"
    SYMBOL_ORDER_RATE = "SYMBOL_ORDER_RATE"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    MAX_ORDER_NOTIONAL = "MAX_ORDER_NOTIONAL"
    PRICE_COLLAR = "PRICE_COLLAR"
    EXCHANGE_FILTER = "EXCHANGE_FILTER"
    DAILY_LOSS = "DAILY_LOSS"
    POSITION_LIMIT = "POSITION_LIMIT"
    GROSS_EXPOSURE = "GROSS_EXPOSURE"
    INSUFFICIENT_POSITION = "INSUFFICIENT_POSITION"
    INSUFFICIENT_CASH = "INSUFFICIENT_CASH"


def usd(value: Decimal) -> Decimal:
    """``value`` rounded to cents, for reason texts."""
    return value.quantize(CENT)


@dataclass(frozen=True, slots=True)
class Violation:
    """A denied order: ``code`` (a ViolationCode), a human ``message`` and the ``numbers``.

    ``str(v)`` is the code and the numbers, e.g.
    ``POSITION_LIMIT: symbol=BTCUSDT position_usd=10450.20 limit_usd=10000``.
    """

    code: str
    message: str
    numbers: dict[str, object] = field(default_factory=dict, hash=False)

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form (numbers as strings, exact) for risk_events and the audit log."""
        return {
            "code": str(self.code),
            "message": self.message,
            "numbers": {key: _plain(value) for key, value in self.numbers.items()},
            "text": str(self),
        }

    def __str__(self) -> str:
        if not self.numbers:
            return str(self.code)
        detail = " ".join(f"{key}={value}" for key, value in self.numbers.items())
        return f"{self.code}: {detail}"


def _plain(value: object) -> object:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)  # Decimal, enums: exact text
