"""Real-browser test of "Resubmit remaining": kill, resume, resubmit a halted parent from
/orders, and see the new parent WORKING."""

from __future__ import annotations

from typing import Any

import pytest
from dash.testing.wait import until
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from ui_helpers import text_now

pytestmark = pytest.mark.browser


def _click_parent(dash_duo: Any, parent_id: str) -> bool:
    """Click the row of ``parent_id``; False (try again) if the grid re-rendered under us."""
    try:
        dash_duo.driver.find_element(
            By.XPATH, f"//*[@id='parent-orders-grid']//div[@row-id='{parent_id}']"
                      "//div[@col-id='symbol']").click()
    except (StaleElementReferenceException, NoSuchElementException):  # not rendered yet
        return False
    return True


def test_kill_resume_then_resubmit_remaining_starts_a_working_parent(
        dash_duo: Any, live_app: Any) -> None:
    # Arrange: a TWAP parent halted by the kill switch, then trading resumed
    oms = live_app.server.config["OMS"]
    old_id = oms.service.submit_order("BTCUSDT", "BUY", "0.2", "twap", 30,
                                      actor="desk").parent_ids[0]
    oms.service.kill("desk drill", actor="desk")
    until(lambda: oms.service.parent_orders(state="HALTED").total == 1, timeout=15)
    until(lambda: not oms.engine.open_children, timeout=15)
    oms.service.resume("drill over", actor="desk")
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/orders")
    dash_duo.wait_for_contains_text("#parent-orders-grid", "HALTED", timeout=15)

    # Act: select it, press "Resubmit remaining" and confirm
    until(lambda: _click_parent(dash_duo, old_id), timeout=15)
    button = dash_duo.find_element("#resubmit-parent")
    until(lambda: button.is_enabled(), timeout=15)
    dash_duo.driver.execute_script("window.confirm = function () { return true; };")
    button.click()

    # Assert: the feedback names the new parent, which works; the old one links to it
    dash_duo.wait_for_contains_text("#resubmit-feedback", f"Resubmitted {old_id} as", timeout=15)
    new_id = text_now(dash_duo, "#resubmit-feedback").strip().rsplit(" ", 1)[-1]
    assert new_id != old_id
    until(lambda: oms.service.parent_orders(state="WORKING").total == 1, timeout=15)
    assert oms.service.parent_orders(state="WORKING").rows[0]["parent_id"] == new_id
    dash_duo.wait_for_contains_text("#parent-detail", new_id, timeout=15)
    assert "resubmitted as" in text_now(dash_duo, "#parent-detail").lower()
    until(lambda: not button.is_enabled(), timeout=15)  # no second resubmit offered
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []
