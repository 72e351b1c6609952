"""The alert vocabulary: kinds, severities and the immutable Alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Alert", "AlertKind", "Severity"]


class AlertKind(StrEnum):
    """What happened (the rate limit counts per kind)."""

    BREAKER_TRIP = "breaker_trip"
    HALT = "halt"
    REJECT_BURST = "reject_burst"
    PARENT_COMPLETED = "parent_completed"
    PARENT_FAILED = "parent_failed"
    RECONCILE_MISMATCH = "reconcile_mismatch"


class Severity(StrEnum):
    """How urgently a person must look: CRITICAL now, WARNING soon, INFO for the record."""

    CRITICAL = "CRITICAL"
    WARNING = "WARNING"
    INFO = "INFO"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert. ``raised_at`` is the wall time (UTC) it was derived, ``market_ts`` the engine
    time of the event (they differ on a replay); ``alert_id`` increases with each alert."""

    alert_id: int
    kind: AlertKind
    severity: Severity
    title: str
    message: str
    raised_at: datetime
    market_ts: datetime
    subject: str = ""  # the breaker, parent, mismatch or account concerned
