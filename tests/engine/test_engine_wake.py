"""Sleeping algorithms (``ExecutionAlgo.wake_at``) change nothing but the cost: a run where
idle parents are skipped sends exactly the children of a run where every parent is called
every tick, for every algorithm, passive and aggressive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from oms_harness import make_harness
from sqlalchemy import select

from oms.algos.executor import TargetExecutor
from oms.persistence.tables import ChildOrderRow


def _run(tmp_path: Path, algo: str) -> tuple[list[Any], int]:
    calls = {"n": 0}
    original = TargetExecutor.on_timer

    def counted(self: TargetExecutor, ctx: Any) -> Any:
        calls["n"] += 1
        return original(self, ctx)

    h = make_harness(tmp_path)
    TargetExecutor.on_timer = counted  # type: ignore[method-assign]
    try:
        future = h.service.submit_rebalance("BTCUSDT 3000\nSOLUSDT 1000", wait=False,
                                            algo=algo, duration_minutes=10)
        h.tick()
        future.result(timeout=1)
        h.run(12 * 60)
    finally:
        TargetExecutor.on_timer = original  # type: ignore[method-assign]
    with h.oms.database.session() as s:
        rows = [(r.parent_id[-3:], r.intent_id, r.created_at, r.quantity, r.order_type,
                 r.limit_price, r.state, r.filled_quantity)
                for r in s.scalars(select(ChildOrderRow).order_by(ChildOrderRow.created_at,
                                                                  ChildOrderRow.intent_id))]
    h.oms.close()
    return rows, calls["n"]


@pytest.mark.parametrize("algo", ["twap", "is", "vwap", "pov", "iceberg", "market"])
def test_skipping_idle_parents_sends_the_same_children(tmp_path: Path, algo: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    asleep, asleep_calls = _run(tmp_path / "asleep", algo)
    monkeypatch.setattr(TargetExecutor, "_next_wake", lambda self, ctx: None)
    awake, awake_calls = _run(tmp_path / "awake", algo)
    strip = [[row[1:] for row in rows] for rows in (asleep, awake)]
    assert strip[0] == strip[1]
    assert len(strip[0]) >= 1
    assert asleep_calls <= awake_calls
    if algo in ("twap", "is"):  # schedules: idle between slices
        assert asleep_calls < awake_calls / 2
