"""Position sizing: capped (fractional) Kelly and volatility targeting, and the ``"size": "auto"``
of a strategy signal (``auto_size``), which combines them.

Auto size of a signal (every step is kept in ``AutoSize`` and shown to the desk):

1. full Kelly ``f* = p - (1 - p) / b`` (Kelly 1956; Thorp, "The Kelly criterion in blackjack,
   sports betting and the stock market", 2006), p = the strategy's win rate, b = its payoff
   ratio (average win / average loss); no edge (f* <= 0) gives 0;
2. fractional Kelly ``f = f* x fraction`` (a quarter Kelly by default: about half the growth of
   full Kelly for a sixteenth of its variance, and robust to an overestimated edge);
3. volatility targeting ``scale = min(target_vol / measured_vol, max_leverage)``, both annualised
   (``sigma_1m x sqrt(525,600)``); measured_vol is the symbol's realised volatility over the
   market's recent 1-minute bars, or the calibrated ``sigma_1m`` (``oms.market.calibration``)
   when fewer than three closes are known;
4. ``size_usd = min(equity x f x scale, cap)``, cap = the smallest of the risk limits
   ``max_position_usd`` and ``max_order_notional_usd``; rounded down to the cent.

Defaults (``oms.config.SizingSettings``, ``OMS_SIZING__*``): win rate 0.821, the DipMaster
strategy's 82.1% win-rate target; payoff ratio 0.6 (a dip-buying strategy takes small profits
against wider stops: its average win is below its average loss; replace it by the measured figure
of the strategy's backtest); Kelly fraction 0.25; target volatility 0.50 a year; max leverage 1.
With them full Kelly is 0.821 - 0.179 / 0.6 = 0.52267 and the fraction staked 0.13067 of equity.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

__all__ = [
    "MINUTES_PER_YEAR",
    "AutoSize",
    "annualised_sigma",
    "auto_size",
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


MINUTES_PER_YEAR = 525_600  # crypto trades around the clock
_CENT = Decimal("0.01")
_PLACES = Decimal("0.000001")


def annualised_sigma(sigma_1m: float) -> float:
    """A 1-minute log-return volatility, annualised (square-root-of-time)."""
    return sigma_1m * math.sqrt(MINUTES_PER_YEAR)


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_PLACES)


@dataclass(frozen=True, slots=True)
class AutoSize:
    """One auto-sized signal, every step of the computation (what the preview shows and the
    parent's session keeps)."""

    equity_usd: Decimal
    win_rate: Decimal
    payoff_ratio: Decimal
    full_kelly: Decimal
    kelly_fraction: Decimal
    kelly_stake: Decimal  # full_kelly x kelly_fraction, clipped at 0
    sigma_1m: float
    volatility_source: str  # "measured (N bars)" or "calibration" or "default"
    measured_volatility: Decimal  # annualised
    target_volatility: Decimal
    volatility_scale: Decimal
    uncapped_usd: Decimal
    cap_usd: Decimal
    cap_applied: bool
    size_usd: Decimal

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (Decimals as strings) for the session params and the REST answer."""
        return {"method": "fractional_kelly_vol_target",
                "equity_usd": str(self.equity_usd), "win_rate": str(self.win_rate),
                "payoff_ratio": str(self.payoff_ratio), "full_kelly": str(self.full_kelly),
                "kelly_fraction": str(self.kelly_fraction),
                "kelly_stake": str(self.kelly_stake), "sigma_1m": self.sigma_1m,
                "volatility_source": self.volatility_source,
                "measured_volatility": str(self.measured_volatility),
                "target_volatility": str(self.target_volatility),
                "volatility_scale": str(self.volatility_scale),
                "uncapped_usd": str(self.uncapped_usd), "cap_usd": str(self.cap_usd),
                "cap_applied": self.cap_applied, "size_usd": str(self.size_usd)}


def auto_size(*, equity: Decimal, win_rate: Decimal, payoff_ratio: Decimal,
              kelly_fraction: Decimal, target_volatility: Decimal, sigma_1m: float,
              volatility_source: str, cap_usd: Decimal,
              max_leverage: Decimal = Decimal(1)) -> AutoSize:
    """The signal size of fractional Kelly scaled by volatility targeting, capped (module doc)."""
    if not Decimal(0) <= win_rate <= Decimal(1):
        raise ValueError(f"win_rate must be in [0, 1], got {win_rate}")
    if payoff_ratio <= 0:
        raise ValueError(f"payoff_ratio must be positive, got {payoff_ratio}")
    if sigma_1m <= 0 or not math.isfinite(sigma_1m):
        raise ValueError(f"sigma_1m must be positive, got {sigma_1m}")
    full_kelly = (win_rate - (1 - win_rate) / payoff_ratio).quantize(_PLACES)
    stake = max(full_kelly * kelly_fraction, Decimal(0)).quantize(_PLACES)
    measured = _decimal(annualised_sigma(sigma_1m))
    scale = min(target_volatility / measured, max_leverage).quantize(_PLACES)
    uncapped = (max(equity, Decimal(0)) * stake * scale).quantize(_CENT, ROUND_DOWN)
    size = min(uncapped, cap_usd).quantize(_CENT, ROUND_DOWN)
    return AutoSize(equity, win_rate, payoff_ratio, full_kelly, kelly_fraction, stake, sigma_1m,
                    volatility_source, measured, target_volatility, scale, uncapped, cap_usd,
                    uncapped > cap_usd, size)
