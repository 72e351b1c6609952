"""The soak benchmark on a small run: its JSON has every field with sane values (never timing or
RSS thresholds: those are measured by ``oms bench --soak``, not asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.soak_bench import SoakRun, rss_mb
from oms.cli import main


@pytest.fixture(scope="module")
def figures() -> dict[str, object]:
    return SoakRun(300, progress=False).run()


def test_soak_reports_every_field(figures: dict[str, object]) -> None:
    for key in ("children", "rebalances", "market_hours", "wall_s", "rss_start_mb", "rss_end_mb",
                "rss_mb_per_1000_children", "rss_samples", "sizes"):
        assert key in figures, key

    assert isinstance(figures["children"], int) and figures["children"] >= 300
    assert isinstance(figures["rebalances"], int) and figures["rebalances"] >= 2
    assert isinstance(figures["rss_start_mb"], float) and figures["rss_start_mb"] > 0
    assert isinstance(figures["rss_mb_per_1000_children"], float)
    samples = figures["rss_samples"]
    assert isinstance(samples, list) and len(samples) >= 3
    assert [c for c, _ in samples] == sorted(c for c, _ in samples)


def test_soak_ends_with_every_parent_retired(figures: dict[str, object]) -> None:
    sizes = figures["sizes"]
    assert isinstance(sizes, dict)
    book = sizes["order_book"]

    assert book["parents"] == book["open_children"] == book["sessions"] == 0
    assert book["finished"] > 0 and book["recent_fills"] > 0
    assert set(sizes["market_retained_bars"]) == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    assert "orders" in sizes["paper_venue"]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="no /proc (not Linux)")
def test_rss_is_read_from_proc() -> None:
    assert rss_mb() > 0


def test_oms_bench_soak_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "--soak", "--soak-children", "60"])

    printed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert printed["soak"]["children"] >= 60
