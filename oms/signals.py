"""Strategy-signal timing and automatic exits, as pure logic (the engine's SignalDesk wires it).

- Entries are timed to complete before the next 15-minute UTC boundary (:00, :15, :30, :45):
  ``entry_duration_minutes(now)`` is the execution window to give the entry's parent.
- Every position opened by an entry is closed by ``EXIT_AFTER`` (180 minutes, the maximum holding
  period) after the entry's first fill, unless an exit signal for the symbol came first: the
  automatic exit starts ``EXIT_WINDOW`` (15 minutes) before that deadline and is given a window
  that ends ``EXIT_SAFETY`` before it (``exit_duration_minutes``), so the exit is complete by the
  deadline, not started then. ``SignalBook`` tracks entry fills and hands out each due exit once;
  after a restart the engine rebuilds it from the database (``SignalBook.restore``).
- ``parse_signal_size`` reads the size a signal asks for: ``size_usd`` (a positive number) or
  ``size`` (a positive number, or ``"auto"``: sized by ``oms.sizing.auto_size`` in the engine).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from oms.clock import utc
from oms.errors import FieldError, ValidationError
from oms.model.enums import Side

__all__ = [
    "AUTO_EXIT_ACTOR",
    "BOUNDARY_MINUTES",
    "EXIT_AFTER",
    "EXIT_SAFETY",
    "EXIT_WINDOW",
    "DueExit",
    "OpenEntry",
    "SignalBook",
    "entry_duration_minutes",
    "exit_duration_minutes",
    "next_boundary",
    "parse_signal_size",
]

BOUNDARY_MINUTES = 15
AUTO_EXIT_ACTOR = "auto-exit"  # the actor of the automatic exits' sessions
EXIT_AFTER = timedelta(minutes=180)  # maximum holding period: the exit is complete by then
EXIT_WINDOW = timedelta(minutes=15)  # the automatic exit starts this long before the deadline
EXIT_SAFETY = timedelta(seconds=30)  # ... and its window ends this long before it
MIN_EXIT_WINDOW = timedelta(minutes=1)  # a late exit (the engine was down) still gets a minute
ZERO = Decimal(0)


def _positive_usd(name: str, value: object, upper: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValidationError(FieldError(
            name, f"{name} must be a positive number, got {value!r:.40}"))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(FieldError(
            name, f"{name} must be a positive number, got {value!r:.40}")) \
            from None
    if not number.is_finite() or number <= 0 or number > upper:
        raise ValidationError(FieldError(
            name, f"{name} must be positive (greater than 0 and at most {upper}), "
                  f"got {value!r:.40}"))
    return number


def parse_signal_size(size_usd: object = None, size: object = None, *,
                      upper: Decimal) -> Decimal | None:
    """The USD size a signal asks for, or None for ``size="auto"``; ValidationError naming the
    field when neither or both are given, or the value is not a positive number (nor "auto")."""
    if size_usd is not None and size is not None:
        raise ValidationError(FieldError(
            "size", "give either size or size_usd, not both"))
    if size is not None:
        if isinstance(size, str) and size.strip().lower() == "auto":
            return None
        if isinstance(size, str) and not size.strip().replace(".", "", 1).isdigit():
            raise ValidationError(FieldError(
                "size", f"size must be a positive number or \"auto\", got {size!r:.40}"))
        return _positive_usd("size", size, upper)
    if size_usd is None:
        raise ValidationError(FieldError(
            "size_usd", "size_usd must be a positive number; required unless size is given "
                        "(a number or \"auto\")"))
    return _positive_usd("size_usd", size_usd, upper)


def next_boundary(now: datetime, every_minutes: int = BOUNDARY_MINUTES) -> datetime:
    """The first UTC multiple of ``every_minutes`` strictly after ``now``."""
    now = utc(now)
    floor = now.replace(minute=now.minute - now.minute % every_minutes, second=0, microsecond=0)
    return floor + timedelta(minutes=every_minutes)


def entry_duration_minutes(
    now: datetime,
    *,
    every_minutes: int = BOUNDARY_MINUTES,
    safety: timedelta = timedelta(seconds=30),
    min_duration: timedelta = timedelta(minutes=1),
) -> float:
    """Window (minutes) that ends ``safety`` before the next boundary.

    When less than ``min_duration`` would be left (a signal at 10:14:45), the entry targets the
    boundary after (it then completes before 10:30).
    """
    boundary = next_boundary(now, every_minutes)
    window = boundary - safety - utc(now)
    if window < min_duration:
        window += timedelta(minutes=every_minutes)
    return window / timedelta(minutes=1)


def exit_duration_minutes(now: datetime, deadline: datetime, *,
                          safety: timedelta = EXIT_SAFETY,
                          min_duration: timedelta = MIN_EXIT_WINDOW) -> float:
    """Window (minutes) of an automatic exit sent at ``now`` that must be complete by
    ``deadline``: it ends ``safety`` before the deadline; past it (an engine that was down at
    the deadline) the exit still gets ``min_duration`` and is sent at once."""
    window = max(utc(deadline) - safety - utc(now), min_duration)
    return window / timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class OpenEntry:
    """An entry parent and what it has filled so far."""

    parent_id: str
    symbol: str
    side: Side
    quantity: Decimal  # filled so far
    first_fill_at: datetime | None

    @property
    def exit_deadline(self) -> datetime | None:
        """When the position must be closed (None before the first fill)."""
        return None if self.first_fill_at is None else self.first_fill_at + EXIT_AFTER


@dataclass(frozen=True, slots=True)
class DueExit:
    """An automatic exit to send now: ``side`` (opposite of the entry) for ``quantity``, to be
    complete by ``deadline`` (it was due to start at ``due_at``)."""

    entry_parent_id: str
    symbol: str
    side: Side
    quantity: Decimal
    due_at: datetime
    deadline: datetime
    reason: str


class SignalBook:
    """Tracks entries and produces their automatic exits (each at most once)."""

    def __init__(self, exit_after: timedelta = EXIT_AFTER,
                 exit_window: timedelta = EXIT_WINDOW) -> None:
        if not timedelta(0) <= exit_window < exit_after:
            raise ValueError(f"exit_window {exit_window} must be shorter than exit_after "
                             f"{exit_after}")
        self.exit_after = exit_after
        self.exit_window = exit_window
        self._entries: dict[str, OpenEntry] = {}

    def register_entry(self, parent_id: str, symbol: str, side: Side) -> None:
        """An entry parent was created."""
        self._entries[parent_id] = OpenEntry(parent_id, symbol, side, ZERO, None)

    def restore(self, entry: OpenEntry) -> None:
        """An entry read back from the database after a restart (fills so far included)."""
        self._entries[entry.parent_id] = entry

    def _start_at(self, first_fill_at: datetime) -> datetime:
        return first_fill_at + self.exit_after - self.exit_window

    def on_entry_fill(self, parent_id: str, quantity: Decimal, ts: datetime) -> None:
        """A fill of an entry parent (ignored for unknown parents, e.g. exits)."""
        entry = self._entries.get(parent_id)
        if entry is None:
            return
        first = entry.first_fill_at or utc(ts)
        self._entries[parent_id] = replace(entry, quantity=entry.quantity + quantity,
                                           first_fill_at=first)

    def on_entry_ended(self, parent_id: str) -> None:
        """The entry parent ended; one that filled nothing has no position to close."""
        entry = self._entries.get(parent_id)
        if entry is not None and entry.quantity <= 0:
            del self._entries[parent_id]

    def on_exit_signal(self, symbol: str) -> list[OpenEntry]:
        """An exit signal came: its entries no longer get an automatic exit; returns them."""
        closed = [e for e in self._entries.values() if e.symbol == symbol]
        for entry in closed:
            del self._entries[entry.parent_id]
        return closed

    def open_entries(self, symbol: str | None = None) -> list[OpenEntry]:
        """Entries still waiting for their exit."""
        return [e for e in self._entries.values() if symbol is None or e.symbol == symbol]

    def next_due_at(self) -> datetime | None:
        """When the earliest pending automatic exit is due to start."""
        times = [self._start_at(e.first_fill_at) for e in self._entries.values()
                 if e.first_fill_at is not None]
        return min(times) if times else None

    def due_exits(self, now: datetime) -> list[DueExit]:
        """Exits due to start at ``now`` (in due order); each is returned once and then
        forgotten."""
        now = utc(now)
        due: list[DueExit] = []
        minutes = self.exit_after / timedelta(minutes=1)
        for entry in list(self._entries.values()):
            if entry.first_fill_at is None or entry.quantity <= 0:
                continue
            due_at = self._start_at(entry.first_fill_at)
            if due_at <= now:
                del self._entries[entry.parent_id]
                due.append(DueExit(entry.parent_id, entry.symbol, entry.side.opposite,
                                   entry.quantity, due_at, entry.first_fill_at + self.exit_after,
                                   f"automatic exit, complete by {minutes:.0f} min after the "
                                   "entry's first fill"))
        return sorted(due, key=lambda d: d.due_at)
