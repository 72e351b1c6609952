"""A stderr progress bar for commands that run more than a few seconds (benchmarks,
calibration, measurements), backed by tqdm (rate, ETA, terminal width, non-tty output)."""

from __future__ import annotations

import sys

from tqdm import tqdm

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
        self._bar: tqdm[int] | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bar = tqdm(total=self.total, desc=f"{self.label:<24}", file=sys.stderr,
                             mininterval=0.1, leave=True, dynamic_ncols=True,
                             bar_format=("{desc} {bar:" + str(self.width) + "} {n_fmt}/{total_fmt}"
                                         " {elapsed} ({rate_fmt}, eta {remaining})"))
        return self

    def __exit__(self, *_exc: object) -> None:
        self.set(self.total)
        if self._bar is not None:  # close() prints the final bar and the newline
            self._bar.close()
            self._bar = None

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` steps."""
        self.set(self.done + n)

    def set(self, done: int) -> None:
        """Show ``done`` steps done (at most ``total``)."""
        self.done = min(self.total, done)
        bar = self._bar
        if bar is None:
            return
        if self.done >= bar.n:
            bar.update(self.done - bar.n)  # throttled by tqdm (mininterval): cheap in loops
        else:  # moved back (a caller re-counting): redraw at once
            bar.n = self.done
            bar.refresh()
