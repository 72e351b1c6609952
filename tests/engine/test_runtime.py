"""The APScheduler runtime: sub-steps when market time jumps; errors surface in health()."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from oms_harness import make_harness

from oms.runtime import EngineRuntime


def test_a_jump_of_market_time_is_ticked_in_steps(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    runtime = EngineRuntime(h.engine, 250, max_step_s=1.0, max_substeps=60)
    runtime._run()
    before = h.engine.tick_count
    h.clock.advance(timedelta(seconds=30))  # e.g. --speed 120 with a 250 ms job period

    runtime._run()

    assert h.engine.tick_count - before == 30  # 29 one-second sub-steps, then "now"
    assert h.service.snapshot().ts == h.clock.now()
    h.oms.close()


def test_a_twap_completes_when_market_time_runs_120x(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    runtime = EngineRuntime(h.engine, 250)
    future = h.service.submit_rebalance("BTCUSDT 3000\nETHUSDT 2000", algo="twap",
                                        duration_minutes=2, wait=False)
    runtime._run()
    future.result(timeout=1)
    for _ in range(12):  # 12 job runs of 30 s market time each: 6 minutes
        h.clock.advance(timedelta(seconds=30))
        runtime._run()
    assert {p.state for p in h.service.snapshot().parents} == {"COMPLETED"}
    h.oms.close()


def test_scheduler_errors_are_counted_for_the_dashboard(tmp_path: Path) -> None:
    h = make_harness(tmp_path)

    def broken(**_kwargs: object) -> None:
        raise RuntimeError("boom")

    h.engine.tick = broken  # type: ignore[method-assign]
    runtime = EngineRuntime(h.engine, 50)
    runtime.start()
    try:
        deadline = time.monotonic() + 10
        while runtime.health().errors == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runtime.stop()
    health = runtime.health()
    assert health.errors >= 1 and "boom" in (health.last_problem or "")
    h.oms.close()


def test_a_long_catch_up_shows_its_snapshot_as_it_goes_and_leaves_reports_to_the_last_step(
        tmp_path: Path, monkeypatch: object) -> None:
    # Arrange: a market parent that ends early in the catch-up (its report is queued then);
    # each engine step takes 20 ms of wall time
    import pytest

    h = make_harness(tmp_path)
    runtime = EngineRuntime(h.engine, 250, max_step_s=1.0, max_substeps=60)
    runtime._run()
    h.service.submit_rebalance("BTCUSDT 3000", algo="market", duration_minutes=1, wait=False)
    built: list[tuple[int, int]] = []
    shown: list[int] = []
    real_build, real_step = h.engine.reports.build_pending, h.engine._step

    def build_pending(**kwargs: object) -> None:
        built.append((h.engine.tick_count, h.engine.snapshot.tick))
        real_build(**kwargs)  # type: ignore[arg-type]

    def slow_step(now: object) -> None:
        shown.append(h.engine.snapshot.tick)
        time.sleep(0.02)
        real_step(now)  # type: ignore[arg-type]

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(h.engine.reports, "build_pending", build_pending)
    monkeypatch.setattr(h.engine, "_step", slow_step)
    h.clock.advance(timedelta(seconds=40))

    # Act: one job run of 40 steps, about 0.8 s
    runtime._run()

    # Assert: snapshots were published during the run (not only after it); the report was built
    # once, after the last step, whose snapshot was already out
    assert len(set(shown)) >= 3
    assert built == [(h.engine.tick_count, h.engine.tick_count)]
    assert [p.state for p in h.engine.snapshot.parents] == ["COMPLETED"]
    h.oms.close()
