"""The dashboard's callbacks in a web worker of the split deployment (no engine inside): the
frame, the rebalance form, the overview and the kill switch work against a real ``oms engine``
through the commands and the snapshot row, as they do embedded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
from cluster_process import EngineProcess, cluster_database
from oms_harness import text_of, until

from components.frame import kill_switch, refresh_frame
from oms.accounts_overview import accounts_overview
from oms.cluster.accounts import add_account
from oms.cluster.web_directory import WebDirectory
from oms.config import Settings
from pages import overview, rebalance
from pages.accounts import refresh_accounts


@pytest.fixture
def app(tmp_path: Path) -> Iterator[dash.Dash]:
    from app import create_app

    with cluster_database("oms_pages") as url:
        engine = EngineProcess(url, tmp_path, speed=120)
        settings = Settings(database_url=url)
        directory = WebDirectory(settings)
        try:
            engine.wait_active(60)
            until(lambda: _has_snapshot(directory.get("main")))
            application = create_app(settings, directory=directory, start_engine=False)
            with application.server.test_request_context("/"):
                yield application
        finally:
            directory.close()
            engine.stop()


def _has_snapshot(web: Any) -> bool:
    try:
        web.service.snapshot()
    except Exception:  # not yet published
        return False
    return True


def test_the_pages_drive_a_remote_engine(app: dash.Dash) -> None:
    web = app.server.config["OMS"]

    # Act / Assert: the frame reads the engine's snapshot row
    assert refresh_frame(1, None)[0] == "ACTIVE"

    # the rebalance form submits through the commands table; the overview shows the fills
    message = rebalance.submit_rebalance(1, "BTCUSDT 3000", "market", 1, 0.9)
    assert "error" not in text_of(message).lower(), text_of(message)
    until(lambda: len(web.service.snapshot().recent_fills) >= 1)
    kpis, positions, _, fills = overview.refresh_overview(1)
    assert "BTCUSDT" in text_of(positions)
    assert "Equity" in text_of(kpis) and "BTCUSDT" in text_of(fills)

    # the kill switch is durable at once and the frame shows HALTED from the next snapshot
    action = kill_switch(1)
    assert web.repository.latest_trading_state()[0] == "HALTED"
    until(lambda: refresh_frame(2, action)[0] == "HALTED", timeout_s=5)

    # an account added while the worker runs is served at once; without an engine it says so
    directory = app.server.config["OMS_DIRECTORY"]
    add_account(directory.registry, "idle")
    until(lambda: "idle" in directory.names(), timeout_s=5)
    rows = {row.account: row for row in accounts_overview(directory)}
    assert rows["main"].engine == "running" and rows["main"].trading_state == "HALTED"
    assert rows["idle"].engine == "no engine yet" and rows["idle"].trading_state is None
    assert "idle" in text_of(refresh_accounts(1))
