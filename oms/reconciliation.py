"""The vocabulary of running reconciliation, below the engine, the service and the pages: the
kinds of mismatch, what an operator may do about each, and the frozen views the snapshot, the
/risk page and the REST API read (the logic lives in ``oms.engine.reconcile``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from oms.model.enums import TradingState

__all__ = ["ACTIONS", "MismatchKind", "MismatchView", "ReconcileView", "ResolveAction"]


class MismatchKind(StrEnum):
    """What differs between the OMS and the venue; the value is the risk event's code."""

    UNKNOWN_ORDER = "UNKNOWN_ORDER"  # open at the venue, not known to the OMS as open
    MISSING_ORDER = "MISSING_ORDER"  # working in the OMS (acknowledged), not open at the venue
    BALANCE = "BALANCE_MISMATCH"  # an asset's total differs from what the OMS's account implies

    @property
    def trading_state(self) -> TradingState:
        """The state a reported mismatch moves the account to (orders halt, balances reduce)."""
        return TradingState.REDUCING if self is MismatchKind.BALANCE else TradingState.HALTED


class ResolveAction(StrEnum):
    """What an operator does about an open mismatch."""

    ADOPT = "adopt"  # the OMS takes the venue's view
    CANCEL = "cancel"  # cancel the order at the venue (unknown orders)
    IGNORE = "ignore"  # leave both sides as they are, with a reason


#: the actions each kind of mismatch accepts
ACTIONS: dict[MismatchKind, tuple[ResolveAction, ...]] = {
    MismatchKind.UNKNOWN_ORDER: (ResolveAction.ADOPT, ResolveAction.CANCEL, ResolveAction.IGNORE),
    MismatchKind.MISSING_ORDER: (ResolveAction.ADOPT, ResolveAction.IGNORE),
    MismatchKind.BALANCE: (ResolveAction.ADOPT, ResolveAction.IGNORE),
}


@dataclass(frozen=True, slots=True)
class MismatchView:
    """One open mismatch: what the OMS believes, what the venue holds, and the difference.

    ``subject`` is the client order id (orders) or the asset (balances); ``difference`` is the
    venue's total minus what the OMS implies, beyond the baseline (balances only).
    """

    mismatch_id: str
    kind: MismatchKind
    subject: str
    symbol: str | None
    oms_view: str
    venue_view: str
    difference: Decimal | None
    first_seen: datetime
    reported_at: datetime
    last_seen: datetime
    present: bool  # still seen by the latest comparison
    actions: tuple[ResolveAction, ...]

    @property
    def message(self) -> str:
        """One line for the risk-event log."""
        return f"{self.kind.value} {self.subject}: OMS {self.oms_view}; venue {self.venue_view}"


@dataclass(frozen=True, slots=True)
class ReconcileView:
    """The reconciliation state as of one snapshot."""

    enabled: bool
    interval_s: float
    last_run_at: datetime | None = None
    next_run_at: datetime | None = None
    runs: int = 0
    mismatches: tuple[MismatchView, ...] = ()
    pending: int = 0  # differences seen once, confirmed or dropped by the next comparison
    balances_checked_at: datetime | None = None
    baseline: dict[str, Decimal] = field(default_factory=dict)
    last_error: str | None = None

    def mismatch(self, mismatch_id: str) -> MismatchView | None:
        """The open mismatch ``mismatch_id``, or None."""
        return next((m for m in self.mismatches if m.mismatch_id == mismatch_id), None)
