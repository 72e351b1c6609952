"""Real browser: the TCA page of a small rebalance shows the estimate vs realised table, its
headers defined on hover, and the chart of expected ranges and realised dots. Screenshot
(1600x1000, scrolled to the table) in artifacts/screenshots/tca-estimate.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from ui_helpers import text_now

pytestmark = pytest.mark.browser


def test_the_estimate_vs_realised_table_and_chart_render(dash_duo: Any,
                                                         oms_app: tuple[Any, Any],
                                                         screenshot_dir: Path) -> None:
    # Arrange: a two-parent rebalance executed to its end
    app, oms = oms_app
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1600, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    dash_duo.start_server(app)
    session_id = oms.service.submit_rebalance("BTCUSDT 3000\nETHUSDT 2000", "twap", 4, 0.5,
                                              actor="t").session_id
    until(lambda: oms.service.report(session_id) is not None, timeout=60)

    # Act
    dash_duo.wait_for_page(f"{dash_duo.server_url}/tca?session={session_id}")
    until(lambda: "ETHUSDT" in text_now(dash_duo, "#tca-estimate-table"), timeout=30)
    dash_duo.wait_for_element("#tca-estimate-chart .main-svg", timeout=30)
    table = text_now(dash_duo, "#tca-estimate-table")
    headers = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#tca-estimate-table th")
    dots = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#tca-estimate-chart .scatterlayer "
                                                          ".trace .point")
    dash_duo.driver.execute_script(
        "document.querySelector('#tca-estimate-table').scrollIntoView({block: 'start'})")
    dash_duo.driver.save_screenshot(str(screenshot_dir / "tca-estimate.png"))

    # Assert: both parents, the marker, every header defined, 2 expected + 2 realised points
    assert "BTCUSDT" in table and ("within" in table or "outside" in table)
    assert "no estimate" not in table and "2 / 2" in table
    assert headers and all(len(h.get_attribute("title") or "") > 10 for h in headers)
    assert len(dots) == 4
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []
