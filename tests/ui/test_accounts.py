"""Several accounts behind one dashboard (oms.directory): ``?account=`` on every REST call (an
unknown account is a 404 naming it, a malformed one a 422, nothing applied), the switcher's
cookie for the pages, the all-accounts overview, /metrics per account; and in a real browser the
switcher moves every page to the chosen account and the kill switch halts the account shown.

Two embedded OMS (each its own SQLite file and ticking engine) stand in for the accounts of a
web worker: the pages and the API only see the OmsDirectory protocol either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
from dash.testing.wait import until

from components.frame import kill_switch, refresh_frame, switch_account
from oms.bootstrap import Oms, build_oms
from oms.config import Settings
from oms.errors import FieldError, NotFound
from pages.accounts import refresh_accounts

ACCOUNTS = ("desk-a", "desk-b")


class TwoAccounts:
    """An OmsDirectory of embedded OMS, the first the default."""

    def __init__(self, served: dict[str, Oms]) -> None:
        self.served = served

    @property
    def default(self) -> str:
        return next(iter(self.served))

    def names(self) -> list[str]:
        return sorted(self.served)

    def get(self, name: str) -> Oms:
        if name not in self.served:
            raise NotFound(FieldError("account", f"no account {name!r:.70}"))
        return self.served[name]

    def close(self) -> None:
        for oms in self.served.values():
            oms.close()


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[dash.Dash, TwoAccounts]]:
    from app import create_app

    served = {name: build_oms(Settings(database_url=f"sqlite:///{tmp_path / name}.db",
                                       account=name, speed=120.0, tick_interval_ms=100))
              for name in ACCOUNTS}
    directory = TwoAccounts(served)
    for oms in served.values():
        oms.runtime.start()
    try:
        yield create_app(served["desk-a"].settings, directory=directory,
                         start_engine=False), directory
    finally:
        directory.close()


def _status(client: Any, query: str = "", **kwargs: Any) -> tuple[int, dict[str, Any]]:
    answer = client.get(f"/api/v1/status{query}", **kwargs)
    return answer.status_code, answer.get_json()


def test_the_account_argument_picks_the_account_and_an_unknown_one_is_a_404(
        two: tuple[dash.Dash, TwoAccounts]) -> None:
    app, directory = two
    client = app.server.test_client()
    until(lambda: all(_status(client, f"?account={a}")[0] == 200 for a in ACCOUNTS), timeout=20)

    # Act
    default = _status(client)
    chosen = _status(client, "?account=desk-b")
    ghost = _status(client, "?account=ghost")
    empty = _status(client, "?account=")
    overview = client.get("/api/v1/accounts").get_json()
    extra = client.post("/api/v1/kill?account=desk-b&force=1", json={"reason": "x"})

    # Assert
    assert default[1]["account"] == "desk-a" and chosen[1]["account"] == "desk-b"
    assert ghost[0] == 404 and "ghost" in ghost[1]["error"]
    assert ghost[1]["errors"][0]["field"] == "account"
    assert empty[0] == 422 and empty[1]["errors"][0]["field"] == "account"
    rows = {row["account"]: row for row in overview["accounts"]}
    assert list(rows) == list(ACCOUNTS) and rows["desk-a"]["default"] is True
    assert rows["desk-b"]["trading_state"] == "ACTIVE" and rows["desk-b"]["venue"] == "paper"
    assert extra.status_code == 422 and extra.get_json()["errors"][0]["field"] == "force"
    assert not directory.get("desk-b").gate.is_halted  # nothing applied


def test_a_kill_of_one_account_halts_it_alone(two: tuple[dash.Dash, TwoAccounts]) -> None:
    app, directory = two
    client = app.server.test_client()

    # Act
    killed = client.post("/api/v1/kill?account=desk-b", json={"reason": "b only"})

    # Assert
    assert killed.status_code == 200
    assert directory.get("desk-b").gate.is_halted
    assert not directory.get("desk-a").gate.is_halted
    until(lambda: _status(client, "?account=desk-b")[1]["trading_state"] == "HALTED", timeout=10)
    assert _status(client, "?account=desk-a")[1]["trading_state"] == "ACTIVE"
    refused = client.post("/api/v1/rebalance?account=desk-b",
                          json={"targets": {"BTCUSDT": 1000}, "algo": "twap"})
    assert refused.status_code == 409
    metrics_b = client.get("/metrics?account=desk-b").get_data(as_text=True)
    metrics_a = client.get("/metrics").get_data(as_text=True)
    assert 'oms_trading_state{state="HALTED"} 1.0' in metrics_b
    assert 'oms_trading_state{state="ACTIVE"} 1.0' in metrics_a
    assert client.get("/metrics?account=ghost").status_code == 404


def test_the_switchers_cookie_moves_the_pages_and_a_hostile_one_is_ignored(
        two: tuple[dash.Dash, TwoAccounts]) -> None:
    app, directory = two
    client = app.server.test_client()
    until(lambda: _status(client, "?account=desk-b")[0] == 200, timeout=20)

    client.set_cookie("oms_account", "desk-b")
    assert _status(client)[1]["account"] == "desk-b"
    client.set_cookie("oms_account", "<script>alert(1)</script>")
    assert _status(client)[1]["account"] == "desk-a"
    with app.server.test_request_context("/", headers={"Cookie": "oms_account=desk-b"}):
        frame = refresh_frame(1, None, "desk-a")
        assert frame[-3] == "desk-b"  # the switcher follows the account the pages show
        assert [o["value"] for o in frame[-4]] == list(ACCOUNTS)
        assert frame[-2] == "account-pick"  # shown: there is a choice
        assert "desk-b" in str(refresh_accounts(1))
        with pytest.raises(dash.exceptions.PreventUpdate):
            switch_account("ghost", "/orders")  # not served: nothing changes
        with pytest.raises(dash.exceptions.PreventUpdate):
            switch_account("desk-b", "/orders")  # already shown
        kill_switch(1, "desk-a")  # the account the switcher shows, not the cookie's
    assert directory.get("desk-a").gate.is_halted
    assert not directory.get("desk-b").gate.is_halted


@pytest.mark.browser
def test_the_switcher_moves_every_page_to_the_chosen_account_in_a_browser(
        dash_duo: Any, two: tuple[dash.Dash, TwoAccounts], screenshot_dir: Path) -> None:
    app, directory = two
    dash_duo.start_server(app)
    dash_duo.wait_for_text_to_equal("#trading-state", "ACTIVE", timeout=20)
    until(lambda: "desk-a" in dash_duo.find_element("#account-switcher").text, timeout=10)

    # Act: choose desk-b in the frame's switcher
    dash_duo.find_element("#account-switcher").click()
    option = until(lambda: next((e for e in dash_duo.driver.find_elements(
        "css selector", "[role='option']") if "desk-b" in e.text), None), timeout=10)
    option.click()
    until(lambda: "account=desk-b" in dash_duo.driver.current_url, timeout=10)
    until(lambda: "desk-b" in dash_duo.find_element("#account-switcher").text, timeout=10)

    # Assert: the accounts page marks desk-b as shown; the kill switch halts desk-b only
    dash_duo.driver.get(f"{dash_duo.server_url}/accounts")
    until(lambda: "shown" in dash_duo.find_element("#accounts-table").text, timeout=10)
    rows = dash_duo.find_element("#accounts-table").text
    assert "desk-a" in rows and "desk-b · shown" in rows
    dash_duo.driver.save_screenshot(str(screenshot_dir / "accounts.png"))
    dash_duo.find_element("#kill-switch").click()
    until(lambda: directory.get("desk-b").gate.is_halted, timeout=10)
    assert not directory.get("desk-a").gate.is_halted
    dash_duo.wait_for_text_to_equal("#trading-state", "HALTED", timeout=10)
    assert not [e for e in (dash_duo.get_logs() or []) if e.get("level") == "SEVERE"]
