"""Forecast of the market volume still to print in a VWAP window, from the profile and the tape.

The window's expected volume per minute is the learned profile times a volume level (see
``oms.algos.vwap``). While trading, two realised/expected ratios correct it:

- ``busy``: the whole window so far, shrunk towards 1 by a prior (slow, stable);
- ``recent``: the last few minutes only (fast: minute volume is strongly persistent).

The forecast for a minute ``k`` minutes ahead uses ``busy + (recent - busy) * exp(-k / decay)``:
the recent rate at first, fading into the window's rate. On Jan-Apr 2024 BTCUSDT minute bars
(1,500 random hours, schedule updated once a minute from past minutes only, fills at each
minute's VWAP) this cut the mean |cost vs interval VWAP| from 4.32 bps (``busy`` only) to
3.40 bps (recent = last 2 minutes, decay 20 minutes); the static profile scores 4.74. On the
simulator with passive children it did not help (see ``oms.algos.vwap``), so it is off by default.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["busy_ratio", "decayed_remaining", "recent_ratio"]


def busy_ratio(realised: float, expected_done: float, prior: float) -> float:
    """Realised / expected volume so far, shrunk towards 1 by ``prior`` units of volume."""
    denominator = expected_done + prior
    if denominator <= 0.0:
        return 1.0
    return (realised + prior) / denominator


def recent_ratio(traded: float, expected: float, busy: float, *, span_s: float,
                 min_span_s: float = 30.0, clamp: float = 5.0) -> float:
    """Realised / expected volume over the recent span, kept within ``busy`` x [1/clamp, clamp].

    Too short a span (under ``min_span_s``) or no expectation gives ``busy`` itself.
    """
    if span_s < min_span_s or expected <= 0.0:
        return busy
    return min(max(traded / expected, busy / clamp), busy * clamp)


def decayed_remaining(buckets: Iterable[tuple[float, float]], busy: float, recent: float,
                      decay_min: float) -> float:
    """Forecast volume of ``buckets`` = (expected volume, minutes ahead of now) pairs, each
    scaled by a ratio fading from ``recent`` (now) to ``busy`` (far ahead)."""
    total = 0.0
    for expected, ahead_min in buckets:
        fade = math.exp(-max(ahead_min, 0.0) / decay_min) if decay_min > 0 else 0.0
        total += expected * (busy + (recent - busy) * fade)
    return total
