"""Test helpers: an isolated OMS on a TestClock with its own SQLite file; the data path.

Imported by tests as ``from oms_harness import ...`` (a unique module name, unlike conftest).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from oms.bootstrap import Oms, build_oms
from oms.clock import TestClock
from oms.config import Settings
from oms.model import IdGenerator

T_START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


def shared_data_dir() -> Path | None:
    """../shared/data/binance next to the repository (or $OMS_SHARED_DATA), if present."""
    env = os.environ.get("OMS_SHARED_DATA")
    candidates = [Path(env)] if env else []
    root = Path(__file__).resolve().parents[1]
    candidates += [root.parent / "shared" / "data" / "binance",
                   root.parent.parent / "shared" / "data" / "binance"]
    return next((c for c in candidates if c.is_dir()), None)


class OmsHarness:
    """An OMS driven by hand: ``run(seconds)`` advances the TestClock and ticks the engine."""

    def __init__(self, oms: Oms, clock: TestClock) -> None:
        self.oms = oms
        self.clock = clock
        self.engine = oms.engine
        self.service = oms.service

    def run(self, seconds: float, step: float = 1.0) -> None:
        """Advance market time by ``seconds`` in ``step`` increments, one tick each."""
        steps = max(1, int(seconds / step))
        for _ in range(steps):
            self.clock.advance(timedelta(seconds=step))
            self.engine.tick()

    def tick(self) -> None:
        """One engine tick without moving the clock."""
        self.engine.tick()


def make_harness(tmp_path: Path, *, start: datetime = T_START, token: str = "t",
                 **overrides: Any) -> OmsHarness:
    """Build an isolated OMS (own SQLite file, TestClock at ``start``, seeded); a restart of the
    same database passes a later ``start`` and another id ``token`` (as a new process has)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'oms.db'}", **overrides)
    clock = TestClock(start)
    oms = build_oms(settings, clock=clock, ids=IdGenerator(token))
    oms.engine.start()
    return OmsHarness(oms, clock)


def until(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Wait until ``check()`` is true (a running engine thread gets there); fail after
    ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def text_of(component: Any) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))
