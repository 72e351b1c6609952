"""The halt gate: the one flag every send path checks, set at once by the kill switch."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from oms.errors import TradingHalted

__all__ = ["HaltGate"]


class HaltGate:
    """Thread-safe halt flag. Once closed, no child order may leave the process.

    The kill switch closes it from any thread without waiting for the engine tick; the engine
    and every venue's send path call ``ensure_open()`` immediately before sending.
    """

    def __init__(self) -> None:
        self._halted = threading.Event()
        self._lock = threading.Lock()
        self.reason: str = ""
        self.halted_at: datetime | None = None
        self.halted_monotonic: float | None = None

    @property
    def is_halted(self) -> bool:
        """True while the gate is closed."""
        return self._halted.is_set()

    def halt(self, reason: str, at: datetime | None = None) -> None:
        """Close the gate now (idempotent; the first reason is kept)."""
        with self._lock:
            if not self._halted.is_set():
                self.reason = reason
                self.halted_at = at
                self.halted_monotonic = time.monotonic()
                self._halted.set()

    def reopen(self) -> None:
        """Open the gate again (only the engine's resume path calls this)."""
        with self._lock:
            self._halted.clear()
            self.reason = ""
            self.halted_at = None
            self.halted_monotonic = None

    def ensure_open(self) -> None:
        """Raise TradingHalted if the gate is closed."""
        if self._halted.is_set():
            raise TradingHalted(f"trading halted: {self.reason}")
