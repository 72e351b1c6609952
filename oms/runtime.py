"""EngineRuntime: an APScheduler BackgroundScheduler job that ticks the engine.

One job, ``max_instances=1`` and ``coalesce=True`` (the engine has one writer; a slow tick is never
overlapped, missed runs collapse into one), an explicit ``misfire_grace_time``, and listeners for
job errors and missed runs that the dashboard shows (EngineHealth), not only the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler

from oms.engine import ExecutionEngine

__all__ = ["EngineHealth", "EngineRuntime"]

log = logging.getLogger(__name__)
_JOB_ID = "engine-tick"
SUBSTEP_PUBLISH_S = 0.25  # wall time between snapshots while a job run catches up


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

    def __init__(self, engine: ExecutionEngine, interval_ms: int, *,
                 max_step_s: float = 1.0, max_substeps: int = 60) -> None:
        self.engine = engine
        self.interval_s = interval_ms / 1000.0
        self.max_step = timedelta(seconds=max_step_s)
        self.max_substeps = max_substeps
        self._last_tick: datetime | None = None
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._lock = threading.Lock()
        self._errors = 0
        self._missed = 0
        self._problems: deque[tuple[datetime, str]] = deque(maxlen=20)
        self._ticking = False  # a job run is in progress (wake() then defers to its end)
        self._wake_pending = False
        #: called with the wall seconds of each job run (its sub-steps included), in the job's
        #: thread: /metrics' tick histogram. Must be quick and never raise.
        self.tick_observers: list[Callable[[float], None]] = []
        self._scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        self._scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)

    def _on_submitted(self, _event: JobEvent) -> None:
        with self._lock:  # from here to the end of the run, a wake waits for the run's end
            self._ticking = True

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
            self._run, "interval", seconds=self.interval_s, id=_JOB_ID,
            max_instances=1, coalesce=True, misfire_grace_time=max(1, int(self.interval_s * 4)),
            next_run_time=datetime.now(UTC))
        self._scheduler.start()

    def _run(self) -> None:
        with self._lock:  # a wake from before this run is answered by it
            self._ticking, self._wake_pending = True, False
        started = time.perf_counter()
        try:
            self._tick()
        finally:
            elapsed = time.perf_counter() - started
            for observe in self.tick_observers:
                observe(elapsed)
            with self._lock:
                self._ticking = False
                again = self._wake_pending
            if again:
                self.wake()

    def wake(self) -> None:
        """Tick now rather than at the next interval (a command arrived from another process);
        during a tick, right after it, so a tick is never overlapped nor skipped."""
        with self._lock:
            if self._ticking:
                self._wake_pending = True
                return
        if self._scheduler.running:
            job = self._scheduler.get_job(_JOB_ID)
            if job is not None:
                job.modify(next_run_time=datetime.now(UTC))

    def _tick(self) -> None:
        """One job run: tick at the clock's now. When market time ran ahead by more than
        ``max_step`` (a fast replay, or a busy machine), tick at intermediate times first, so
        algorithms see the minutes in between instead of one jump past their window."""
        target = self.engine.clock.now()
        last = self._last_tick
        if last is not None:
            published = time.perf_counter()
            for _ in range(self.max_substeps):
                if target - last <= self.max_step:
                    break
                last += self.max_step
                # a long catch-up still shows what it changed (a kill's HALTED) every
                # SUBSTEP_PUBLISH_S; the queued execution reports wait for the last step
                publish = time.perf_counter() - published >= SUBSTEP_PUBLISH_S
                self.engine.tick(at=last, publish=publish, reports=False)
                if publish:
                    published = time.perf_counter()
        self.engine.tick(at=target)
        self._last_tick = target

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
