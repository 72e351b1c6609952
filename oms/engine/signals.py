"""SignalDesk: strategy signals in the engine. Entries complete before the next 15-minute UTC
boundary; every entry that filled is closed automatically 180 minutes after its first fill unless
an exit signal for the symbol came first (timing and bookkeeping live in oms.signals).

A signal never takes a spot account short: a SELL is clipped to what the account holds net of
what its open children may still sell (and refused when nothing is left)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from oms.commands import SubmitSignal
from oms.engine.book import BookView
from oms.engine.quotes import QuoteBoard
from oms.engine.sessions import SessionDesk, SubmitResult
from oms.errors import FieldError, MarketClosed, ValidationError
from oms.model import AlgoName, Side
from oms.signals import SignalBook, entry_duration_minutes
from oms.venues.filters import SymbolFilters

__all__ = ["SignalDesk"]

_ZERO = Decimal(0)


class SignalDesk:
    """Turns signals into parent orders and schedules the automatic exits."""

    def __init__(self, *, sessions: SessionDesk, quotes: QuoteBoard, book: BookView,
                 filters: Callable[[str], SymbolFilters], position: Callable[[str], Decimal],
                 min_notional: Decimal) -> None:
        self.sessions = sessions
        self.quotes = quotes
        self.orders = book
        self.filters = filters
        self.position = position
        self.min_notional = min_notional
        self.book = SignalBook()

    def _quantity(self, symbol: str, size_usd: Decimal) -> Decimal:
        mid = self.quotes.mid(symbol)
        if mid is None:
            raise MarketClosed(f"{symbol}: no market price, signal not executed")
        step = self.filters(symbol).step_size
        quantity = (size_usd / mid / step).to_integral_value(ROUND_DOWN) * step
        if quantity * mid < self.min_notional:
            raise ValidationError(FieldError(
                "size_usd", f"{size_usd} USD is below the minimum notional {self.min_notional}"))
        return quantity

    def _sellable(self, symbol: str) -> Decimal:
        """Base quantity a SELL may still take: the position less what may still be sold."""
        return max(self.position(symbol) - self.orders.pending(symbol, Side.SELL), _ZERO)

    def submit(self, command: SubmitSignal, now: datetime) -> SubmitResult:
        """Create the parent of an entry or exit signal."""
        sessions = self.sessions
        sessions.ensure_trading()
        quantity = self._quantity(command.symbol, command.size_usd)
        if command.kind == "exit":
            closed = self.book.on_exit_signal(command.symbol)
            held = sum((e.quantity for e in closed if e.side is command.side.opposite), _ZERO)
            if held > 0:
                quantity = held
        if command.side is Side.SELL:
            sellable = self._sellable(command.symbol)
            if sellable <= 0:
                raise ValidationError(FieldError(
                    "side", f"SELL {command.symbol}: nothing to sell (position net of working "
                            f"sells is {sellable}); a spot account cannot go short"))
            quantity = min(quantity, sellable)
        duration = entry_duration_minutes(now)
        session_id = sessions.open_session(
            "signal", now, command.actor, {},
            {"symbol": command.symbol, "side": command.side.value, "kind": command.kind,
             "size_usd": str(command.size_usd), "confidence": command.confidence,
             "urgency": command.urgency, "duration_minutes": round(duration, 3)})
        parent = sessions.new_parent(session_id, command.symbol, command.side, quantity,
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
        """Send the automatic exits that are due (a SELL exit never more than is held)."""
        due_at = self.book.next_due_at()
        if due_at is None or due_at > now:
            return
        sessions = self.sessions
        for due in self.book.due_exits(now):
            quantity = due.quantity
            if due.side is Side.SELL:
                quantity = min(quantity, self._sellable(due.symbol))
                if quantity <= 0:
                    continue
            session_id = sessions.open_session(
                "signal", now, "auto-exit", {},
                {"symbol": due.symbol, "side": due.side.value, "kind": "exit",
                 "entry_parent_id": due.entry_parent_id, "reason": due.reason})
            sessions.new_parent(session_id, due.symbol, due.side, quantity, AlgoName.AUTO,
                                entry_duration_minutes(now), 0.5, now)
