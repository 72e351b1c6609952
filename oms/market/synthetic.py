"""Synthetic market calibrated on real Binance statistics (Jan-Apr 2024, oms/market/calibration.py).

Bars are generated a day at a time (numpy, seeded per symbol) and then served by the same core
as the kline replay (oms.market.simulated): sub-minute path, L2 book, impact, shocks.

The generator, per minute: volume = calibrated mean x hour-of-day profile x minute-of-hour profile
(activity peaks on :00, :15, :30, :45) x exp(slow + fast),
where slow and fast are AR(1) regimes whose variances and persistence come from the data (the
slow regime lasts hours, the fast one minutes); the 1-minute volatility is the calibrated sigma x
hour-of-day volatility profile x exp(k * slow) (volatility rides with volume, k calibrated on the
dispersion of daily realised volatility); returns are Student-t (df=4, fat tails) drawn in six
10-second steps whose path gives the bar's open, high, low and close.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from oms.clock import utc
from oms.market.base import HISTORY_HORIZON
from oms.market.calibration import CALIBRATION
from oms.market.paths import KNOTS, BarPaths, FloatArray, volume_shares
from oms.market.simulated import SimulatedMarket, SymbolSpec
from oms.market.specs import PastState, expected_volume, make_spec, micro_arrays

__all__ = ["DEFAULT_PROFILES", "SymbolProfile", "SyntheticMarket", "profile_from_calibration"]

_FLAT = tuple([1.0] * 24)
_SLOW_PHI = 0.9985  # per minute: the slow regime's half-life is ~7.7 hours
_FAST_PHI = 0.4
_T_DF = 4.0


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    """Statistics that drive one symbol's synthetic market."""

    start_price: float
    vol_per_minute: float  # standard deviation of 1-minute log returns
    spread_bps: float  # unused when the symbol's spread is calibrated in ticks
    volume_per_minute: float  # base asset, mean
    tick_size: float = 0.01
    volume_profile: tuple[float, ...] = field(default=_FLAT)  # by UTC hour, mean 1
    vol_profile: tuple[float, ...] = field(default=_FLAT)  # by UTC hour, RMS 1
    minute_profile: tuple[float, ...] = field(default=(1.0,) * 60)  # by minute of hour, mean 1
    log_volume_sd: float = 0.9
    slow_share: float = 0.5
    vol_on_regime: float = 0.6
    taker_buy_share: float = 0.5
    median_range_bps: float = 0.0


def profile_from_calibration(symbol: str) -> SymbolProfile:
    """The calibrated profile of ``symbol`` (KeyError if it is not calibrated)."""
    cal = CALIBRATION[symbol]
    return SymbolProfile(
        start_price=float(cal["start_price"]), vol_per_minute=float(cal["sigma_1m"]),
        spread_bps=0.0, volume_per_minute=float(cal["volume_per_minute"]),
        volume_profile=tuple(cal["volume_profile"]), vol_profile=tuple(cal["vol_profile"]),
        minute_profile=tuple(cal.get("minute_profile", (1.0,) * 60)),
        log_volume_sd=float(cal["log_volume_sd"]), slow_share=float(cal["slow_share"]),
        vol_on_regime=float(cal["vol_on_regime"]), taker_buy_share=float(cal["taker_buy_share"]),
        median_range_bps=float(cal["median_range_bps"]),
    )


DEFAULT_PROFILES: dict[str, SymbolProfile] = {s: profile_from_calibration(s) for s in CALIBRATION}
_FALLBACK = SymbolProfile(100.0, 0.001, 1.0, 1000.0)


class _Generator:
    """Seeded bar generator of one symbol; keeps its regimes and last price between chunks."""

    def __init__(self, symbol: str, profile: SymbolProfile, seed: int) -> None:
        self.symbol = symbol
        self.profile = profile
        salt = sum((i + 1) * ord(ch) for i, ch in enumerate(symbol))
        self.rng = np.random.default_rng([seed, salt])
        self.slow_sd = math.sqrt(profile.slow_share) * profile.log_volume_sd
        self.fast_sd = math.sqrt(1.0 - profile.slow_share) * profile.log_volume_sd
        self.slow = float(self.rng.normal(0.0, self.slow_sd))
        self.fast = 0.0
        self.price = profile.start_price
        self.next_open_s = 0  # the open time of the next bar to generate
        self.past = PastState()  # depth/spread/touch state the last chunk leaves to the next

    def _regimes(self, minutes: int) -> tuple[FloatArray, FloatArray]:
        slow_eps = self.rng.normal(0.0, self.slow_sd * math.sqrt(1 - _SLOW_PHI**2), minutes)
        fast_eps = self.rng.normal(0.0, self.fast_sd * math.sqrt(1 - _FAST_PHI**2), minutes)
        slow = np.empty(minutes)
        fast = np.empty(minutes)
        s, f = self.slow, self.fast
        for k, (es, ef) in enumerate(zip(slow_eps.tolist(), fast_eps.tolist(), strict=True)):
            s = _SLOW_PHI * s + es
            f = _FAST_PHI * f + ef
            slow[k] = s
            fast[k] = f
        self.slow, self.fast = s, f
        return slow, fast

    def chunk(self, first_open_s: int, minutes: int, spec: SymbolSpec) -> BarPaths:
        """``minutes`` bars starting at epoch second ``first_open_s`` (minute aligned)."""
        p = self.profile
        open_s = first_open_s + 60 * np.arange(minutes, dtype=np.int64)
        self.next_open_s = first_open_s + 60 * minutes
        hours = (open_s // 3600) % 24
        slow, fast = self._regimes(minutes)
        k = p.vol_on_regime
        sigma = (p.vol_per_minute * np.asarray(p.vol_profile)[hours]
                 * np.exp(k * slow - k * k * self.slow_sd**2))
        steps = KNOTS - 1
        shocks = self.rng.standard_t(_T_DF, size=(minutes, steps)) / math.sqrt(_T_DF / (_T_DF - 2))
        increments = shocks * (sigma / math.sqrt(steps))[:, None]
        log_path = np.cumsum(increments.ravel()).reshape(minutes, steps)
        log_start = math.log(self.price)
        knot_log = np.concatenate(
            (np.concatenate(([0.0], log_path[:-1, -1]))[:, None], log_path), axis=1) + log_start
        knot_p: FloatArray = np.asarray(np.round(np.exp(knot_log), 8), dtype=np.float64)
        self.price = float(knot_p[-1, -1])
        knot_t = np.broadcast_to(np.linspace(0.0, 60.0, KNOTS), (minutes, KNOTS)).copy()
        total_var = self.slow_sd**2 + self.fast_sd**2
        minutes_of_hour = (open_s // 60) % 60
        volume = (p.volume_per_minute * np.asarray(p.volume_profile)[hours]
                  * np.asarray(p.minute_profile)[minutes_of_hour]
                  * np.exp(slow + fast - total_var / 2))
        bar_return = knot_log[:, -1] - knot_log[:, 0]
        buy_share = np.clip(p.taker_buy_share + 0.25 * np.tanh(bar_return / sigma), 0.05, 0.95)
        o, c = knot_p[:, 0], knot_p[:, -1]
        h: FloatArray = knot_p.max(axis=1)
        lo: FloatArray = knot_p.min(axis=1)
        expected = expected_volume(self.symbol, open_s, p.volume_per_minute)
        depth, spread, rate, self.past = micro_arrays(
            self.symbol, o, h, lo, volume, expected, before=self.past,
            median_range_bps=p.median_range_bps or None)
        return BarPaths(
            open_s, (o, h, lo, c, volume, volume * knot_p.mean(axis=1)),
            np.zeros(minutes, dtype=np.int64), volume * buy_share,
            (knot_t, knot_p, volume_shares(knot_t, knot_p)), depth, spread, rate,
        )


class SyntheticMarket(SimulatedMarket):
    """A deterministic calibrated market implementing the MarketData protocol."""

    CHUNK_MINUTES = 1440

    def __init__(
        self,
        symbols: list[str] | tuple[str, ...],
        start: datetime,
        seed: int = 7,
        profiles: dict[str, SymbolProfile] | None = None,
        *,
        history: timedelta | None = HISTORY_HORIZON,
    ) -> None:
        """Quote ``symbols`` from ``start``; ``profiles`` override the calibrated ones;
        ``history``: how far back bars are kept (None: everything)."""
        self._seed = seed
        self._history = history
        self._profiles = {
            s: (profiles or {}).get(s) or DEFAULT_PROFILES.get(s, _FALLBACK) for s in symbols}
        specs, paths = self._build(utc(start))
        super().__init__(specs, paths, utc(start), history=history, seed=seed)

    def _build(self, start: datetime) -> tuple[dict[str, SymbolSpec], dict[str, BarPaths]]:
        first = int(start.timestamp()) // 60 * 60
        self._origin_s = float(first)  # the first bar ever generated (older ones get dropped)
        self._generators: dict[str, _Generator] = {}
        specs: dict[str, SymbolSpec] = {}
        paths: dict[str, BarPaths] = {}
        for symbol, profile in self._profiles.items():
            specs[symbol] = make_spec(
                symbol, tick=Decimal(str(profile.tick_size)), sigma_1m=profile.vol_per_minute,
                volume_per_minute=profile.volume_per_minute,
                quote_volume_per_minute=profile.volume_per_minute * profile.start_price,
            )
            self._generators[symbol] = _Generator(symbol, profile, self._seed)
            paths[symbol] = self._generators[symbol].chunk(first, self.CHUNK_MINUTES,
                                                           specs[symbol])
        return specs, paths

    def advance_to(self, ts: datetime) -> None:
        """Move forward to ``ts``; a time before the first bar re-anchors the market there.

        A synthetic market has no history, so being driven by a clock that starts earlier than
        ``start`` (e.g. a TestClock in 2024 while ``start`` was the wall time) simply restarts
        the same seeded market at that time (impact state is reset, scripted shocks are kept).
        """
        if ts.timestamp() < self._origin_s:
            shocks = self._shocks
            specs, paths = self._build(utc(ts))
            SimulatedMarket.__init__(self, specs, paths, utc(ts), history=self._history,
                                    seed=self._seed)
            self._shocks = shocks  # scripted shocks are absolute times: keep them
            return
        super().advance_to(ts)

    def _ensure_bars(self, t: float) -> None:
        for symbol, paths in self._paths.items():
            generator = self._generators[symbol]
            while generator.next_open_s <= t:
                paths.extend(generator.chunk(generator.next_open_s, self.CHUNK_MINUTES,
                                             self._specs[symbol]))
                if self._history_s is not None:  # a long jump never holds more than it keeps
                    self._forget_before(t - self._history_s)
