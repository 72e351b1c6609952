"""UI test fixtures: an isolated app (own SQLite file, fast market clock) and headless Chromium
for dash[testing]'s ``dash_duo``."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # app.py, pages/ and components/ live at the repository root
    sys.path.insert(0, str(ROOT))

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"


def pytest_setup_options() -> Any:
    """Headless Chromium options for dash[testing] (Debian's chromium + chromedriver)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    binary = os.environ.get("DASH_TEST_CHROMEPATH") or shutil.which("chromium") or CHROMIUM
    if Path(binary).exists():
        options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--window-size=1600,1000", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    return options


# dash's runner numbers its servers from 58050, inside the kernel's ephemeral range, where any
# client socket (chromedriver's, a test's HTTP call) may hold the port; a failed bind makes it
# retry after injecting SystemExit into every thread started since, the engine's scheduler
# worker included, and the engine then never answers. Ours start below that range.
DASH_PORTS = range(21050, 21950)


def _free_port(start: int) -> int:
    """The first port from ``start`` (kept inside DASH_PORTS) nothing listens on."""
    port = start if start in DASH_PORTS else DASH_PORTS.start
    while port in DASH_PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                port += 1
                continue
        return port
    raise RuntimeError(f"no free port in {DASH_PORTS}")


@pytest.fixture(autouse=True)
def dash_port() -> None:
    """Point dash's next test server at a free port below the ephemeral range."""
    from dash.testing.application_runners import BaseDashRunner

    BaseDashRunner._next_port = _free_port(BaseDashRunner._next_port)


@pytest.fixture
def ui_settings(tmp_path: Path) -> Any:
    """Settings for a UI test: its own database, the market clock 120x wall time."""
    from oms.config import Settings

    return Settings(database_url=f"sqlite:///{tmp_path / 'ui.db'}", speed=120.0,
                    tick_interval_ms=100)


@pytest.fixture
def oms_app(ui_settings: Any) -> Iterator[tuple[Any, Any]]:
    """A dashboard with its engine ticking, and its OMS (to submit without the forms)."""
    from app import create_app
    from oms.bootstrap import build_oms

    oms = build_oms(ui_settings)
    try:
        yield create_app(ui_settings, oms, start_engine=True), oms
    finally:
        oms.close()


@pytest.fixture
def live_app(oms_app: tuple[Any, Any]) -> Any:
    """A dashboard with its engine ticking (closed after the test)."""
    return oms_app[0]


@pytest.fixture
def screenshot_dir() -> Path:
    """artifacts/screenshots (gitignored), created on demand."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
