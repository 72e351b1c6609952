"""The notification centre's pure view and its callbacks, called as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash
import pytest

from components.alerts import alerts_view, toggle_alerts
from oms.alerts.model import Alert, AlertKind, Severity
from oms.alerts.notify import NotifierStats

T0 = datetime(2026, 12, 1, 16, 58, 3, tzinfo=UTC)


def _alerts(*severities: Severity) -> tuple[Alert, ...]:
    made = [Alert(i + 1, AlertKind.HALT, s, f"t{i + 1}", "m", T0, T0, "x")
            for i, s in enumerate(severities)]
    return tuple(reversed(made))  # newest first, as the feed publishes them


def test_the_badge_counts_unseen_alerts_and_turns_red_on_a_critical_one() -> None:
    alerts = _alerts(Severity.CRITICAL, Severity.INFO, Severity.WARNING)

    none_seen = alerts_view(alerts, 0, None)
    first_seen = alerts_view(alerts, 1, None)
    all_seen = alerts_view(alerts, 3, None)

    assert (none_seen.badge, none_seen.badge_class) == ("3", "alerts-badge alerts-badge-critical")
    assert (first_seen.badge, first_seen.badge_class) == ("2", "alerts-badge")
    assert all_seen.badge == "" and "alerts-badge-empty" in all_seen.badge_class


def test_items_are_newest_first_with_utc_time_and_severity() -> None:
    view = alerts_view(_alerts(Severity.INFO, Severity.CRITICAL), 1, None)

    assert [(i.alert_id, i.severity, i.unseen) for i in view.items] == [
        (2, "CRITICAL", True), (1, "INFO", False)]
    assert view.items[0].time == "2026-12-01 16:58:03 UTC"


def test_the_footer_shows_destinations_redacted_and_the_counters() -> None:
    stats = NotifierStats(("json://127.0.0.1:9000/…",), 1, 5, 0, 2, 3)

    footer = alerts_view((), 0, stats).footer

    assert footer.startswith("sending to json://127.0.0.1:9000/…")
    assert "2 dropped" in footer and "3 rate-limited" in footer
    assert "OMS_ALERTS__URLS" in alerts_view((), 0, None).footer


@pytest.mark.parametrize("clicks", [None, 0, -1, "1"])
def test_a_malformed_click_changes_nothing(clicks: Any) -> None:
    with pytest.raises(dash.exceptions.PreventUpdate):
        toggle_alerts(clicks, "alerts-panel")


def test_closing_the_panel_keeps_what_was_seen() -> None:
    assert toggle_alerts(2, "alerts-panel open") == ("alerts-panel", dash.no_update)
