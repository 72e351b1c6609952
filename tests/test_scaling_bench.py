"""The scaling benchmark at tiny sizes: its JSON has both tables with sane positive values, a
capped size reads null, and the engine never works more parents of a symbol at once than asked
(never a speed threshold: speed is measured by ``oms bench --scaling``, not asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.engine_bench import run, run_once
from benchmarks.run import MODULES
from benchmarks.scaling_bench import run_scaling
from oms.cli import main


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    plot = tmp_path_factory.mktemp("scaling") / "scaling.png"
    return run_scaling(parent_counts=(1, 10), child_counts=(200, 400, 2_000),
                       by_parents_children=200, by_children_parents=10, max_children=400,
                       plot_path=plot, progress=False)


def test_scaling_reports_both_tables(figures: dict[str, object]) -> None:
    by_parents, by_children = figures["by_parents"], figures["by_children"]

    assert isinstance(by_parents, dict) and isinstance(by_children, dict)
    assert list(by_parents) == ["1", "10"]
    assert list(by_children) == ["200", "400", "2000"]
    for cps in [*by_parents.values(), by_children["200"], by_children["400"]]:
        assert isinstance(cps, float) and cps > 0
    assert figures["by_parents_children"] == 200
    assert figures["by_children_parents_per_symbol"] == 10


def test_microseconds_per_child_mirror_children_per_second(figures: dict[str, object]) -> None:
    us_per_child = figures["us_per_child"]
    assert isinstance(us_per_child, dict)

    for axis in ("by_parents", "by_children"):
        table = figures[axis]
        assert isinstance(table, dict)
        for key, cps in table.items():
            us = us_per_child[axis][key]
            if cps is None:
                assert us is None
            else:
                assert us > 0 and us * cps == pytest.approx(1e6, rel=0.01)
    growth = figures["growth"]
    assert isinstance(growth, dict)
    assert all(isinstance(g, float) and g > 0 for g in growth.values())


def test_draining_the_reports_only_adds_cost(figures: dict[str, object]) -> None:
    us_per_child, with_reports = figures["us_per_child"], figures["us_per_child_with_reports"]
    assert isinstance(us_per_child, dict) and isinstance(with_reports, dict)

    for axis in ("by_parents", "by_children"):
        for key, us in us_per_child[axis].items():
            if us is None:
                assert with_reports[axis][key] is None
            else:
                assert with_reports[axis][key] >= us


def test_a_size_above_the_cap_is_skipped_not_run(figures: dict[str, object]) -> None:
    by_children = figures["by_children"]
    assert isinstance(by_children, dict)

    assert figures["max_children"] == 400
    assert by_children["2000"] is None
    assert figures["skipped"] == ["2000"]


def test_parents_per_symbol_never_exceed_the_quota(figures: dict[str, object]) -> None:
    peak = figures["peak_parents_per_symbol"]
    assert isinstance(peak, dict)

    assert peak["1"] == 1
    # 200 children are 10 twenty-slice parents, 4 of the busiest symbol: all at once
    assert peak["10"] == 4


def test_the_plot_is_written_or_its_absence_explained(figures: dict[str, object]) -> None:
    plot, skipped = figures["plot"], figures["plot_skipped"]

    if plot is None:
        assert isinstance(skipped, str) and skipped
    else:
        assert isinstance(plot, str) and Path(plot).stat().st_size > 0 and skipped is None


def test_the_parametrised_runner_fills_every_parent_one_at_a_time() -> None:
    result = run(120, parents_per_symbol=1, progress=False)

    assert result.parents == 6 and result.peak_parents_per_symbol == 1
    assert result.children == 120  # one parent of a symbol at a time: no duplicate to deny
    assert result.elapsed_s > 0 and result.ticks > 2 * 60  # two waves of one-minute TWAPs


def test_run_once_keeps_its_meaning() -> None:
    assert run_once(100, progress=False) > 0


def test_oms_bench_runs_the_scaling_bench(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the plot goes to var/bench/ under the working directory

    code = main(["bench", "--scaling", "--scaling-max", "60"])

    printed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(printed["engine_scaling"]["by_parents"]) == {"1", "10", "100"}
    assert printed["engine_scaling"]["by_children"] == {"2000": None, "20000": None,
                                                          "200000": None}
    assert "benchmarks.scaling_bench" in MODULES


def test_oms_bench_refuses_a_cap_below_one_parent(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "--scaling", "--scaling-max", "5"])

    assert code == 2
    assert "--scaling-max" in capsys.readouterr().err
