"""Strategy signals through the engine: entry timing and the automatic 180-minute exit."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from oms_harness import T_START, OmsHarness, make_harness

from oms.config import SizingSettings
from oms.errors import ValidationError


def signal(h: OmsHarness, kind: str, side: str = "BUY") -> object:
    future = h.service.submit_signal("ETHUSDT", side, 1500, confidence=0.6, urgency=0.5,
                                     kind=kind, wait=False)
    h.tick()
    return future.result(timeout=1)  # type: ignore[attr-defined]


def test_entry_completes_before_the_next_quarter_hour(harness: OmsHarness) -> None:
    harness.clock.advance(timedelta(minutes=3))  # 14:03
    result = signal(harness, "entry")
    harness.run(12 * 60)  # to 14:15
    parent = harness.service.parent_orders(session_id=result.session_id).rows[0]  # type: ignore[attr-defined]
    assert parent["state"] == "COMPLETED"
    assert parent["ended_at"] <= T_START + timedelta(minutes=15)
    assert parent["duration_minutes"] == pytest.approx(11.5, abs=0.01)  # ends 14:14:30


def _entry_and_first_fill(h: OmsHarness) -> tuple[dict[str, Any], datetime]:
    signal(h, "entry")
    h.run(15 * 60, step=5)
    entry = h.service.parent_orders().rows[0]
    first_fill = min(f.ts for f in h.service.fills(parent_id=entry["parent_id"]))
    return entry, first_fill


def _run_to(h: OmsHarness, when: datetime, step: float = 10) -> None:
    h.run((when - h.clock.now()).total_seconds(), step=step)


def test_entry_is_closed_complete_by_180_minutes_after_its_first_fill(
        harness: OmsHarness) -> None:
    entry, first_fill = _entry_and_first_fill(harness)
    _run_to(harness, first_fill + timedelta(minutes=164))
    assert harness.service.parent_orders().total == 1  # not yet
    _run_to(harness, first_fill + timedelta(minutes=180))
    rows = harness.service.parent_orders().rows
    assert len(rows) == 2
    exit_row = rows[0]
    assert exit_row["side"] == "SELL" and exit_row["quantity"] == entry["filled_quantity"]
    assert first_fill + timedelta(minutes=165) <= exit_row["created_at"]
    assert exit_row["created_at"] < first_fill + timedelta(minutes=166)
    assert exit_row["state"] == "COMPLETED"
    assert exit_row["filled_quantity"] == exit_row["quantity"]
    assert exit_row["ended_at"] <= first_fill + timedelta(minutes=180)  # closed, not started
    assert harness.service.snapshot().positions == () or all(
        p.quantity == 0 for p in harness.service.snapshot().positions)


def test_a_restart_keeps_the_exit_owed_to_an_open_entry(tmp_path: Path) -> None:
    first = make_harness(tmp_path)
    entry, first_fill = _entry_and_first_fill(first)
    _run_to(first, first_fill + timedelta(minutes=60), step=60)
    crashed_at = first.clock.now()
    first.oms.close()  # the entry's exit is owed only in the database now

    second = make_harness(tmp_path, start=crashed_at + timedelta(minutes=5), token="r")
    try:
        _run_to(second, first_fill + timedelta(minutes=180), step=10)
        rows = second.service.parent_orders().rows
        assert [r["side"] for r in rows] == ["SELL", "BUY"]
        assert rows[0]["state"] == "COMPLETED"
        assert rows[0]["quantity"] == entry["filled_quantity"]
        assert rows[0]["ended_at"] <= first_fill + timedelta(minutes=180)
        # and a second restart after the exit does not send another one
        again_at = second.clock.now()
    finally:
        second.oms.close()
    third = make_harness(tmp_path, start=again_at + timedelta(minutes=1), token="s")
    try:
        third.run(30 * 60, step=60)
        assert third.service.parent_orders().total == 2
    finally:
        third.oms.close()


def test_exit_signal_first_cancels_the_automatic_exit(harness: OmsHarness) -> None:
    signal(harness, "entry")
    harness.run(15 * 60, step=5)
    signal(harness, "exit", side="SELL")
    harness.run(200 * 60, step=60)
    assert harness.service.parent_orders().total == 2  # entry + the trader's exit, no auto exit


def test_bad_signal_names_every_field(harness: OmsHarness) -> None:
    with pytest.raises(ValidationError) as err:
        harness.service.submit_signal("NOPE", "UP", -1, 2, -1, kind="maybe", wait=False)
    fields = {e.field for e in err.value.errors}
    assert fields == {"symbol", "side", "kind", "size_usd", "confidence", "urgency"}


def test_auto_signal_is_sized_by_kelly_and_the_computation_is_kept(tmp_path: Path) -> None:
    # equity 10,000; quarter Kelly of 0.821 / 0.6: 0.130667; target vol 10/yr: scale 1
    h = make_harness(tmp_path, starting_balance=Decimal(10_000),
                     sizing=SizingSettings(target_volatility=Decimal(10)))
    try:
        future = h.service.submit_signal("ETHUSDT", "BUY", None, 0.6, 0.5, size="auto",
                                         wait=False)
        h.tick()
        result = future.result(timeout=1)  # type: ignore[attr-defined]
        h.tick()
        assert result.sizing["size_usd"] == "1306.67"
        assert result.sizing["full_kelly"] == "0.522667"
        assert Decimal(result.sizing["volatility_scale"]) == 1
        assert result.sizing["volatility_source"].startswith(("measured", "calibration"))
        parent = h.service.parent_orders(session_id=result.session_id).rows[0]
        mid = h.service.snapshot().mids["ETHUSDT"]
        assert abs(parent["quantity"] * mid - Decimal("1306.67")) <= mid * Decimal("0.001")
        (session,) = [s for s in h.service.sessions() if s["session_id"] == result.session_id]
        assert session["params"]["size"] == "auto"
        assert session["params"]["sizing"]["size_usd"] == "1306.67"
    finally:
        h.oms.close()


def test_auto_size_preview_creates_nothing_and_caps_at_the_order_limit(
        harness: OmsHarness) -> None:
    # equity 100,000: 13,066.70 x scale (< 1 for ETH at 0.5/yr) is above the 5,000 order cap
    future = harness.service.preview_signal("ETHUSDT", "BUY", None, 0.6, 0.5, size="auto",
                                            wait=False)
    harness.tick()
    sizing = future.result(timeout=1).sizing
    assert sizing["cap_usd"] == "5000" and sizing["cap_applied"] is True
    assert sizing["size_usd"] == "5000.00"
    assert harness.service.parent_orders().total == 0


def test_a_restart_after_the_traders_exit_owes_no_automatic_exit(tmp_path: Path) -> None:
    first = make_harness(tmp_path)
    _entry_and_first_fill(first)
    signal(first, "exit", side="SELL")
    first.run(60, step=5)
    crashed_at = first.clock.now()
    first.oms.close()

    second = make_harness(tmp_path, start=crashed_at + timedelta(minutes=1), token="r")
    try:
        second.run(190 * 60, step=60)
        assert second.service.parent_orders().total == 2  # entry + the trader's exit only
    finally:
        second.oms.close()


def test_an_exit_due_while_halted_waits_for_the_resume(harness: OmsHarness) -> None:
    _, first_fill = _entry_and_first_fill(harness)
    _run_to(harness, first_fill + timedelta(minutes=160), step=60)
    harness.service.kill("desk check", wait=False)
    _run_to(harness, first_fill + timedelta(minutes=170), step=10)
    assert harness.service.parent_orders().total == 1  # nothing sent while HALTED

    future = harness.service.resume("checked", wait=False)
    harness.tick()
    future.result(timeout=1)
    _run_to(harness, first_fill + timedelta(minutes=180), step=5)
    rows = harness.service.parent_orders().rows
    assert len(rows) == 2 and rows[0]["side"] == "SELL"
    assert rows[0]["state"] == "COMPLETED"  # still complete by the deadline
