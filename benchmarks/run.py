"""``oms bench``: run every benchmark module and merge their figures into one JSON object."""

from __future__ import annotations

import importlib
import inspect
import platform
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["MODULES", "run_all"]

MODULES = (
    "benchmarks.engine_bench",
    "benchmarks.scaling_bench",
    "benchmarks.backtest_bench",
    "benchmarks.market_bench",
    "benchmarks.algo_bench",
    "benchmarks.risk_bench",
    "benchmarks.routing_bench",
    "benchmarks.kill_bench",
    "benchmarks.tca_bench",
    "benchmarks.dashboard_bench",
)


def run_all(quick: bool = False) -> dict[str, Any]:
    """Every benchmark's ``measure()``; a module that fails reports its error, not a number."""
    figures: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "quick": quick},
    }
    errors: dict[str, str] = {}
    for name in MODULES:
        print(f"bench: {name}", file=sys.stderr)
        try:
            module = importlib.import_module(name)
            measure = module.measure
            kwargs = {"quick": quick} if "quick" in inspect.signature(measure).parameters else {}
            figures.update(measure(**kwargs))
        except Exception as exc:  # one broken benchmark must not hide the others
            errors[name] = f"{type(exc).__name__}: {exc}"
    if errors:
        figures["errors"] = errors
    return figures
