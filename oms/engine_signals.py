"""SignalDesk: strategy signals in the engine (entry timing, automatic exits)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from oms.commands import SubmitSignal
from oms.errors import FieldError, ValidationError

if TYPE_CHECKING:
    from oms.engine import ExecutionEngine
    from oms.engine_commands import SubmitResult

__all__ = ["SignalDesk"]


class SignalDesk:
    """Turns signals into parent orders (wired to oms.signals in the algorithms work)."""

    def __init__(self, engine: ExecutionEngine) -> None:
        self.engine = engine

    def submit(self, command: SubmitSignal, now: datetime) -> SubmitResult:
        """Create the parent of a signal."""
        raise ValidationError(FieldError("signal", "signals are not wired yet"))
