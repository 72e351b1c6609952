"""EquitySampler: when the engine writes an equity and P&L sample, and when it thins them.

The rule (README, "Dashboard"): one sample per ``SAMPLE_EVERY`` (5 s, ``OMS_EQUITY_SAMPLE_S``;
a backtest samples once a minute) of market time, on the first tick at or after each boundary,
so the rate does not follow the tick rate or the replay speed. Samples stay at that grain for
``FINE_FOR`` (1 day of market time, 17,280 rows at 5 s); older ones keep only the first sample
of each minute (1,440 rows a day); samples older than ``KEEP_FOR`` (90 days) are deleted. The
thinning runs in the tick's transaction at the engine's first sample and then once per
``PRUNE_EVERY`` (1 hour) of market time, so the table stays under about
17,280 + 90 x 1,440 = 147,000 rows whatever the uptime.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.persistence.history import EquityPrune

__all__ = ["FINE_FOR", "KEEP_FOR", "PRUNE_EVERY", "SAMPLE_EVERY", "EquitySampler"]

SAMPLE_EVERY = timedelta(seconds=5)
FINE_FOR = timedelta(days=1)
KEEP_FOR = timedelta(days=90)
PRUNE_EVERY = timedelta(hours=1)

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # the origin of the 5 s boundaries


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


class EquitySampler:
    """Decides, tick by tick, whether a sample is due and whether a thinning is; engine only."""

    def __init__(self, started_at: datetime, every: timedelta = SAMPLE_EVERY) -> None:
        if every <= timedelta(0):
            raise ValueError(f"the sampling interval must be positive, got {every}")
        self.started_at = started_at
        self.every = every
        self._next_at: datetime | None = None
        self._last_minute: datetime | None = None
        self._prune_at: datetime | None = None

    def due(self, now: datetime) -> bool:
        """True when a sample is due at ``now`` (the next 5 s boundary is reached)."""
        return self._next_at is None or now >= self._next_at

    def sample(self, now: datetime, *, equity: Decimal, cash: Decimal,
               pnl: Decimal) -> dict[str, Any] | None:
        """The row to write at ``now``, or None when the next 5 s boundary is not reached."""
        if not self.due(now):
            return None
        steps = (now - _EPOCH) // self.every
        self._next_at = _EPOCH + (steps + 1) * self.every
        minute = _minute(now)
        mark = minute != self._last_minute
        self._last_minute = minute
        return {"ts": now, "run_started_at": self.started_at, "equity": equity, "cash": cash,
                "pnl": pnl, "minute_mark": mark}

    def prune(self, now: datetime) -> EquityPrune | None:
        """The thinning due at ``now`` (the first call, then once per PRUNE_EVERY), or None."""
        if self._prune_at is not None and now < self._prune_at:
            return None
        self._prune_at = now + PRUNE_EVERY
        return EquityPrune(fine_before=now - FINE_FOR, keep_after=now - KEEP_FOR)
