"""Scaling: children/s through the real engine (risk, paper venue, fills, SQLite file, TestClock;
the runner of ``benchmarks/engine_bench.py``) as the load grows, along two axes:

- ``by_parents``: 1, 10 and 100 parents of each symbol working at once (a retired parent is
  replaced by the next at once), ``BY_PARENTS_CHILDREN`` children in each run;
- ``by_children``: 2,000, 20,000 and 200,000 children in all, ``BY_CHILDREN_PARENTS`` parents
  of each symbol at once (the run both axes share is run once).

Each figure also reads as microseconds per child, which should stay flat as the load grows;
``growth`` is that cost at the largest load of an axis over the cost at its smallest (1.0 is
flat). The engine builds at most two execution reports (one per session, here one per parent) a
tick, so a run whose parents end faster leaves reports queued when its last parent retires: the
children/s figures (like the engine bench's) leave that work out, ``us_per_child_with_reports``
ticks on until the queue is empty and counts it in.

``oms bench --scaling`` runs it in full (several minutes: the 200,000-child run dominates;
``--scaling-max N`` caps every size at N, a capped size reads null) and draws
``var/bench/scaling.png``; the full ``oms bench`` runs a quick version capped at 2,000 children.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.engine_bench import SLICES, EngineRun, run

__all__ = ["BY_CHILDREN_PARENTS", "BY_PARENTS_CHILDREN", "CHILD_COUNTS", "PARENT_COUNTS",
           "PLOT_PATH", "QUICK_MAX_CHILDREN", "measure", "run_scaling"]

PARENT_COUNTS = (1, 10, 100)
CHILD_COUNTS = (2_000, 20_000, 200_000)
BY_PARENTS_CHILDREN = 20_000
BY_CHILDREN_PARENTS = 10
QUICK_MAX_CHILDREN = 2_000  # the version in the full ``oms bench``: about 10 s
PLOT_PATH = Path("var/bench/scaling.png")


def run_scaling(*, parent_counts: Sequence[int] = PARENT_COUNTS,
                child_counts: Sequence[int] = CHILD_COUNTS,
                by_parents_children: int = BY_PARENTS_CHILDREN,
                by_children_parents: int = BY_CHILDREN_PARENTS, max_children: int | None = None,
                plot_path: Path | None = PLOT_PATH, progress: bool = True) -> dict[str, Any]:
    """Both tables (children/s and microseconds per child) as one JSON object; sizes above
    ``max_children`` are not run and read null. The plot goes to ``plot_path`` (None: none)."""
    if max_children is not None and max_children < SLICES:
        raise ValueError(f"max_children={max_children} is fewer than one parent ({SLICES})")
    cap = max_children if max_children is not None else max([by_parents_children, *child_counts])
    parents_children = min(by_parents_children, cap)
    wanted = [(parents_children, count) for count in parent_counts]
    wanted += [(size, by_children_parents) for size in child_counts if size <= cap]
    started = time.perf_counter()
    runs: dict[tuple[int, int], EngineRun] = {}
    for children, per_symbol in sorted(set(wanted)):  # smallest first: the longest run last
        runs[children, per_symbol] = run(children, parents_per_symbol=per_symbol,
                                         drain_reports=True, progress=progress,
                                         label=f"scaling {per_symbol}p {children}c")
    wall_s = time.perf_counter() - started

    by_parents = {str(count): runs[parents_children, count] for count in parent_counts}
    by_children = {str(size): runs.get((size, by_children_parents)) for size in child_counts}
    us_per_child = {"by_parents": _column(by_parents, "us"),
                    "by_children": _column(by_children, "us")}
    with_reports = {"by_parents": _column(by_parents, "us_reports"),
                    "by_children": _column(by_children, "us_reports")}
    figures: dict[str, Any] = {
        "by_parents": _column(by_parents, "cps"),
        "by_children": _column(by_children, "cps"),
        "us_per_child": us_per_child,
        "growth": {axis: _growth(column) for axis, column in us_per_child.items()},
        "us_per_child_with_reports": with_reports,
        "growth_with_reports": {axis: _growth(column) for axis, column in with_reports.items()},
        "by_parents_children": parents_children,
        "by_children_parents_per_symbol": by_children_parents,
        "peak_parents_per_symbol": {key: r.peak_parents_per_symbol
                                    for key, r in by_parents.items()},
        "max_children": max_children,
        "skipped": [key for key, r in by_children.items() if r is None],
        "wall_s": round(wall_s, 1),
    }
    figures["plot"], figures["plot_skipped"] = _plot(us_per_child, plot_path)
    return figures


def measure(quick: bool = False) -> dict[str, Any]:
    """The quick version for the full ``oms bench``: every size capped at 2,000 children (600
    with ``--quick``), no plot (``oms bench --scaling`` draws the full one)."""
    figures = run_scaling(max_children=600 if quick else QUICK_MAX_CHILDREN, plot_path=None)
    figures["plot_skipped"] = "quick version; oms bench --scaling draws the plot"
    return {"engine_scaling": figures}


def _column(runs: Mapping[str, EngineRun | None], figure: str) -> dict[str, float | None]:
    """children/s (``cps``), microseconds per child (``us``), or the same with the queued
    execution reports drained (``us_reports``) of each run; null if not run."""
    column: dict[str, float | None] = {}
    for key, result in runs.items():
        value = None if result is None else {
            "cps": result.children_per_s, "us": result.us_per_child,
            "us_reports": result.us_per_child_with_reports}[figure]
        column[key] = None if value is None else round(value, 1)
    return column


def _growth(us_per_child: dict[str, float | None]) -> float | None:
    """Cost per child at the largest load run over the cost at the smallest (1.0 is flat)."""
    measured = [(int(key), us) for key, us in us_per_child.items() if us is not None]
    if len(measured) < 2:
        return None
    measured.sort()
    return round(measured[-1][1] / measured[0][1], 2)


_TITLES = {"by_parents": "parents of each symbol at once", "by_children": "children in the run"}


def _plot(us_per_child: dict[str, dict[str, float | None]],
          path: Path | None) -> tuple[str | None, str | None]:
    """Draw microseconds per child against each load axis (log x); (path written, None) or
    (None, why not): matplotlib if installed, else plotly's static export if kaleido is."""
    if path is None:
        return None, "no plot path given"
    series = {axis: sorted((int(key), us) for key, us in column.items() if us is not None)
              for axis, column in us_per_child.items()}
    try:
        if importlib.util.find_spec("matplotlib") is not None:
            _plot_matplotlib(series, path)
        elif (importlib.util.find_spec("plotly") is not None
              and importlib.util.find_spec("kaleido") is not None):
            _plot_plotly(series, path)
        else:
            return None, "neither matplotlib nor plotly with kaleido is installed in this venv"
    except Exception as exc:  # the figures stand without their picture
        return None, f"plot failed: {type(exc).__name__}: {exc}"
    return str(path), None


def _plot_matplotlib(series: dict[str, list[tuple[int, float]]], path: Path) -> None:
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")  # no display: write the file only
    pyplot = importlib.import_module("matplotlib.pyplot")
    figure, axes = pyplot.subplots(1, len(series), figsize=(10, 4), squeeze=False)
    for ax, (axis, points) in zip(axes[0], series.items(), strict=True):
        xs, ys = [x for x, _ in points], [us for _, us in points]
        ax.plot(xs, ys, marker="o")
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(xs, [f"{x:,}" for x in xs])
        ax.set_ylim(0, 1.15 * max(ys, default=1.0))
        ax.set_xlabel(_TITLES[axis])
        ax.set_ylabel("microseconds per child")
        ax.grid(True, alpha=0.3)
    figure.suptitle("Engine cost per child as the load grows (flat is good)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def _plot_plotly(series: dict[str, list[tuple[int, float]]], path: Path) -> None:
    subplots = importlib.import_module("plotly.subplots")
    graph_objects = importlib.import_module("plotly.graph_objects")
    figure = subplots.make_subplots(rows=1, cols=len(series),
                                    subplot_titles=[_TITLES[axis] for axis in series])
    for col, points in enumerate(series.values(), start=1):
        figure.add_trace(graph_objects.Scatter(x=[x for x, _ in points],
                                               y=[us for _, us in points],
                                               mode="lines+markers", showlegend=False),
                         row=1, col=col)
    figure.update_xaxes(type="log")
    figure.update_yaxes(title_text="microseconds per child", rangemode="tozero")
    figure.update_layout(title="Engine cost per child as the load grows (flat is good)")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.write_image(str(path), width=1000, height=400)


if __name__ == "__main__":
    import json

    print(json.dumps({"engine_scaling": run_scaling()}, indent=2))
