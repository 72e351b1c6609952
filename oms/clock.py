"""Clocks: every component takes one, so tests and backtests run on manual time.

- LiveClock: wall-clock UTC.
- ReplayClock: market time = start + (wall elapsed) * speed; used by `oms run --speed X`.
- TestClock: moves only when told; backtests, benchmarks and tests.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "LiveClock", "ReplayClock", "TestClock", "utc"]


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime; naive values are taken to be UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Clock(Protocol):
    """Source of the current time (timezone-aware UTC)."""

    def now(self) -> datetime:
        """The current time of this clock."""
        ...


class LiveClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        """The current wall-clock time."""
        return datetime.now(UTC)


class ReplayClock:
    """Market time running ``speed`` times faster than wall time from ``start``."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.start = utc(start)
        self.speed = speed
        self._wall0 = time.monotonic()

    def now(self) -> datetime:
        """Market time now."""
        return self.start + timedelta(seconds=(time.monotonic() - self._wall0) * self.speed)


class TestClock:
    """A clock that moves only when advanced; deterministic."""

    __test__ = False  # not a pytest test class

    def __init__(self, start: datetime) -> None:
        self._now = utc(start)

    def now(self) -> datetime:
        """The time this clock was last set to."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time."""
        if delta < timedelta(0):
            raise ValueError("a TestClock never moves backwards")
        self._now += delta
        return self._now

    def set(self, value: datetime) -> None:
        """Jump forward to ``value``."""
        value = utc(value)
        if value < self._now:
            raise ValueError("a TestClock never moves backwards")
        self._now = value
