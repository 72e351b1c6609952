"""REST API of running reconciliation: GET /api/v1/reconciliation shows the open mismatches
with both views; POST /api/v1/reconciliation/<id>/resolve validates the body whole (errors name
the field, nothing applied) and applies the action."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from api_client import Api, api_settings
from oms_harness import until

from oms.venues.paper import PaperVenue


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    client = Api(api_settings(tmp_path, reconcile_interval_s=2))
    yield client
    client.oms.close()




def _deposit(api: Api, amount: Decimal) -> None:
    venue = api.oms.venue
    assert isinstance(venue, PaperVenue)
    totals = {a: b.total for a, b in venue.balances().items()}
    totals["USDT"] += amount
    venue.set_balances(totals)


def _open(api: Api) -> list[dict[str, Any]]:
    body = api.get("/reconciliation").get_json()
    mismatches: list[dict[str, Any]] = body["mismatches"]
    return mismatches


def test_reconciliation_lists_a_mismatch_and_resolve_applies_an_action(api: Api) -> None:
    # Arrange
    until(lambda: api.get("/reconciliation").get_json()["runs"] >= 1)
    _deposit(api, Decimal(1000))
    until(lambda: bool(_open(api)))
    (mismatch,) = _open(api)
    path = f"/reconciliation/{mismatch['mismatch_id']}/resolve"

    # Act
    no_action = api.post(path, {"reason": "x"})
    unknown_key = api.post(path, {"action": "adopt", "force": True})
    no_reason = api.post(path, {"action": "ignore"})
    bad_action = api.post(path, {"action": 3})
    wrong_kind = api.post(path, {"action": "cancel"})
    unknown_id = api.post("/reconciliation/rc-nope-1/resolve", {"action": "adopt"})
    still_open = _open(api)
    adopted = api.post(path, {"action": "adopt", "reason": "treasury deposit"})
    until(lambda: not _open(api))
    view = api.get("/reconciliation").get_json()

    # Assert
    assert mismatch["kind"] == "BALANCE_MISMATCH" and mismatch["subject"] == "USDT"
    assert mismatch["oms_view"] == "100000 USDT" and mismatch["venue_view"] == "101000 USDT"
    assert Decimal(mismatch["difference"]) == 1000
    assert mismatch["actions"] == ["adopt", "ignore"]
    for response, field in ((no_action, "action"), (unknown_key, "force"),
                            (no_reason, "reason"), (bad_action, "action"),
                            (wrong_kind, "action"), (unknown_id, "mismatch_id")):
        assert response.status_code == 422, response.get_data(as_text=True)
        assert field in [e["field"] for e in response.get_json()["errors"]]
    assert [m["mismatch_id"] for m in still_open] == [mismatch["mismatch_id"]]
    assert adopted.status_code == 200
    assert adopted.get_json()["action"] == "adopt" and "baseline" in adopted.get_json()["result"]
    assert {a: Decimal(v) for a, v in view["baseline"].items()} == {"USDT": 1000}
    assert view["enabled"] is True and view["interval_s"] == 2.0


def test_reconciliation_takes_get_and_resolve_takes_post(api: Api) -> None:
    assert api.post("/reconciliation", {}).status_code == 405
    assert api.get("/reconciliation/rc-1/resolve").status_code == 405
