"""Wall time of the one-hour TWAP backtest of the simulator issue (and a full day), file loading
included.

Every timed run starts without the process's memo of parsed files (``clear_memo``), so it pays
what a new ``oms backtest`` process pays for its data: reading the on-disk kline cache, warm after
the first run as on any machine that ran a backtest before (the cache is a temporary directory,
so the figures never depend on what var/ holds). ``backtest_1h_twap_uncached_ms`` is the first
run, on the empty cache: parsing the whole file and writing its entry, the one-time cost of a new
file. Imports are not timed (pandas is imported before the first run).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from oms.backtest import BacktestSpec, run_backtest
from oms.market.kline_cache import KlineCache
from oms.market.klines import clear_memo
from oms.progress import Progress

__all__ = ["measure"]

_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/binance/klines_1m"


def _spec(duration_minutes: float) -> BacktestSpec:
    return BacktestSpec.parse(data=_DATA / "BTCUSDT-1m-2024-01-01_2024-06-25.csv.gz",
                              symbol="BTCUSDT", side="buy", quantity="2", algo="twap",
                              start="2024-03-04T14:00:00Z", duration_minutes=duration_minutes)


def _once(spec: BacktestSpec, cache: KlineCache) -> float:
    clear_memo()
    started = time.perf_counter()
    run_backtest(spec, kline_cache=cache)
    return (time.perf_counter() - started) * 1000


def measure(quick: bool = False) -> dict[str, float]:
    """Median wall times in ms (file loading included), and the first run on an empty cache."""
    if not _DATA.is_dir():
        return {}
    import pandas  # noqa: F401 - the uncached run parses with it; its import is not timed

    hour_runs, day_runs = (1, 1) if quick else (5, 3)
    with tempfile.TemporaryDirectory(prefix="kline-cache-") as directory, \
            Progress("backtest", 1 + hour_runs + day_runs) as bar:
        cache = KlineCache(directory)
        uncached = _once(_spec(60), cache)
        bar.update()
        hour = []
        for _ in range(hour_runs):
            hour.append(_once(_spec(60), cache))
            bar.update()
        day = []
        for _ in range(day_runs):
            day.append(_once(_spec(24 * 60), cache))
            bar.update()
    return {"backtest_1h_twap_ms": round(statistics.median(hour), 1),
            "backtest_1d_twap_ms": round(statistics.median(day), 1),
            "backtest_1h_twap_uncached_ms": round(uncached, 1)}
