"""EngineRuntime.wake: a command from another process makes the engine tick now instead of at
its next interval, and a wake during a tick runs one more tick right after it (never skipped)."""

from __future__ import annotations

import time
from pathlib import Path

from oms_harness import make_harness

from oms.runtime import EngineRuntime


def _until(check: object, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_wake_ticks_now_rather_than_at_the_next_interval(tmp_path: Path) -> None:
    # Arrange: a runtime that ticks once a minute
    harness = make_harness(tmp_path)
    runtime = EngineRuntime(harness.engine, interval_ms=60_000)
    try:
        runtime.start()
        assert _until(lambda: harness.engine.tick_count >= 1)  # the first run is at start
        before = harness.engine.tick_count

        # Act
        started = time.monotonic()
        runtime.wake()

        # Assert: ticked within a fraction of a second, not a minute
        assert _until(lambda: harness.engine.tick_count > before, timeout_s=2.0)
        assert time.monotonic() - started < 2.0
    finally:
        runtime.stop()
        harness.oms.close()


def test_a_wake_during_a_tick_runs_one_more_tick_after_it(tmp_path: Path) -> None:
    # Arrange: ticks that take 0.3 s, once a minute
    harness = make_harness(tmp_path)
    real_tick = harness.engine.tick
    running: list[bool] = []

    def slow_tick(**kwargs: object) -> object:
        running.append(True)
        time.sleep(0.3)
        return real_tick(**kwargs)  # type: ignore[arg-type]

    harness.engine.tick = slow_tick  # type: ignore[method-assign]
    runtime = EngineRuntime(harness.engine, interval_ms=60_000)
    try:
        runtime.start()
        assert _until(lambda: len(running) == 1)  # the first run is in its tick

        # Act: wake while it runs
        runtime.wake()

        # Assert: one more run right after it, not a minute later
        assert _until(lambda: len(running) == 2, timeout_s=2.0)
    finally:
        runtime.stop()
        harness.oms.close()
