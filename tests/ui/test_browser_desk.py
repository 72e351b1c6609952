"""Real-browser tests of the desk's daily use: the P&L history survives a reload, and the
blotters say when they are empty, log no AG Grid warnings (on /orders and /risk) and fit 1366
and 1600 px screens with Session and End reason in view."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from dash.testing.wait import until
from ui_helpers import text_now

pytestmark = pytest.mark.browser

# console.warn / console.error kept in the page (dash[testing] only records SEVERE logs, and
# AG Grid's warnings, #25 among them, are console.warn)
_CAPTURE_CONSOLE = """
window.__consoleLines = [];
['warn', 'error'].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    window.__consoleLines.push(level + ': ' + Array.prototype.map.call(arguments, String)
                               .join(' '));
    return original.apply(console, arguments);
  };
});
"""


def _capture_console(dash_duo: Any) -> None:
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                    {"source": _CAPTURE_CONSOLE})


def _console(dash_duo: Any) -> list[str]:
    lines = dash_duo.driver.execute_script("return window.__consoleLines || [];")
    return [str(line) for line in lines]


def _chart_x(dash_duo: Any) -> list[str]:
    xs = dash_duo.driver.execute_script(
        "const g = document.querySelector('#overview-equity .js-plotly-plot');"
        "return g && g.data && g.data.length ? g.data[0].x : [];")
    return [str(x) for x in xs or []]


def _viewport(dash_duo: Any, width: int, height: int) -> None:
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def _layout(dash_duo: Any, grid_id: str) -> dict[str, Any]:
    """Where the grid's header cells are against the grid's own width."""
    layout: dict[str, Any] = dash_duo.driver.execute_script("""
        const grid = document.getElementById(arguments[0]);
        const box = grid.getBoundingClientRect();
        const viewport = grid.querySelector('.ag-center-cols-viewport');
        const out = {right: box.right, scrolls: viewport.scrollWidth > viewport.clientWidth + 1,
                     headers: {}};
        grid.querySelectorAll('.ag-header-cell[col-id]').forEach(function (cell) {
          const r = cell.getBoundingClientRect();
          out.headers[cell.getAttribute('col-id')] = {left: r.left, right: r.right,
                                                      width: r.width};
        });
        return out;""", grid_id)
    return layout


def test_the_pnl_chart_shows_the_stored_history_after_a_reload(
        dash_duo: Any, live_app: Any, screenshot_dir: Path) -> None:
    # Arrange: the engine (market 120x wall time) has sampled a while
    service = live_app.server.config["OMS"].service
    dash_duo.start_server(live_app)
    dash_duo.wait_for_text_to_equal("#trading-state", "ACTIVE", timeout=10)
    until(lambda: len(service.equity_history("session")) >= 20, timeout=20)
    first = service.equity_history("session")[0].ts

    # Act: reload the page (the browser's own memory of the chart is gone)
    dash_duo.driver.refresh()
    dash_duo.wait_for_element("#overview-equity .js-plotly-plot", timeout=10)
    until(lambda: len(_chart_x(dash_duo)) >= 20, timeout=10)

    # Assert: the chart starts at the run's first stored sample, not at the reload
    assert datetime.fromisoformat(_chart_x(dash_duo)[0]) == first
    dash_duo.driver.save_screenshot(str(screenshot_dir / "overview-history-reloaded.png"))
    assert dash_duo.get_logs() == []


def test_blotters_empty_then_full_fit_1366_and_1600_without_grid_warnings(
        dash_duo: Any, live_app: Any, screenshot_dir: Path) -> None:
    # Arrange
    oms = live_app.server.config["OMS"]
    _capture_console(dash_duo)
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/orders")

    # Assert: an empty blotter says so, and AG Grid's "Page 0 of 0" is not shown
    dash_duo.wait_for_text_to_equal("#parent-orders-empty", "no parent orders yet", timeout=15)
    assert "is-empty" in dash_duo.find_element("#parent-orders-box").get_attribute("class")
    paging = dash_duo.find_element("#parent-orders-grid .ag-paging-panel")
    assert paging.value_of_css_property("visibility") == "hidden"
    dash_duo.driver.save_screenshot(str(screenshot_dir / "orders-empty.png"))

    # Act: a rebalance, two single orders, one of them canceled
    oms.service.submit_rebalance("BTCUSDT 3000\nETHUSDT 2000\nSOLUSDT 1000", "twap", 20, 0.5,
                                 actor="desk")
    oms.service.submit_order("ETHUSDT", "SELL", "0.1", "market", actor="desk")
    doomed = oms.service.submit_order("BTCUSDT", "BUY", "0.01", "twap", 30, actor="desk")
    until(lambda: oms.service.parent_orders().total == 5, timeout=15)
    oms.service.cancel_parent(doomed.parent_ids[0], actor="desk")
    until(lambda: oms.service.parent_orders(state="CANCELED").total == 1, timeout=15)
    dash_duo.wait_for_contains_text("#parent-orders-grid", "CANCELED", timeout=15)
    dash_duo.wait_for_contains_text("#child-orders-grid", "BTCUSDT", timeout=15)

    # Assert: at both desk sizes every default column is in view, Session and End reason too
    for width, height in ((1366, 900), (1600, 1000)):
        _viewport(dash_duo, width, height)
        until(lambda w=width: dash_duo.driver.execute_script("return innerWidth;") == w,
              timeout=5)
        until(lambda: not _layout(dash_duo, "parent-orders-grid")["scrolls"], timeout=5)
        dash_duo.driver.save_screenshot(str(screenshot_dir / f"orders-{width}x{height}.png"))
        for grid_id, fields in (("parent-orders-grid", ("session_id", "end_reason")),
                                ("child-orders-grid", ("reason",))):
            layout = _layout(dash_duo, grid_id)
            assert not layout["scrolls"], (grid_id, width)
            for field in fields:
                header = layout["headers"][field]
                assert header["width"] >= 100 and header["right"] <= layout["right"] + 1
    assert "is-empty" not in dash_duo.find_element("#parent-orders-box").get_attribute("class")
    created = text_now(dash_duo, "#parent-orders-grid .ag-row [col-id='created']").strip()
    assert created.endswith(" UTC") and created[:2] == "20"

    # Act: a kill writes risk events, whose numeric ids the /risk grid uses as row ids
    oms.service.kill("desk drill", actor="desk")
    dash_duo.wait_for_page(f"{dash_duo.server_url}/risk")
    dash_duo.wait_for_contains_text("#risk-violations-grid", "KILL", timeout=15)

    # Assert: no AG Grid warning (#25: getRowId must return a string) and no error
    assert [line for line in _console(dash_duo) if "AG Grid" in line or "error" in line] == []
    assert dash_duo.get_logs() == []
