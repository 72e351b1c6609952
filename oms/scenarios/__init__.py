"""Named reference scenarios (pure computation), run by ``oms backtest --scenario NAME``."""

from __future__ import annotations

from oms.scenarios.almgren_chriss import SCENARIO_NAME, run_almgren_chriss

__all__ = ["SCENARIO_NAME", "run_almgren_chriss"]
