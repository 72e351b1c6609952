"""EngineRuntime: an APScheduler BackgroundScheduler job that ticks the engine.

One job, ``max_instances=1`` and ``coalesce=True`` (the engine has one writer; a slow tick is never
overlapped, missed runs collapse into one), an explicit ``misfire_grace_time``, and listeners for
job errors and missed runs that the dashboard shows (EngineHealth), not only the log.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from oms.engine import ExecutionEngine

__all__ = ["EngineHealth", "EngineRuntime"]

log = logging.getLogger(__name__)
_JOB_ID = "engine-tick"


@dataclass(frozen=True, slots=True)
class EngineHealth:
    """Scheduler health as the dashboard shows it."""

    running: bool
    errors: int
    missed: int
    last_problem: str | None
    last_problem_at: datetime | None


class EngineRuntime:
    """Starts and stops the scheduler job that ticks one engine."""

    def __init__(self, engine: ExecutionEngine, interval_ms: int) -> None:
        self.engine = engine
        self.interval_s = interval_ms / 1000.0
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._lock = threading.Lock()
        self._errors = 0
        self._missed = 0
        self._problems: deque[tuple[datetime, str]] = deque(maxlen=20)
        self._scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def _on_event(self, event: JobExecutionEvent) -> None:
        now = datetime.now(UTC)
        with self._lock:
            if event.code == EVENT_JOB_ERROR:
                self._errors += 1
                self._problems.append((now, f"tick failed: {event.exception!r}"))
                log.error("engine tick failed: %r", event.exception)
            else:
                self._missed += 1
                self._problems.append((now, "tick missed (engine busy or machine overloaded)"))

    def start(self) -> None:
        """Recover the engine and start ticking."""
        self.engine.start()
        self._scheduler.add_job(
            self.engine.tick, "interval", seconds=self.interval_s, id=_JOB_ID,
            max_instances=1, coalesce=True, misfire_grace_time=max(1, int(self.interval_s * 4)),
            next_run_time=datetime.now(UTC))
        self._scheduler.start()

    def stop(self) -> None:
        """Stop ticking (waits for a running tick to finish)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    @property
    def running(self) -> bool:
        """True while the scheduler runs."""
        return bool(self._scheduler.running)

    def health(self) -> EngineHealth:
        """Errors and missed runs so far, and the last problem."""
        with self._lock:
            last = self._problems[-1] if self._problems else None
            return EngineHealth(self.running, self._errors, self._missed,
                                last[1] if last else None, last[0] if last else None)
