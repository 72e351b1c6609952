"""Signal entry timing (before the next 15-minute boundary) and the 180-minute automatic exit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from oms.errors import ValidationError
from oms.model.enums import Side
from oms.signals import (
    EXIT_AFTER,
    EXIT_SAFETY,
    EXIT_WINDOW,
    OpenEntry,
    SignalBook,
    entry_duration_minutes,
    exit_duration_minutes,
    next_boundary,
    parse_signal_size,
)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2024, 3, 4, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "boundary"),
    [(at(10, 0), at(10, 15)), (at(10, 14, 59), at(10, 15)), (at(10, 15), at(10, 30)),
     (at(10, 52, 7), at(11, 0)), (at(23, 50), datetime(2024, 3, 5, 0, 0, tzinfo=UTC))],
)
def test_next_boundary_is_the_next_quarter_hour(now: datetime, boundary: datetime) -> None:
    assert next_boundary(now) == boundary


@pytest.mark.parametrize(
    ("now", "minutes"),
    [(at(10, 0), 14.5), (at(10, 7, 30), 7.0), (at(10, 13, 30), 1.0), (at(10, 14, 0), 15.5)],
)
def test_entry_completes_30_s_before_the_boundary(now: datetime, minutes: float) -> None:
    duration = entry_duration_minutes(now)

    assert duration == pytest.approx(minutes)
    end = now + timedelta(minutes=duration)
    assert end.minute % 15 == 14 and end.second == 30


def test_naive_times_are_taken_as_utc() -> None:
    assert next_boundary(datetime(2024, 3, 4, 10, 1)) == at(10, 15)


def test_exit_starts_15_minutes_before_the_180_minute_deadline_of_the_first_fill() -> None:
    book = SignalBook()
    book.register_entry("e1", "BTCUSDT", Side.BUY)
    book.on_entry_fill("e1", Decimal("0.01"), at(10, 2))
    book.on_entry_fill("e1", Decimal("0.02"), at(10, 9))

    early = book.due_exits(at(12, 46, 59))
    due = book.due_exits(at(12, 47))
    again = book.due_exits(at(14, 0))

    assert early == []
    assert len(due) == 1
    assert due[0].side is Side.SELL and due[0].quantity == Decimal("0.03")
    assert due[0].deadline == at(10, 2) + EXIT_AFTER == at(13, 2)
    assert due[0].due_at == at(13, 2) - EXIT_WINDOW
    assert again == []  # handed out once


def test_exit_window_ends_before_the_deadline_and_a_late_exit_still_gets_a_minute() -> None:
    deadline = at(13, 2)
    on_time = exit_duration_minutes(at(12, 47), deadline)
    late = exit_duration_minutes(at(13, 30), deadline)

    assert at(12, 47) + timedelta(minutes=on_time) == deadline - EXIT_SAFETY
    assert late == pytest.approx(1.0)


def test_a_restored_entry_is_owed_its_exit() -> None:
    book = SignalBook()
    book.restore(OpenEntry("e1", "ETHUSDT", Side.BUY, Decimal("2"), at(10, 0)))

    assert book.next_due_at() == at(12, 45)
    assert [d.quantity for d in book.due_exits(at(12, 45))] == [Decimal("2")]


def test_exit_window_must_be_shorter_than_the_holding_period() -> None:
    with pytest.raises(ValueError, match="exit_window"):
        SignalBook(exit_after=timedelta(minutes=10), exit_window=timedelta(minutes=10))


def test_exit_signal_first_cancels_the_automatic_exit() -> None:
    book = SignalBook()
    book.register_entry("e1", "ETHUSDT", Side.SELL)
    book.register_entry("e2", "BTCUSDT", Side.BUY)
    book.on_entry_fill("e1", Decimal("1"), at(10, 0))
    book.on_entry_fill("e2", Decimal("0.1"), at(10, 0))

    closed = book.on_exit_signal("ETHUSDT")
    due = book.due_exits(at(14, 0))

    assert [e.parent_id for e in closed] == ["e1"]
    assert [d.entry_parent_id for d in due] == ["e2"]


def test_unfilled_entry_has_no_exit_and_is_dropped_when_it_ends() -> None:
    book = SignalBook()
    book.register_entry("e1", "BTCUSDT", Side.BUY)

    assert book.due_exits(at(20, 0)) == []
    book.on_entry_ended("e1")
    assert book.open_entries() == []


def test_next_due_at_and_unknown_fills_ignored() -> None:
    book = SignalBook()
    book.register_entry("e1", "BTCUSDT", Side.BUY)
    book.on_entry_fill("exit-parent", Decimal("1"), at(9, 0))
    book.on_entry_fill("e1", Decimal("1"), at(10, 0))

    assert book.next_due_at() == at(12, 45)  # 15 minutes before the 13:00 deadline
    assert len(book.open_entries("BTCUSDT")) == 1


# -- the size a signal asks for ----------------------------------------------------------------


_UPPER = Decimal(1_000_000)


def test_signal_size_is_usd_or_a_number_or_auto() -> None:
    assert parse_signal_size(250, None, upper=_UPPER) == Decimal(250)
    assert parse_signal_size(None, "300.5", upper=_UPPER) == Decimal("300.5")
    assert parse_signal_size(None, " AUTO ", upper=_UPPER) is None


@pytest.mark.parametrize(("size_usd", "size", "field"), [
    (100, "auto", "size"), (None, "big", "size"), (None, -1, "size"), (None, True, "size"),
    (None, 0, "size"), (-5, None, "size_usd"), (None, None, "size_usd"),
    ("2e9", None, "size_usd"),
], ids=repr)
def test_bad_signal_size_is_refused_naming_the_field(size_usd: object, size: object,
                                                     field: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_signal_size(size_usd, size, upper=_UPPER)
    assert [e.field for e in err.value.errors] == [field]
