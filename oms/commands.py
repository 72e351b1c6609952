"""Commands: what callers ask of the engine (imperative names), answered through a Future."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from oms.model.enums import AlgoName, Side

__all__ = [
    "CancelParent",
    "Command",
    "KillSwitch",
    "ResetBreaker",
    "Resume",
    "SubmitParentOrder",
    "SubmitRebalance",
    "SubmitSignal",
]


def _future() -> Future[Any]:
    return Future()


@dataclass(frozen=True, slots=True)
class SubmitRebalance:
    """Move the portfolio to USD targets per symbol (already validated)."""

    targets: dict[str, Decimal]
    algo: AlgoName
    duration_minutes: float
    urgency: float
    actor: str = "system"
    reply: Future[Any] = field(default_factory=_future, compare=False)


@dataclass(frozen=True, slots=True)
class SubmitParentOrder:
    """Execute one parent order directly (backtests, benchmarks, the API)."""

    symbol: str
    side: Side
    quantity: Decimal
    algo: AlgoName
    duration_minutes: float
    urgency: float = 0.5
    confidence: float | None = None
    limit_price: Decimal | None = None
    algo_options: dict[str, Any] = field(default_factory=dict)
    session_kind: str = "order"
    actor: str = "system"
    reply: Future[Any] = field(default_factory=_future, compare=False)


@dataclass(frozen=True, slots=True)
class SubmitSignal:
    """A strategy signal: enter or exit a position of ``size_usd``."""

    symbol: str
    side: Side
    size_usd: Decimal
    confidence: float
    urgency: float
    kind: str  # "entry" or "exit"
    actor: str = "strategy"
    reply: Future[Any] = field(default_factory=_future, compare=False)


@dataclass(frozen=True, slots=True)
class CancelParent:
    """Stop a parent order and cancel its working children."""

    parent_id: str
    actor: str = "system"
    reply: Future[Any] = field(default_factory=_future, compare=False)


@dataclass(frozen=True, slots=True)
class KillSwitch:
    """Halt trading: cancel every working child, halt every working parent."""

    reason: str
    actor: str = "system"
    reply: Future[Any] = field(default_factory=_future, compare=False)


@dataclass(frozen=True, slots=True)
class Resume:
    """Return to ACTIVE trading after a halt (an explicit act with a reason)."""

    reason: str
    actor: str = "system"
    reply: Future[Any] = field(default_factory=_future, compare=False)


@dataclass(frozen=True, slots=True)
class ResetBreaker:
    """Re-arm a tripped circuit breaker."""

    name: str
    reason: str
    actor: str = "system"
    reply: Future[Any] = field(default_factory=_future, compare=False)


Command = (SubmitRebalance | SubmitParentOrder | SubmitSignal | CancelParent | KillSwitch
           | Resume | ResetBreaker)
