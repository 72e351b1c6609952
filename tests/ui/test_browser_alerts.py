"""Real-browser test of the notification centre: parents completing and a kill from the frame
raise alerts the bell counts; its panel lists them newest first with UTC time and severity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dash.testing.wait import until

pytestmark = pytest.mark.browser


# the frame re-renders the badge and the list every refresh: read their text in one script
# (an element found first and read after a refresh is stale; ui_helpers.text_now)
def _panel_items(dash_duo: Any) -> list[str]:
    texts = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#alerts-list .alert-item'))"
        ".map(e => e.innerText);")
    return [str(text) for text in texts or []]


def _badge(dash_duo: Any) -> tuple[str, str]:
    """The badge's text and class, read at one instant."""
    found = dash_duo.driver.execute_script(
        "const e = document.querySelector('#alerts-badge');"
        "return e ? [e.innerText, e.className] : ['', ''];")
    return str(found[0]).strip(), str(found[1])


def test_the_bell_counts_alerts_and_the_panel_lists_them_newest_first(
        dash_duo: Any, live_app: Any, screenshot_dir: Path) -> None:
    oms = live_app.server.config["OMS"]
    dash_duo.start_server(live_app)
    dash_duo.wait_for_element("#alerts-button", timeout=20)
    assert _badge(dash_duo)[0] == ""  # nothing yet

    oms.service.submit_rebalance("BTCUSDT 3000\nETHUSDT 2000", algo="twap",
                                 duration_minutes=1, wait=True)
    until(lambda: sum(a.kind == "parent_completed" for a in oms.alerts.latest()) == 2,
          timeout=60)
    dash_duo.find_element("#kill-switch").click()
    until(lambda: _badge(dash_duo)[0] == "3", timeout=20)
    assert "alerts-badge-critical" in _badge(dash_duo)[1]

    dash_duo.find_element("#alerts-button").click()
    until(lambda: dash_duo.find_element("#alerts-panel").is_displayed(), timeout=10)
    until(lambda: len(_panel_items(dash_duo)) == 3, timeout=10)
    items = _panel_items(dash_duo)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "notification_centre.png"))

    assert items[0].startswith("CRITICAL") and "Trading HALTED" in items[0]
    assert "kill switch (dashboard)" in items[0]
    assert all(" UTC" in item for item in items)
    assert all(item.startswith("INFO") and "completed" in item for item in items[1:])
    until(lambda: _badge(dash_duo)[0] == "", timeout=10)  # now seen
    footer = dash_duo.find_element("#alerts-footer").text
    assert "OMS_ALERTS__URLS" in footer
    assert not [e for e in (dash_duo.get_logs() or []) if e.get("level") == "SEVERE"]
