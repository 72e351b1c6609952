"""Position-sizing helpers: capped (fractional) Kelly and volatility targeting."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from decimal import Decimal

__all__ = [
    "kelly_fraction",
    "kelly_size_usd",
    "realised_volatility",
    "volatility_target_size_usd",
]


def kelly_fraction(
    win_probability: float, win_loss_ratio: float, *, cap: float = 0.25, scale: float = 1.0
) -> float:
    """Kelly fraction ``p - (1 - p) / b`` times ``scale``, clipped to [0, cap].

    ``win_loss_ratio`` is b = average win / average loss. No edge gives 0 (never a short bet).
    """
    if not 0.0 <= win_probability <= 1.0:
        raise ValueError(f"win_probability must be in [0, 1], got {win_probability}")
    if win_loss_ratio <= 0:
        raise ValueError(f"win_loss_ratio must be positive, got {win_loss_ratio}")
    if not 0.0 <= cap <= 1.0 or scale < 0:
        raise ValueError("cap must be in [0, 1] and scale non-negative")
    raw = win_probability - (1.0 - win_probability) / win_loss_ratio
    return min(max(raw * scale, 0.0), cap)


def kelly_size_usd(
    equity: Decimal, win_probability: float, win_loss_ratio: float, *, cap: float = 0.25,
    scale: float = 1.0,
) -> Decimal:
    """Position size in USD: equity times the capped Kelly fraction (cents)."""
    fraction = kelly_fraction(win_probability, win_loss_ratio, cap=cap, scale=scale)
    return (equity * Decimal(repr(fraction))).quantize(Decimal("0.01"))


def realised_volatility(closes: Sequence[float], *, periods_per_year: float) -> float:
    """Annualised standard deviation of log returns of ``closes``."""
    if len(closes) < 3:
        raise ValueError("need at least three closes")
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    return math.sqrt(variance * periods_per_year)


def volatility_target_size_usd(
    equity: Decimal, target_volatility: float, realised: float, *, max_leverage: float = 1.0
) -> Decimal:
    """Notional whose volatility is ``target_volatility`` of equity: equity * target / realised,
    at most ``max_leverage`` times equity (both volatilities annualised, as fractions)."""
    if target_volatility < 0 or max_leverage < 0:
        raise ValueError("target volatility and leverage must be non-negative")
    if realised <= 0:
        raise ValueError(f"realised volatility must be positive, got {realised}")
    leverage = min(target_volatility / realised, max_leverage)
    return (equity * Decimal(repr(leverage))).quantize(Decimal("0.01"))
