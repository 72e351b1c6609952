"""Reports come after cancels: a tick that ends sessions, or one with cancels in flight, builds
no report, but no report waits longer than REPORT_PATIENCE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from oms.engine.reports import REPORT_PATIENCE, ReportBuilder

T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


class _Journal:
    def __init__(self) -> None:
        self.reports: list[str] = []

    def report(self, session_id: str, generated_at: datetime, report: dict[str, Any]) -> None:
        self.reports.append(session_id)


def _builder() -> tuple[ReportBuilder, _Journal]:
    journal = _Journal()
    builder = ReportBuilder(repository=None, journal=journal, market=None,  # type: ignore[arg-type]
                            venue_name="paper", trading_state=lambda: "ACTIVE")
    builder.build = lambda session_id, now: {"session_id": session_id}  # type: ignore[method-assign]
    return builder, journal


def test_the_tick_that_ends_a_session_builds_its_report_the_next_tick() -> None:
    builder, journal = _builder()
    builder.session_ended("s1", T0)
    builder.build_pending(now=T0)
    assert journal.reports == []
    builder.build_pending(now=T0 + timedelta(milliseconds=10))
    assert journal.reports == ["s1"]


def test_cancels_in_flight_hold_reports_back_for_a_while_only() -> None:
    builder, journal = _builder()
    builder.session_ended("s1", T0)
    builder.build_pending(busy=True, now=T0 + timedelta(seconds=1))
    assert journal.reports == []
    builder.build_pending(busy=True, now=T0 + REPORT_PATIENCE)
    assert journal.reports == ["s1"]


def test_sessions_ending_every_tick_do_not_starve_the_reports() -> None:
    builder, journal = _builder()
    now = T0
    for i in range(1000):
        builder.session_ended(f"s{i}", now)
        builder.build_pending(now=now)
        now += timedelta(milliseconds=100)
    assert journal.reports[:2] == ["s0", "s1"]
