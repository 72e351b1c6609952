"""A tiny stderr progress bar for commands that run more than a few seconds (benchmarks,
calibration, measurements)."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """``with Progress("engine", total) as bar: bar.update(n)`` draws a bar on stderr
    (nothing at all with ``enabled=False``)."""

    def __init__(self, label: str, total: int, width: int = 30, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.label = label
        self.total = max(total, 1)
        self.width = width
        self.done = 0
        self._last = 0.0
        self._start = time.perf_counter()

    def __enter__(self) -> Progress:
        self._draw()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done = self.total
        self._draw(force=True)
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` steps."""
        self.set(self.done + n)

    def set(self, done: int) -> None:
        """Show ``done`` steps done."""
        self.done = min(self.total, done)
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        filled = int(self.width * self.done / self.total)
        elapsed = now - self._start
        sys.stderr.write(f"\r{self.label:<24} [{'#' * filled}{'.' * (self.width - filled)}] "
                         f"{self.done}/{self.total} {elapsed:6.1f}s")
        sys.stderr.flush()
