"""The submit confirmation and the pre-trade estimate on the rebalance page, and the cancel
confirmation on the orders page, tested by calling the callbacks."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import dash
import pytest
from ui_helpers import text_of, ticking_app

from pages import orders, rebalance

TARGETS = "BTCUSDT 3000\nETHUSDT 2000\nSOLUSDT 1000"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[dash.Dash]:
    """An app with a ticking engine on its own database (market clock 120x)."""
    with ticking_app(tmp_path / "confirm.db") as application:
        yield application


def _parents(app: dash.Dash) -> int:
    total: int = app.server.config["OMS"].service.parent_orders().total
    return total


def test_invalid_input_shows_the_errors_at_once_and_no_confirmation(app: dash.Dash) -> None:
    # Act
    feedback, hidden, body = rebalance.request_rebalance(1, "BTCUSDT 3000\nFOOUSDT 5", "twap",
                                                         0, 0.5)

    # Assert
    shown = text_of(feedback)
    assert "line 2 (FOOUSDT)" in shown and "duration" in shown and "nothing submitted" in shown
    assert hidden is True and body is dash.no_update


def test_a_refused_plan_shows_the_breach_and_no_confirmation(app: dash.Dash) -> None:
    feedback, hidden, _ = rebalance.request_rebalance(1, "BTCUSDT 50000", "twap", 30, 0.5)
    assert "POSITION_LIMIT" in text_of(feedback) and hidden is True


def test_valid_input_opens_the_confirmation_with_the_estimate_then_confirm_submits(
        app: dash.Dash) -> None:
    # Act: submit opens the confirmation (a 3-minute TWAP: one child per parent)
    feedback, hidden, body = rebalance.request_rebalance(1, TARGETS, "twap", 3, 0.5)
    time.sleep(0.2)
    before = _parents(app)
    confirmed = rebalance.submit_rebalance(1, TARGETS, "twap", 3, 0.5)

    # Assert
    shown = text_of(body)
    assert hidden is False and "nothing is sent yet" in text_of(feedback)
    assert "3 parent orders" in shown and "expected cost" in shown
    assert "ONE child for the whole quantity" in shown and "= 1 for 3 min" in shown
    assert "Spread / impact / fees USD" in shown
    # the schedule's times carry their date and zone, like the blotters (2024-03-04 14:05:09 UTC)
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\s+\(at once\)", shown)
    assert before == 0  # the confirmation sent nothing
    assert "Submitted 3 parent orders" in text_of(confirmed)


def test_back_closes_the_confirmation_and_sends_nothing(app: dash.Dash) -> None:
    rebalance.request_rebalance(1, TARGETS, "twap", 3, 0.5)
    feedback, hidden = rebalance.close_confirmation(1)
    time.sleep(0.2)
    assert hidden is True and "Not submitted" in text_of(feedback)
    assert _parents(app) == 0


def test_preview_shows_the_estimate(app: dash.Dash) -> None:
    table = rebalance.preview(1, TARGETS, "vwap", 0.5, 30)
    shown = text_of(table)
    assert "VWAP" in shown and "(est.)" in shown and "while it runs" in shown
    assert "Cost bps" in shown
    stamp = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC"
    assert re.search(f"{stamp}\\s+– {stamp}", shown)  # first and last child, date and zone


def test_a_negative_signal_size_says_it_must_be_positive(app: dash.Dash) -> None:
    for size in (-5, None):
        shown = text_of(rebalance.submit_signal(1, "ETHUSDT", "BUY", size, 0.6, 0.5, "entry"))
        assert "size_usd" in shown and "positive" in shown and "got None" not in shown


def test_the_cancel_confirmation_names_the_parent() -> None:
    assert "p-42" in orders.cancel_message({"parent_id": "p-42", "session_id": "s-1"})
    assert orders.cancel_message(None) == "No parent selected."


def test_the_resubmit_confirmation_names_the_parent() -> None:
    assert "p-42" in orders.resubmit_message({"parent_id": "p-42", "session_id": "s-1"})
    assert orders.resubmit_message(None) == "No parent selected."


def test_resubmit_is_offered_only_for_an_ended_parent_and_only_once(app: dash.Dash) -> None:
    # Arrange: a working TWAP parent
    service = app.server.config["OMS"].service
    result = service.submit_order("ETHUSDT", "BUY", "0.5", "twap", 30, actor="t")
    selected = {"parent_id": result.parent_ids[0], "session_id": result.session_id}
    assert orders.resubmit_disabled(selected, 1) is True  # working: not offered
    assert orders.resubmit_disabled(None, 1) is True

    # Act: cancel it, wait until its children are gone, resubmit from the page
    service.cancel_parent(result.parent_ids[0])
    deadline = time.monotonic() + 20
    while orders.resubmit_disabled(selected, 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    offered = orders.resubmit_disabled(selected, 1)
    feedback = orders.resubmit_parent(1, selected)
    while "still open" in text_of(feedback) and time.monotonic() < deadline:
        time.sleep(0.05)  # the venue has not confirmed the cancels yet
        feedback = orders.resubmit_parent(1, selected)

    # Assert: offered once, the feedback names the new parent, then no longer offered
    assert offered is False
    assert f"Resubmitted {result.parent_ids[0]} as p-" in text_of(feedback)
    assert orders.resubmit_disabled(selected, 1) is True
    again = orders.resubmit_parent(1, selected)
    assert "Resubmit failed" in text_of(again) and "already resubmitted" in text_of(again)
