"""Rejection: why a child order was refused, as a typed value (never a string parsed back)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Rejection", "RejectionSource"]


class RejectionSource(StrEnum):
    """Who refused: pre-trade risk, the venue, the halt gate, or the engine itself."""

    RISK = "RISK"
    VENUE = "VENUE"
    HALT = "HALT"
    ENGINE = "ENGINE"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refusal with its source, a reason code and the numbers behind it.

    ``str(r)`` reads like ``RISK POSITION_LIMIT: symbol=BTCUSDT position_usd=10450.20``.
    """

    source: RejectionSource
    code: str
    message: str
    numbers: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        detail = " ".join(f"{key}={value}" for key, value in self.numbers.items())
        text = f"{self.code}: {detail}" if detail else f"{self.code}: {self.message}"
        return f"{self.source.value} {text}"
