"""Wall time of the one-hour TWAP backtest of the simulator issue (and a full day)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from oms.backtest import BacktestSpec, run_backtest

__all__ = ["measure"]

_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/binance/klines_1m"


def _time(duration_minutes: float, repeats: int) -> float:
    spec = BacktestSpec.parse(data=_DATA / "BTCUSDT-1m-2024-01-01_2024-06-25.csv.gz",
                              symbol="BTCUSDT", side="buy", quantity="2", algo="twap",
                              start="2024-03-04T14:00:00Z", duration_minutes=duration_minutes)
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        run_backtest(spec)
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def measure(quick: bool = False) -> dict[str, float]:
    """Median wall times in ms (file loading included)."""
    if not _DATA.is_dir():
        return {}
    repeats = 1 if quick else 5
    return {"backtest_1h_twap_ms": round(_time(60, repeats), 1),
            "backtest_1d_twap_ms": round(_time(24 * 60, 1 if quick else 3), 1)}
