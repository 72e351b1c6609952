"""Real-browser tests (dash[testing] + Debian chromium headless): the trader's main flows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dash.testing.wait import until
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

# No skip when chromium is missing: a missing install step must fail the build (``make test``
# installs Debian's chromium and chromium-driver first); deselect with ``-m "not browser"``.
pytestmark = pytest.mark.browser

TARGETS = "BTCUSDT 3000\nETHUSDT 2000\nSOLUSDT 1000"


def _severe(dash_duo: Any) -> list[Any]:
    return [entry for entry in (dash_duo.get_logs() or []) if entry.get("level") == "SEVERE"]


def _type(dash_duo: Any, selector: str, text: str) -> None:
    element = dash_duo.find_element(selector)
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.DELETE)
    element.send_keys(text)


def _grid_rows(dash_duo: Any, grid_id: str) -> int:
    return len(dash_duo.driver.find_elements(
        By.CSS_SELECTOR, f"#{grid_id} .ag-center-cols-container .ag-row"))


def _click_parent(dash_duo: Any, symbol: str) -> bool:
    """Click the parent row of ``symbol``; False (try again) if the grid re-rendered under us."""
    try:
        dash_duo.driver.find_element(
            By.XPATH, f"//*[@id='parent-orders-grid']//div[@col-id='symbol'][text()='{symbol}']",
        ).click()
    except StaleElementReferenceException:
        return False
    return True


def _overview(dash_duo: Any) -> tuple[str, list[str]]:
    """The working-parents panel's text and its fill-bar widths, read atomically."""
    text, widths = dash_duo.driver.execute_script(
        "const p = document.querySelector('#overview-parents');"
        "if (!p) { return ['', []]; }"
        "return [p.innerText,"
        " Array.from(p.querySelectorAll('.bar-qty')).map(b => b.style.width)];")
    return str(text), [str(w) for w in widths]


def _child_symbols(dash_duo: Any) -> set[str]:
    """Symbols shown in the child blotter (read in one script call: the grid refreshes)."""
    cells = dash_duo.driver.execute_script(  # the symbol column is pinned left
        "return Array.from(document.querySelectorAll("
        "'#child-orders-grid .ag-pinned-left-cols-container [col-id=\"symbol\"]'))"
        ".map(c => c.innerText);")
    return {str(c) for c in cells}


def _submit_rebalance(dash_duo: Any, duration: str = "2") -> None:
    dash_duo.wait_for_page(f"{dash_duo.server_url}/rebalance")
    dash_duo.wait_for_element("#rebalance-text")
    _type(dash_duo, "#rebalance-text", TARGETS)
    dash_duo.select_dcc_dropdown("#rebalance-algo", value="TWAP")
    _type(dash_duo, "#rebalance-duration", duration)


def _confirm(dash_duo: Any) -> None:
    """The confirmation a valid submit opens: wait for it, then confirm."""
    dash_duo.wait_for_element_by_css_selector("#rebalance-confirm-dialog:not([hidden])",
                                              timeout=15)
    dash_duo.find_element("#rebalance-confirm").click()


def _dialog_open(dash_duo: Any) -> bool:
    return bool(dash_duo.driver.execute_script(
        "const d = document.querySelector('#rebalance-confirm-dialog');"
        "return !!d && !d.hidden;"))


def test_submit_asks_for_confirmation_with_the_estimate(dash_duo: Any, live_app: Any,
                                                         screenshot_dir: Path) -> None:
    # Arrange
    dash_duo.start_server(live_app)
    dash_duo.wait_for_text_to_equal("#trading-state", "ACTIVE", timeout=10)
    _submit_rebalance(dash_duo, duration="3")

    # Act: submit opens the confirmation with the estimate; nothing is sent yet
    dash_duo.find_element("#rebalance-submit").click()
    dash_duo.wait_for_element_by_css_selector("#rebalance-confirm-dialog:not([hidden])",
                                              timeout=15)
    dash_duo.wait_for_contains_text("#rebalance-confirm-body", "expected cost", timeout=10)
    body = dash_duo.find_element("#rebalance-confirm-body").text
    # the desk's screen: a 1600x1000 viewport
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1600, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    dash_duo.driver.save_screenshot(str(screenshot_dir / "rebalance-confirm.png"))
    dash_duo.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    sent_before = live_app.server.config["OMS"].service.parent_orders().total

    # Assert: each parent's children and cost; a 3-minute TWAP is one child and says why
    for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
        assert symbol in body
    assert "ONE child for the whole quantity" in body
    assert "cost bps" in body.lower()  # the headers are upper-cased by the stylesheet
    assert sent_before == 0

    # Act: confirm
    dash_duo.find_element("#rebalance-confirm").click()

    # Assert: the feedback says what was submitted, the dialog is closed
    dash_duo.wait_for_contains_text("#rebalance-feedback", "Submitted 3 parent orders",
                                    timeout=15)
    assert not _dialog_open(dash_duo)
    assert _severe(dash_duo) == []


def test_rebalance_fills_and_kill_switch_halts(dash_duo: Any, live_app: Any,
                                               screenshot_dir: Path) -> None:
    # Arrange
    dash_duo.start_server(live_app)
    dash_duo.wait_for_text_to_equal("#trading-state", "ACTIVE", timeout=10)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "overview-empty.png"))

    # Act: submit a rebalance through the form
    _submit_rebalance(dash_duo)
    dash_duo.find_element("#rebalance-submit").click()
    _confirm(dash_duo)

    # Assert: three parents submitted, visible on /orders with their children
    dash_duo.wait_for_contains_text("#rebalance-feedback", "Submitted 3 parent orders",
                                    timeout=15)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "rebalance-submitted.png"))
    dash_duo.wait_for_page(f"{dash_duo.server_url}/orders")
    dash_duo.wait_for_contains_text("#parent-orders-grid", "BTCUSDT", timeout=15)
    dash_duo.wait_for_contains_text("#child-orders-grid", "BTCUSDT", timeout=15)
    assert _grid_rows(dash_duo, "parent-orders-grid") == 3
    dash_duo.driver.save_screenshot(str(screenshot_dir / "orders.png"))

    # Act: the kill switch
    dash_duo.find_element("#kill-switch").click()

    # Assert
    dash_duo.wait_for_text_to_equal("#trading-state", "HALTED", timeout=10)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "orders-halted.png"))
    assert _severe(dash_duo) == []


def test_full_session_preview_fills_tca_and_resume(dash_duo: Any, live_app: Any,
                                                    screenshot_dir: Path) -> None:
    # Arrange
    dash_duo.start_server(live_app)
    dash_duo.wait_for_text_to_equal("#trading-state", "ACTIVE", timeout=10)
    _submit_rebalance(dash_duo)

    # Act: preview, then submit
    dash_duo.find_element("#rebalance-preview").click()
    dash_duo.wait_for_contains_text("#rebalance-preview-table", "ETHUSDT", timeout=10)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "rebalance-preview.png"))
    dash_duo.find_element("#rebalance-submit").click()
    _confirm(dash_duo)
    dash_duo.wait_for_contains_text("#rebalance-feedback", "Submitted 3 parent orders",
                                    timeout=15)

    # Assert: the overview shows the parents filled to 100 % and fills
    dash_duo.wait_for_page(f"{dash_duo.server_url}/")
    # the panel re-renders every second: read it in one script call, never via stale elements
    until(lambda: _overview(dash_duo)[0].count("COMPLETED") == 3, timeout=30)
    assert _overview(dash_duo)[1] == ["100%"] * 3
    dash_duo.wait_for_contains_text("#overview-fills", "BTCUSDT", timeout=10)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "overview.png"))

    # Act + Assert: selecting a parent on /orders shows its detail, fills and only its children
    dash_duo.wait_for_page(f"{dash_duo.server_url}/orders")
    dash_duo.wait_for_contains_text("#parent-orders-grid", "ETHUSDT", timeout=15)
    until(lambda: _click_parent(dash_duo, "ETHUSDT"), timeout=10)
    dash_duo.wait_for_contains_text("#parent-detail", "ETHUSDT", timeout=10)
    dash_duo.wait_for_element("#parent-fills tbody td.num", timeout=10)  # at least one fill
    until(lambda: _child_symbols(dash_duo) == {"ETHUSDT"}, timeout=10)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "orders-selected.png"))

    # Assert: the TCA page draws its charts for the finished session
    dash_duo.wait_for_page(f"{dash_duo.server_url}/tca")
    dash_duo.wait_for_element("#tca-execution-chart .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#tca-summary", "SHORTFALL", timeout=30)
    dash_duo.wait_for_element("#tca-waterfall .main-svg", timeout=10)
    dash_duo.wait_for_element("#tca-download-json")
    dash_duo.driver.save_screenshot(str(screenshot_dir / "tca.png"))
    dash_duo.find_element("#tca-download-json").click()
    downloads = Path(dash_duo.download_path)
    until(lambda: any(downloads.glob("execution-report-*.json")), timeout=10)
    report = json.loads(next(downloads.glob("execution-report-*.json")).read_text())
    assert len(report["parents"]) == 3

    # Act + Assert: kill switch shows HALTED on every page, resume brings back ACTIVE
    dash_duo.wait_for_page(f"{dash_duo.server_url}/risk")
    dash_duo.wait_for_element("#breaker-high-slippage")
    dash_duo.find_element("#kill-switch").click()
    dash_duo.wait_for_text_to_equal("#trading-state", "HALTED", timeout=10)
    for path in ("/", "/rebalance", "/orders", "/tca", "/risk"):
        dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_text_to_equal("#trading-state", "HALTED", timeout=10)
    for breaker in ("slippage", "rejection", "latency"):
        assert dash_duo.find_element(f"#breaker-high-{breaker}").text == "ARMED"
    assert dash_duo.find_element("#breaker-market-stress").text == "ARMED"
    dash_duo.wait_for_contains_text("#risk-violations-grid", "KILL", timeout=10)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "risk-halted.png"))
    _type(dash_duo, "#resume-reason", "checked positions, resuming")
    dash_duo.find_element("#resume-trading").click()
    dash_duo.wait_for_text_to_equal("#trading-state", "ACTIVE", timeout=10)
    dash_duo.driver.save_screenshot(str(screenshot_dir / "risk.png"))
    assert _severe(dash_duo) == []


def test_bad_input_shows_per_line_errors_and_submits_nothing(dash_duo: Any, live_app: Any,
                                                             screenshot_dir: Path) -> None:
    # Arrange
    dash_duo.start_server(live_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/rebalance")
    dash_duo.wait_for_element("#rebalance-text")
    _type(dash_duo, "#rebalance-text", "BTCUSDT 3000\nbtcusdt abc\nFOOUSDT -5\nETHUSDT nan")
    _type(dash_duo, "#rebalance-duration", "0")

    # Act
    dash_duo.find_element("#rebalance-submit").click()

    # Assert
    dash_duo.wait_for_contains_text("#rebalance-feedback", "nothing submitted", timeout=10)
    text = dash_duo.find_element("#rebalance-feedback").text
    assert "FOOUSDT" in text and "ETHUSDT" in text and "duration" in text
    assert not _dialog_open(dash_duo)  # input that cannot be sent asks for no confirmation
    dash_duo.driver.save_screenshot(str(screenshot_dir / "rebalance-errors.png"))
    assert live_app.server.config["OMS"].service.parent_orders().total == 0
    assert _severe(dash_duo) == []
