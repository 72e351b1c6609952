"""The idealised VWAP baseline of the evaluation: the static historical-profile schedule filled at
each minute's own VWAP, with no spread, impact, latency or fees.

It is what a trader gets from following the volume profile perfectly while knowing nothing about
the day's actual volume, so the only error left is the profile's: a VWAP algorithm that learns from
the volume printing now should track the interval VWAP better than this even though it pays real
spread and impact. Computed from the klines alone, on the same orders as the algorithms.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np

from oms.algos.vwap import profile_weights
from oms.market.klines import KlineArrays
from oms.model.enums import AlgoName, Side

__all__ = ["BASELINE", "BaselineOrder", "baseline_row", "static_profile_price"]

# a pseudo-algorithm of the evaluation (its rows come from the klines, not from the engine)
BASELINE: dict[str, tuple[AlgoName, dict[str, Any]]] = {
    "baseline_static_profile": (AlgoName.VWAP, {"follow_realised": False}),
}


class BaselineOrder(Protocol):
    """What the baseline needs of an evaluation order."""

    @property
    def index(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def side(self) -> Side: ...
    @property
    def size_share(self) -> float: ...
    @property
    def vwap(self) -> float: ...


def static_profile_price(arrays: KlineArrays, symbol: str, start: datetime,
                         minutes: int = 60) -> float:
    """Average price of the profile schedule over ``minutes`` from ``start``, each minute's share
    filled at that minute's VWAP (quote volume / volume)."""
    end = start + timedelta(minutes=minutes)
    lo, hi = np.searchsorted(arrays.open_s, [start.timestamp(), end.timestamp()])
    if hi - lo != minutes:
        raise ValueError(f"{symbol}: {hi - lo} bars in [{start}, {end}), expected {minutes}")
    weights = np.asarray(profile_weights(symbol, start, end))
    minute_vwap = arrays.quote_volume[lo:hi] / arrays.volume[lo:hi]
    return float((weights * minute_vwap).sum() / weights.sum())


def baseline_row(arrays: KlineArrays, order: BaselineOrder, name: str) -> dict[str, Any]:
    """The evaluation row of the baseline for ``order`` (cost vs the hour's VWAP only)."""
    price = static_profile_price(arrays, order.symbol, order.start)
    vs_vwap = order.side.sign * (price / order.vwap - 1.0) * 10_000
    return {"order": order.index, "algo": name, "size": order.size_share,
            "side": order.side.value, "fill_rate": 1.0, "children": 60,
            "end_state": "IDEALISED", "vs_vwap_bps": vs_vwap, "vs_vwap_fees_bps": vs_vwap}
