"""The pre-trade estimate kept with each parent: the engine computes it when it creates the
parent, with the preview's own function and inputs, stores it beside the parent, and the
session's ExecutionReport sets it beside the realised cost; an estimate that cannot be computed
never stops a parent."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from oms_harness import OmsHarness, make_harness

import oms.engine.sessions as sessions
from oms.persistence import Database
from oms.persistence.estimates import parent_estimates

TARGETS = {"BTCUSDT": 2912.64, "ETHUSDT": 2000, "SOLUSDT": 1000}


def _submit_and_finish(harness: OmsHarness, algo: str = "twap", minutes: float = 4) -> Any:
    result = harness.service.submit_rebalance(TARGETS, algo, minutes, wait=False)
    harness.tick()  # the submit's tick: the market has not moved since the preview
    submitted = result.result(timeout=1)
    harness.run(minutes * 60 + 60)
    return submitted


def test_the_estimate_stored_at_creation_is_the_one_the_preview_shows(tmp_path: Path) -> None:
    # Arrange: the preview and the submit see the same tick
    harness = make_harness(tmp_path)
    harness.run(5)
    preview = {p.planned.symbol: p for p in
               harness.service.estimate_rebalance(TARGETS, "twap", 4).parents}

    # Act
    result = harness.service.submit_rebalance(TARGETS, "twap", 4, wait=False)
    harness.tick()
    parent_ids = result.result(timeout=1).parent_ids
    harness.oms.close()
    reopened = Database(f"sqlite:///{tmp_path / 'oms.db'}")  # what survives the process
    stored = parent_estimates(reopened, parent_ids)
    reopened.dispose()

    # Assert: one estimate per parent, the preview's numbers. The slice times of a TWAP are
    # jittered by the algorithm's seed: the preview plans every parent on the first parent's
    # seed, the engine on each parent's own, so the first parent of a fresh engine (the same
    # seed) matches on every figure, the others on all but the horizon's few seconds
    assert len(stored) == 3
    for estimate in stored.values():
        shown = preview[estimate["symbol"]]
        cost = shown.cost
        assert estimate["quantity"] == str(shown.planned.quantity)
        assert estimate["spread_bps"] == cost.spread_bps
        assert estimate["fees_bps"] == cost.fees_bps == 10.0
        assert estimate["planned_children"] == shown.schedule.count == 2
        assert math.isclose(estimate["total_bps"], cost.total_bps, abs_tol=0.01)
    first = stored[parent_ids[0]]
    shown = preview[first["symbol"]]
    cost = shown.cost
    assert (first["total_bps"], first["sd_bps"], first["impact_bps"], first["horizon_min"]) == (
        cost.total_bps, cost.sd_bps, cost.impact_bps, cost.horizon_min)
    assert first["range_1sd_bps"] == [cost.total_bps - cost.sd_bps, cost.total_bps + cost.sd_bps]
    assert first["first_at"] == shown.schedule.first_at.isoformat()
    assert first["last_at"] == shown.schedule.last_at.isoformat()


def test_the_report_sets_each_estimate_beside_the_realised_cost(tmp_path: Path) -> None:
    # Arrange / Act: a 4-minute TWAP rebalance run to its end
    harness = make_harness(tmp_path)
    harness.run(5)
    submitted = _submit_and_finish(harness)
    report = harness.service.report(submitted.session_id)
    stored = parent_estimates(harness.oms.database, submitted.parent_ids)
    children = harness.service.child_orders(page_size=1000).rows
    harness.oms.close()

    # Assert
    assert report is not None and len(report["parents"]) == 3
    for parent in report["parents"]:
        block = parent["estimate"]
        expected, realised = block["expected"], block["realised"]
        mine = stored[parent["parent_id"]]
        assert expected["total_bps"] == mine["total_bps"]
        assert expected["range_1sd_bps"] == mine["range_1sd_bps"]
        assert expected["planned_children"] == 2
        assert math.isclose(expected["execution_bps"], mine["spread_bps"] + mine["impact_bps"])
        tca = parent["tca"]
        assert realised["shortfall_bps"] == tca["implementation_shortfall_bps"]
        assert realised["fees_bps"] == tca["fees_bps"] and realised["fees_usd"] > 0
        assert realised["arrival_slippage_bps"] == parent["slippage_bps"]["arrival"]
        assert realised["children_sent"] == sum(
            1 for c in children if c["parent_id"] == parent["parent_id"] and c["sent_at"])
        assert block["difference_bps"] == realised["shortfall_bps"] - expected["total_bps"]
        low, high = expected["range_1sd_bps"]
        assert block["within_1sd"] is (low <= realised["shortfall_bps"] <= high)


def test_an_estimate_that_fails_never_stops_the_parent(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange: the cost model raises for every parent
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ZeroDivisionError("no market")

    monkeypatch.setattr(sessions, "parent_cost", broken)
    harness = make_harness(tmp_path)
    harness.run(5)

    # Act
    submitted = _submit_and_finish(harness, "market", 1)
    report = harness.service.report(submitted.session_id)
    stored = parent_estimates(harness.oms.database, submitted.parent_ids)
    harness.oms.close()

    # Assert: every parent traded, none has an estimate, the report says so
    assert len(submitted.parent_ids) == 3 and stored == {}
    assert report is not None
    assert {p["state"] for p in report["parents"]} == {"COMPLETED"}
    assert all(p["estimate"] is None for p in report["parents"])
