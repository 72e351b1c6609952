"""Market simulator and paper venue benchmarks (called by `oms bench`).

``measure()`` returns:
- ``replay_bars_per_s``: kline bars replayed per second (one day of BTCUSDT 1-minute bars, the
  market advanced every second with a quote read each step, as the engine does), median of runs;
- ``replay_load_day_ms``: building the replay (paths, book scales) for one day of bars;
- ``synthetic_day_ms``: generating one synthetic day for three symbols;
- ``paper_market_orders_per_s``: market child orders through PaperVenue submit -> poll (fills
  included), 100 orders per 250 ms tick.
Real data is read from $OMS_SHARED_DATA or <repo>/../shared/data/binance; without it the replay
runs on synthetic bars.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from oms.market.klines import KlineArrays, kline_arrays
from oms.market.replay import KlineReplayMarket
from oms.market.synthetic import SyntheticMarket
from oms.model.enums import OrderType, Side
from oms.model.orders import ChildOrder
from oms.risk.halt import HaltGate
from oms.venues.paper import PaperVenue

__all__ = ["measure"]

_DAY = datetime(2024, 3, 4, tzinfo=UTC)
_KLINES = "klines_1m/BTCUSDT-1m-2024-01-01_2024-06-25.csv.gz"


def _shared_data() -> Path | None:
    env = os.environ.get("OMS_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance")
    return next((p for p in candidates if p.is_dir()), None)


def _day_bars() -> KlineArrays:
    base = _shared_data()
    if base is not None and (base / _KLINES).exists():
        return kline_arrays(base / _KLINES, start=_DAY, end=_DAY + timedelta(days=1))
    market = SyntheticMarket(["BTCUSDT"], _DAY, seed=1)
    market.advance_to(_DAY + timedelta(days=1))
    bars = market.bars("BTCUSDT", _DAY, _DAY + timedelta(days=1))
    col = np.array
    return KlineArrays(
        "BTCUSDT", col([int(b.open_time.timestamp()) for b in bars], dtype=np.int64),
        col([b.open for b in bars]), col([b.high for b in bars]), col([b.low for b in bars]),
        col([b.close for b in bars]), col([b.volume for b in bars]),
        col([b.quote_volume for b in bars]), np.zeros(len(bars), dtype=np.int64),
        col([b.volume / 2 for b in bars]),
    )


def _replay_once(bars: KlineArrays) -> tuple[float, float]:
    t0 = time.perf_counter()
    market = KlineReplayMarket(bars, seed=1)
    built = time.perf_counter() - t0
    now = market.now
    end = now + timedelta(days=1)
    step = timedelta(seconds=1)
    t0 = time.perf_counter()
    while now < end:
        now += step
        market.advance_to(now)
        if market.is_open("BTCUSDT"):
            market.quote("BTCUSDT")
    return built, time.perf_counter() - t0


def _orders_once(count: int = 20_000) -> float:
    market = SyntheticMarket(["BTCUSDT"], _DAY, seed=1)
    # spot: half the orders sell, so the account holds BTC as well as USDT
    venue = PaperVenue(HaltGate(), market, seed=1,
                       balances={"USDT": Decimal(10**9), "BTC": Decimal(10**4)})
    now = _DAY
    children = [ChildOrder(f"b{i}", "p", "BTCUSDT", Side.BUY if i % 2 else Side.SELL,
                           Decimal("0.001"), OrderType.MARKET, now, "paper") for i in range(count)]
    t0 = time.perf_counter()
    for i, child in enumerate(children):
        if i % 100 == 0:
            now += timedelta(milliseconds=250)
            market.advance_to(now)
            venue.poll(now)
        venue.submit(child, now)
    now += timedelta(seconds=1)
    market.advance_to(now)
    venue.poll(now)
    return count / (time.perf_counter() - t0)


def measure(quick: bool = False, runs: int = 5) -> dict[str, float]:
    """Run the market benchmarks; medians of ``runs`` runs (one run when ``quick``)."""
    runs = 1 if quick else runs
    bars = _day_bars()
    replays = [_replay_once(bars) for _ in range(runs)]
    t0 = time.perf_counter()
    for _ in range(runs):
        SyntheticMarket(["BTCUSDT", "ETHUSDT", "SOLUSDT"], _DAY, seed=2)
    synthetic_ms = (time.perf_counter() - t0) / runs * 1000
    orders = [_orders_once() for _ in range(max(runs // 2, 1))]
    return {
        "replay_bars_per_s": round(statistics.median(len(bars) / r[1] for r in replays), 1),
        "replay_load_day_ms": round(statistics.median(r[0] for r in replays) * 1000, 2),
        "synthetic_day_ms": round(synthetic_ms, 2),
        "paper_market_orders_per_s": round(statistics.median(orders), 1),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure()))
