"""Real browser: the TCA page of a small session (one MARKET parent, one child; then a short
TWAP) reads well. Screenshots (1600x1000) go to artifacts/screenshots/tca-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.browser


def _session(oms: Any, algo: str, minutes: float, quantity: str = "0.01") -> str:
    result = oms.service.submit_order("BTCUSDT", "BUY", quantity, algo, minutes, 0.5, actor="t")
    session_id: str = result.session_id
    until(lambda: oms.service.report(session_id) is not None, timeout=60)
    return session_id


def _show(dash_duo: Any, session_id: str, shot: Path) -> None:
    dash_duo.wait_for_page(f"{dash_duo.server_url}/tca?session={session_id}")
    dash_duo.wait_for_contains_text("#tca-summary", "SHORTFALL", timeout=30)
    dash_duo.wait_for_contains_text("#tca-legend", "of which fees", timeout=10)
    dash_duo.wait_for_element("#tca-execution-chart .main-svg", timeout=30)
    dash_duo.wait_for_element("#tca-slippage-histogram .main-svg", timeout=10)
    dash_duo.driver.save_screenshot(str(shot))
    dash_duo.driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    dash_duo.driver.save_screenshot(str(shot.with_name(shot.stem + "-lower.png")))
    dash_duo.driver.execute_script("window.scrollTo(0, 0)")


def test_small_sessions_read_well(dash_duo: Any, oms_app: tuple[Any, Any],
                                  screenshot_dir: Path) -> None:
    # Arrange
    app, oms = oms_app
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1600, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    dash_duo.start_server(app)
    market = _session(oms, "market", 1)
    twap = _session(oms, "twap", 5, "0.1")
    rebalance = oms.service.submit_rebalance("BTCUSDT 3000\nETHUSDT 2000\nSOLUSDT 1000", "twap",
                                             3, 0.5, actor="t").session_id
    until(lambda: oms.service.report(rebalance) is not None, timeout=60)

    # Act + Assert: one child, then a short TWAP
    _show(dash_duo, market, screenshot_dir / "tca-one-child.png")
    tile = dash_duo.driver.find_element(By.CSS_SELECTOR, "#tca-summary .kpi")
    assert "FEES INCLUDED" in (tile.get_attribute("title") or "")
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, "#tca-execution-chart .scatterlayer "
                                                          ".trace .js-line")
    bars = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#tca-waterfall .point")
    ActionChains(dash_duo.driver).move_to_element(bars[4]).perform()  # the Fees bar
    dash_duo.wait_for_contains_text("#tca-waterfall .hoverlayer", "commissions", timeout=5)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "tca-one-child-hover.png"))
    _show(dash_duo, twap, screenshot_dir / "tca-twap.png")
    _show(dash_duo, rebalance, screenshot_dir / "tca-rebalance.png")
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []


def test_two_thousand_fills_draw_with_webgl(dash_duo: Any, screenshot_dir: Path) -> None:
    # Arrange: the charts of a 2,000-fill report on a bare page
    import dash
    from dash import dcc, html
    from test_tca_charts import big_report

    from components.tca_charts import execution_chart, slippage_histogram

    report = big_report()
    app = dash.Dash(__name__)
    app.layout = html.Div([
        dcc.Graph(id="execution", figure=execution_chart(report, "p1")),
        dcc.Graph(id="slippage", figure=slippage_histogram(report, "p1"))])
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1600, "height": 1000, "deviceScaleFactor": 1, "mobile": False})

    # Act
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#execution .main-svg", timeout=30)
    dash_duo.wait_for_element("#slippage .main-svg", timeout=10)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "tca-2000-fills.png"))

    # Assert: the fills are on a WebGL canvas, not 2,000 SVG paths
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, "#execution canvas")
    assert len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#execution .point")) < 100
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []
