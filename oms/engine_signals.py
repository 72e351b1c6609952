"""SignalDesk: strategy signals in the engine. Entries complete before the next 15-minute UTC
boundary; every entry that filled is closed automatically 180 minutes after its first fill unless
an exit signal for the symbol came first (timing and bookkeeping live in oms.signals)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from oms.commands import SubmitSignal
from oms.errors import FieldError, MarketClosed, ValidationError
from oms.model import AlgoName
from oms.signals import SignalBook, entry_duration_minutes

if TYPE_CHECKING:
    from oms.engine import ExecutionEngine
    from oms.engine_commands import SubmitResult

__all__ = ["SignalDesk"]


class SignalDesk:
    """Turns signals into parent orders and schedules the automatic exits."""

    def __init__(self, engine: ExecutionEngine) -> None:
        self.engine = engine
        self.book = SignalBook()

    def _quantity(self, symbol: str, size_usd: Decimal) -> Decimal:
        mid = self.engine.mid(symbol)
        if mid is None:
            raise MarketClosed(f"{symbol}: no market price, signal not executed")
        step = self.engine.venue.filters(symbol).step_size
        quantity = (size_usd / mid / step).to_integral_value(ROUND_DOWN) * step
        if quantity * mid < self.engine.settings.min_notional:
            minimum = self.engine.settings.min_notional
            raise ValidationError(FieldError(
                "size_usd", f"{size_usd} USD is below the minimum notional {minimum}"))
        return quantity

    def submit(self, command: SubmitSignal, now: datetime) -> SubmitResult:
        """Create the parent of an entry or exit signal."""
        from oms.engine_commands import SubmitResult

        handler = self.engine.handler
        handler.ensure_trading()
        quantity = self._quantity(command.symbol, command.size_usd)
        if command.kind == "exit":
            closed = self.book.on_exit_signal(command.symbol)
            held = sum((e.quantity for e in closed if e.side is command.side.opposite), Decimal(0))
            if held > 0:
                quantity = held
        duration = entry_duration_minutes(now)
        session_id = handler.open_session(
            "signal", now, command.actor, {},
            {"symbol": command.symbol, "side": command.side.value, "kind": command.kind,
             "size_usd": str(command.size_usd), "confidence": command.confidence,
             "urgency": command.urgency, "duration_minutes": round(duration, 3)})
        parent = handler.new_parent(session_id, command.symbol, command.side, quantity,
                                    AlgoName.AUTO, duration, command.urgency, now,
                                    confidence=command.confidence)
        if command.kind == "entry":
            self.book.register_entry(parent.parent_id, parent.symbol, parent.side)
        return SubmitResult(session_id, [parent.parent_id], [],
                            {parent.parent_id: (parent.algo.value, parent.algo_reason)})

    def on_fill(self, parent_id: str, quantity: Decimal, ts: datetime) -> None:
        """A fill of any parent (entries are tracked, others ignored)."""
        self.book.on_entry_fill(parent_id, quantity, ts)

    def on_parent_ended(self, parent_id: str) -> None:
        """A parent ended (an entry that filled nothing needs no exit)."""
        self.book.on_entry_ended(parent_id)

    def on_tick(self, now: datetime) -> None:
        """Send the automatic exits that are due."""
        due_at = self.book.next_due_at()
        if due_at is None or due_at > now:
            return
        handler = self.engine.handler
        for due in self.book.due_exits(now):
            session_id = handler.open_session(
                "signal", now, "auto-exit", {},
                {"symbol": due.symbol, "side": due.side.value, "kind": "exit",
                 "entry_parent_id": due.entry_parent_id, "reason": due.reason})
            handler.new_parent(session_id, due.symbol, due.side, due.quantity, AlgoName.AUTO,
                               entry_duration_minutes(now), 0.5, now)


