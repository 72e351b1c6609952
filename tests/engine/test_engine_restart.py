"""A restart in the middle of working parents: they continue (OMS_RECOVERY=resume, the default),
drain or are canceled; nothing is filled twice, no id is reused, positions equal the fills."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from oms_harness import OmsHarness, make_harness
from sqlalchemy import func, select

from oms.model import ChildState
from oms.persistence.tables import AuditRow, ChildOrderRow, FillRow, ParentOrderRow

TARGETS = "BTCUSDT 3000\nETHUSDT 2000\nSOLUSDT 1000"


def _submit(h: OmsHarness, **kwargs: Any) -> None:
    future = h.service.submit_rebalance(TARGETS, wait=False, **kwargs)
    h.tick()
    future.result(timeout=1)


def _crash_and_restart(tmp_path: Path, *, algo: str, minutes: float, run_s: float,
                       down_s: float, **settings: Any) -> OmsHarness:
    first = make_harness(tmp_path)
    _submit(first, algo=algo, duration_minutes=minutes)
    first.run(run_s)
    crashed_at = first.clock.now()
    first.oms.close()  # parents still WORKING in the database
    return make_harness(tmp_path, start=crashed_at + timedelta(seconds=down_s), token="r",
                        **settings)


def _rows(h: OmsHarness, model: Any) -> list[Any]:
    with h.oms.database.session() as s:
        return list(s.scalars(select(model)))


def _check_books(h: OmsHarness) -> None:
    """Fills = children = parents; positions = fills; no intent id answered twice."""
    parents, children, fills = (_rows(h, m) for m in (ParentOrderRow, ChildOrderRow, FillRow))
    for p in parents:
        mine = [c for c in children if c.parent_id == p.parent_id]
        assert sum(c.filled_quantity for c in mine) == p.filled_quantity
        assert sum(f.quantity for f in fills if f.parent_id == p.parent_id) == p.filled_quantity
        assert p.filled_quantity <= p.quantity
        intents = Counter(c.intent_id for c in mine)
        assert all(n == 1 for n in intents.values()), intents
    for position in h.service.snapshot().positions:
        signed = sum((f.quantity if f.side == "BUY" else -f.quantity)
                     for f in fills if f.symbol == position.symbol)
        assert position.quantity == signed


@pytest.mark.parametrize("algo", ["twap", "vwap", "is"])
def test_a_restarted_parent_continues_and_completes(tmp_path: Path, algo: str) -> None:
    h = _crash_and_restart(tmp_path, algo=algo, minutes=20, run_s=6 * 60, down_s=30)
    parents = _rows(h, ParentOrderRow)
    assert {p.state for p in parents} == {"WORKING"}
    resumed = [a for a in _rows(h, AuditRow) if a.event == "ParentResumed"]
    assert {a.entity_id for a in resumed} == {p.parent_id for p in parents}
    assert all(a.payload["mode"] == "resume" and a.payload["gap_s"] >= 29 for a in resumed)

    h.run(16 * 60)
    parents = _rows(h, ParentOrderRow)
    assert {p.state for p in parents} == {"COMPLETED"}, [p.end_reason for p in parents]
    assert all(p.filled_quantity == p.quantity for p in parents)
    _check_books(h)
    h.oms.close()


def test_a_parent_resumed_past_its_window_crosses_the_rest(tmp_path: Path) -> None:
    h = _crash_and_restart(tmp_path, algo="twap", minutes=10, run_s=4 * 60, down_s=10 * 60)
    h.run(90)
    parents = _rows(h, ParentOrderRow)
    assert {p.state for p in parents} == {"COMPLETED"}, [p.end_reason for p in parents]
    children = _rows(h, ChildOrderRow)
    late = [c for c in children if c.created_at > parents[0].created_at + timedelta(minutes=10)]
    assert late and all(c.order_type == "MARKET" for c in late)  # the catch-up rule: cross
    _check_books(h)
    h.oms.close()


def test_drain_sends_nothing_new(tmp_path: Path) -> None:
    h = _crash_and_restart(tmp_path, algo="twap", minutes=20, run_s=6 * 60, down_s=5,
                           recovery="drain")
    before = len(_rows(h, ChildOrderRow))
    h.run(120)
    assert len(_rows(h, ChildOrderRow)) == before
    parents = _rows(h, ParentOrderRow)
    assert {p.state for p in parents} == {"CANCELED"}
    assert all("unfilled" in (p.end_reason or "") for p in parents)
    _check_books(h)
    h.oms.close()


def test_cancel_ends_the_parents_and_their_children(tmp_path: Path) -> None:
    h = _crash_and_restart(tmp_path, algo="twap", minutes=20, run_s=6 * 60, down_s=5,
                           recovery="cancel")
    h.run(30)
    parents = _rows(h, ParentOrderRow)
    assert {p.state for p in parents} == {"CANCELED"}
    assert all("OMS_RECOVERY=cancel" in (p.end_reason or "") for p in parents)
    assert all(ChildState(c.state).is_terminal for c in _rows(h, ChildOrderRow))
    _check_books(h)
    h.oms.close()


def test_the_same_restart_replays_the_same_children(tmp_path: Path) -> None:
    """Seeded randomness survives a restart: two identical crash-restarts send the same."""
    runs = []
    for name in ("a", "b"):
        h = _crash_and_restart(tmp_path / name, algo="twap", minutes=20, run_s=5 * 60,
                                  down_s=20)
        h.run(10 * 60)
        with h.oms.database.session() as s:
            runs.append(list(s.execute(
                select(ChildOrderRow.parent_id, ChildOrderRow.intent_id, ChildOrderRow.quantity,
                       ChildOrderRow.created_at).order_by(ChildOrderRow.created_at,
                                                          ChildOrderRow.intent_id))))
            assert s.scalar(select(func.count()).select_from(FillRow)) > 0
        h.oms.close()
    strip = [[(i, q, t) for _, i, q, t in run] for run in runs]
    assert strip[0] == strip[1]
    assert sum(Decimal(1) for _ in strip[0]) > 5


@pytest.mark.parametrize(("algo", "seed"), [("twap", 1), ("vwap", 2), ("is", 3), ("pov", 4),
                                            ("iceberg", 5), ("market", 6)])
def test_repeated_restarts_at_random_moments_never_overfill(tmp_path: Path, algo: str,
                                                            seed: int) -> None:
    """Three crashes at seeded random moments of a 12-minute parent, each restart after a
    random downtime: every parent ends by its window plus the catch-up grace, never overfilled;
    the algorithms that catch up complete."""
    import random

    rng = random.Random(seed)
    h = make_harness(tmp_path)
    _submit(h, algo=algo, duration_minutes=12)
    created = h.engine.snapshot.parents[0].created_at
    for restart in range(3):
        h.run(rng.uniform(2, 15) if restart == 0 else rng.uniform(20, 200))
        crashed_at = h.clock.now()
        h.oms.close()
        h = make_harness(tmp_path, start=crashed_at + timedelta(seconds=rng.uniform(1, 90)),
                         token=f"r{restart}")
    end = created + timedelta(minutes=12) + timedelta(minutes=3)
    h.run(max((end - h.clock.now()).total_seconds(), 1))
    parents = _rows(h, ParentOrderRow)
    assert all(p.state in ("COMPLETED", "CANCELED") for p in parents), [p.state for p in parents]
    assert all(p.resumes <= 3 for p in parents)
    if algo != "market":  # a parent may be done before the first crash, but not all of them
        assert any(p.resumes >= 1 for p in parents)
    if algo in ("twap", "vwap", "is", "market"):
        assert {p.state for p in parents} == {"COMPLETED"}, [p.end_reason for p in parents]
    _check_books(h)
    h.oms.close()
