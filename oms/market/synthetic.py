"""Synthetic market (v0): a seeded random walk per symbol with a spread and a flat volume rate.

The simulator issue replaces the internals with a calibrated model; the constructor and the
MarketData methods stay.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from oms.clock import utc
from oms.errors import MarketClosed
from oms.market.types import Bar, Book, BookLevel, Quote

__all__ = ["SymbolProfile", "SyntheticMarket", "DEFAULT_PROFILES"]


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    """Statistics that drive one symbol's synthetic market."""

    start_price: float
    vol_per_minute: float  # standard deviation of 1-minute log returns
    spread_bps: float
    volume_per_minute: float  # base asset
    tick_size: float = 0.01


DEFAULT_PROFILES: dict[str, SymbolProfile] = {
    "BTCUSDT": SymbolProfile(60_000.0, 0.0008, 0.02, 20.0),
    "ETHUSDT": SymbolProfile(3_200.0, 0.0010, 0.04, 250.0),
    "SOLUSDT": SymbolProfile(140.0, 0.0015, 0.8, 4_000.0),
}


class _SymbolState:
    __slots__ = ("bar_high", "bar_low", "bar_open", "bar_start", "bar_volume", "bar_quote",
                 "bars", "mid", "profile")

    def __init__(self, profile: SymbolProfile, start: datetime) -> None:
        self.profile = profile
        self.mid = profile.start_price
        self.bars: deque[Bar] = deque(maxlen=24 * 60)
        self.bar_start = start.replace(second=0, microsecond=0)
        self.bar_open = self.bar_high = self.bar_low = self.mid
        self.bar_volume = 0.0
        self.bar_quote = 0.0


class SyntheticMarket:
    """A deterministic random-walk market implementing the MarketData protocol."""

    def __init__(
        self,
        symbols: list[str] | tuple[str, ...],
        start: datetime,
        seed: int = 7,
        profiles: dict[str, SymbolProfile] | None = None,
    ) -> None:
        profiles = profiles or DEFAULT_PROFILES
        self._symbols = tuple(symbols)
        self._now = utc(start)
        self._rng = random.Random(seed)
        self._state = {
            s: _SymbolState(profiles.get(s, SymbolProfile(100.0, 0.001, 1.0, 1000.0)), self._now)
            for s in self._symbols
        }

    @property
    def symbols(self) -> tuple[str, ...]:
        """The quoted symbols."""
        return self._symbols

    @property
    def now(self) -> datetime:
        """The market's current time."""
        return self._now

    def advance_to(self, ts: datetime) -> None:
        """Walk each price forward in one-second steps up to ``ts``."""
        ts = utc(ts)
        if ts <= self._now:
            return
        if ts - self._now > timedelta(days=1):  # do not simulate days of idle time second by second
            self._now = ts - timedelta(days=1)
        while self._now < ts:
            step = min(timedelta(seconds=1), ts - self._now)
            self._now += step
            dt = step.total_seconds()
            for state in self._state.values():
                self._step(state, dt)

    def _step(self, state: _SymbolState, dt: float) -> None:
        profile = state.profile
        sigma = profile.vol_per_minute * math.sqrt(dt / 60.0)
        state.mid *= math.exp(self._rng.gauss(0.0, sigma))
        volume = profile.volume_per_minute * dt / 60.0
        minute = self._now.replace(second=0, microsecond=0)
        if minute > state.bar_start:
            self._close_bar(state)
            state.bar_start = minute
            state.bar_open = state.bar_high = state.bar_low = state.mid
        state.bar_high = max(state.bar_high, state.mid)
        state.bar_low = min(state.bar_low, state.mid)
        state.bar_volume += volume
        state.bar_quote += volume * state.mid

    def _close_bar(self, state: _SymbolState) -> None:
        symbol = next(s for s, st in self._state.items() if st is state)
        state.bars.append(Bar(symbol, state.bar_start, state.bar_open, state.bar_high,
                              state.bar_low, state.mid, state.bar_volume, state.bar_quote))
        state.bar_volume = state.bar_quote = 0.0

    def _get(self, symbol: str) -> _SymbolState:
        try:
            return self._state[symbol]
        except KeyError:
            raise MarketClosed(f"symbol {symbol} is not quoted by this market") from None

    def is_open(self, symbol: str) -> bool:
        """Synthetic markets never close."""
        return symbol in self._state

    def quote(self, symbol: str) -> Quote:
        """Best bid/ask around the current mid, on the tick grid."""
        state = self._get(symbol)
        profile = state.profile
        half = max(state.mid * profile.spread_bps / 20_000, profile.tick_size / 2)
        tick = Decimal(str(profile.tick_size))
        bid = (Decimal(repr(state.mid - half)) / tick).to_integral_value() * tick
        ask = max((Decimal(repr(state.mid + half)) / tick).to_integral_value() * tick, bid + tick)
        size = Decimal(repr(round(profile.volume_per_minute / 10, 4)))
        return Quote(symbol, self._now, bid, ask, size, size)

    def book(self, symbol: str, depth: int = 20) -> Book:
        """A simple book: equal size per level, one tick apart."""
        top = self.quote(symbol)
        tick = Decimal(str(self._get(symbol).profile.tick_size))
        bids = tuple(BookLevel(top.bid - tick * i, top.bid_size) for i in range(depth))
        asks = tuple(BookLevel(top.ask + tick * i, top.ask_size) for i in range(depth))
        return Book(symbol, self._now, bids, asks)

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        """Completed bars in [start, end)."""
        return [b for b in self._get(symbol).bars if start <= b.open_time < end]

    def traded_volume(self, symbol: str, start: datetime, end: datetime) -> Decimal:
        """Volume at the flat rate of the profile over the overlap of [start, end) with the past."""
        end = min(end, self._now)
        seconds = max((end - start).total_seconds(), 0.0)
        return Decimal(repr(round(self._get(symbol).profile.volume_per_minute * seconds / 60, 8)))

    def vwap(self, symbol: str, start: datetime, end: datetime) -> Decimal | None:
        """VWAP over the completed bars in the window (the current mid if none completed)."""
        bars = self.bars(symbol, start.replace(second=0, microsecond=0), end)
        volume = sum(b.volume for b in bars)
        if volume <= 0:
            return self.quote(symbol).mid if self.is_open(symbol) else None
        return Decimal(repr(sum(b.quote_volume for b in bars) / volume))
