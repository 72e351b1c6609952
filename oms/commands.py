"""Commands: what callers ask of the engine (imperative names), answered through a Future."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from oms.model.enums import AlgoName, Side
from oms.reconciliation import ResolveAction

__all__ = [
    "CancelParent",
    "Command",
    "KillSwitch",
    "ResetBreaker",
    "ResolveMismatch",
    "ResubmitRemaining",
    "Resume",
    "SubmitParentOrder",
    "SubmitRebalance",
    "SubmitSignal",
]


def _future() -> Future[Any]:
    return Future()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Command:
    """What every command carries: who asked, and the future that answers them."""

    actor: str = "system"
    reply: Future[Any] = field(default_factory=_future, compare=False)


@dataclass(frozen=True, slots=True)
class SubmitRebalance(_Command):
    """Move the portfolio to USD targets per symbol (already validated)."""

    targets: dict[str, Decimal]
    algo: AlgoName
    duration_minutes: float
    urgency: float
    on_limit: str = "reject"  # or "clip": lower targets to what the limits allow


@dataclass(frozen=True, slots=True)
class SubmitParentOrder(_Command):
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


@dataclass(frozen=True, slots=True)
class SubmitSignal(_Command):
    """A strategy signal: enter or exit a position of ``size_usd`` (None: auto-sized by
    ``oms.sizing.auto_size``); ``dry_run`` only sizes it (the preview) and creates nothing."""

    symbol: str
    side: Side
    size_usd: Decimal | None
    confidence: float
    urgency: float
    kind: str  # "entry" or "exit"
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class CancelParent(_Command):
    """Stop a parent order and cancel its working children."""

    parent_id: str


@dataclass(frozen=True, slots=True)
class ResubmitRemaining(_Command):
    """Start a new parent for the unfilled rest of a HALTED, CANCELED or FAILED parent: same
    symbol, side, algorithm and options; ``duration_minutes`` None keeps the old horizon."""

    parent_id: str
    duration_minutes: float | None = None


@dataclass(frozen=True, slots=True)
class KillSwitch(_Command):
    """Halt trading: cancel every working child, halt every working parent.

    ``durable`` is True when the caller (OmsService.kill) already committed the halt rows
    (TRADING_STATE and KILL events, their audit rows); the engine then does not write them again.
    """

    reason: str
    durable: bool = False


@dataclass(frozen=True, slots=True)
class Resume(_Command):
    """Return to ACTIVE trading after a halt (an explicit act with a reason)."""

    reason: str


@dataclass(frozen=True, slots=True)
class ResetBreaker(_Command):
    """Re-arm a tripped circuit breaker."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class ResolveMismatch(_Command):
    """Resolve an open reconciliation mismatch: adopt the venue's view, cancel the order at the
    venue, or ignore it (``reason`` required; already validated)."""

    mismatch_id: str
    action: ResolveAction
    reason: str = ""


Command = (SubmitRebalance | SubmitParentOrder | SubmitSignal | CancelParent | ResubmitRemaining
           | KillSwitch | Resume | ResetBreaker | ResolveMismatch)
