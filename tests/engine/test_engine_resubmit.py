"""ResubmitRemaining: a new parent for exactly the unfilled rest of a halted/canceled parent,
once, through the same checks as any new parent; refused with the field named otherwise."""

from __future__ import annotations

from concurrent.futures import Future
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from oms_harness import OmsHarness, make_harness

from oms.errors import NotFound, TradingHalted, ValidationError
from oms.model import ParentState


def _answer(harness: OmsHarness, future: Future[Any]) -> Any:
    harness.tick()
    return future.result(timeout=5)


def _halted_parent(harness: OmsHarness, *, resume: bool = True) -> str:
    """A TWAP parent partly filled, then halted by the kill switch (and trading resumed)."""
    future = harness.service.submit_order("BTCUSDT", "BUY", "0.5", "twap", 10, wait=False)
    parent_id: str = _answer(harness, future).parent_ids[0]
    harness.run(120)
    harness.service.kill("drill", actor="desk")
    harness.run(10)
    if resume:
        _answer(harness, harness.service.resume("drill over", actor="desk", wait=False))
    return parent_id


def _parent(harness: OmsHarness, parent_id: str) -> dict[str, Any]:
    rows = harness.service.parent_orders(page_size=1000).rows
    return next(r for r in rows if r["parent_id"] == parent_id)


def test_resubmit_creates_one_parent_for_exactly_the_rest(tmp_path: Path) -> None:
    # Arrange: a halted parent with part of it filled
    harness = make_harness(tmp_path)
    old_id = _halted_parent(harness)
    old = _parent(harness, old_id)
    assert old["state"] == "HALTED"
    assert Decimal(0) < Decimal(old["filled_quantity"]) < Decimal(old["quantity"])

    # Act: two resubmits in the same tick
    first = harness.service.resubmit_remaining(old_id, actor="desk", wait=False)
    second = harness.service.resubmit_remaining(old_id, actor="desk", wait=False)
    harness.tick()

    # Assert: one new parent, the old rest exactly, same symbol/side/algo, the old horizon
    new_id = first.result(timeout=5).parent_ids[0]
    with pytest.raises(ValidationError) as refused:
        second.result(timeout=5)
    assert refused.value.errors[0].field == "parent_id"
    assert "already resubmitted" in refused.value.errors[0].message
    new = _parent(harness, new_id)
    assert Decimal(new["quantity"]) == Decimal(old["quantity"]) - Decimal(old["filled_quantity"])
    assert (new["symbol"], new["side"], new["algo"]) == ("BTCUSDT", "BUY", "twap")
    assert new["duration_minutes"] == old["duration_minutes"]
    assert ParentState(new["state"]) in (ParentState.PENDING, ParentState.WORKING)
    assert harness.service.resubmit_links(old_id) == {"resubmitted_as": new_id}
    assert harness.service.resubmit_links(new_id) == {"resubmitted_from": old_id}
    assert harness.service.sessions()[0]["params"]["resubmitted_from"] == old_id
    harness.run(30)
    assert _parent(harness, new_id)["state"] == "WORKING"
    harness.oms.close()


def test_resubmit_takes_a_new_horizon_and_survives_a_restart_as_done(tmp_path: Path) -> None:
    harness = make_harness(tmp_path)
    old_id = _halted_parent(harness)
    result = _answer(harness, harness.service.resubmit_remaining(old_id, 3, wait=False))
    assert _parent(harness, result.parent_ids[0])["duration_minutes"] == 3
    harness.oms.close()

    restarted = make_harness(tmp_path, token="r")  # the link is read back from the database
    with pytest.raises(ValidationError, match="already resubmitted"):
        _answer(restarted, restarted.service.resubmit_remaining(old_id, wait=False))
    restarted.oms.close()


def test_resubmit_is_refused_while_halted_working_unknown_or_completed(tmp_path: Path) -> None:
    harness = make_harness(tmp_path)
    old_id = _halted_parent(harness, resume=False)
    with pytest.raises(TradingHalted, match="resume"):
        _answer(harness, harness.service.resubmit_remaining(old_id, wait=False))
    _answer(harness, harness.service.resume("drill over", wait=False))
    with pytest.raises(NotFound) as unknown:
        _answer(harness, harness.service.resubmit_remaining("p-nope", wait=False))
    assert unknown.value.errors[0].field == "parent_id"

    working = _answer(harness, harness.service.submit_order(
        "ETHUSDT", "BUY", "1", "twap", 10, wait=False)).parent_ids[0]
    with pytest.raises(ValidationError, match="still working"):
        _answer(harness, harness.service.resubmit_remaining(working, wait=False))

    done = _answer(harness, harness.service.submit_order(
        "SOLUSDT", "BUY", "1", "market", 1, wait=False)).parent_ids[0]
    harness.run(20)
    assert _parent(harness, done)["state"] == "COMPLETED"
    with pytest.raises(ValidationError, match="COMPLETED"):
        _answer(harness, harness.service.resubmit_remaining(done, wait=False))
    with pytest.raises(ValidationError) as bad:
        harness.service.resubmit_remaining(old_id, "-5", wait=False)
    assert bad.value.errors[0].field == "duration_minutes"
    harness.oms.close()


def test_a_canceled_parent_with_nothing_filled_is_resubmitted_whole(tmp_path: Path) -> None:
    harness = make_harness(tmp_path)
    parent_id = _answer(harness, harness.service.submit_order(
        "ETHUSDT", "SELL", "0.7", "twap", 30, wait=False)).parent_ids[0]
    _answer(harness, harness.service.cancel_parent(parent_id, wait=False))
    harness.run(10)
    old = _parent(harness, parent_id)
    assert old["state"] == "CANCELED"
    new_id = _answer(harness, harness.service.resubmit_remaining(
        parent_id, wait=False)).parent_ids[0]
    new = _parent(harness, new_id)
    assert Decimal(new["quantity"]) == Decimal(old["quantity"]) - Decimal(old["filled_quantity"])
    assert new["side"] == "SELL"
    harness.oms.close()
