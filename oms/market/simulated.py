"""The simulation core shared by the kline replay and the synthetic market.

A market holds, per symbol, 1-minute bars with sub-minute knots (oms.market.paths): the path mid
is linear between knots. The quoted touch is piecewise constant (oms.market.touch): it changes
only at seeded touch events, re-quoted around the path mid of that instant, so an order joining
the touch is rarely marketable a few milliseconds later, as on a real book. Our own trades
(oms.market.impact) and scripted price shocks shift the quotes multiplicatively. The L2 book comes
from oms.market.book scaled by the bar's depth scale. Depth, spread and touch activity come from
earlier bars only (oms.market.specs.micro_arrays): nothing shown during a minute depends on that
minute's final volume or range, nor on any later bar. Bars are looked up by index (searchsorted
over bar starts), so moving time costs no Python loop over seconds. A missing bar is a closed
market: ``is_open`` is False and ``quote``/``book`` raise MarketClosed.

History is bounded (oms.market.base.HISTORY_HORIZON, two days by default): once the oldest bar
held is a day older than the horizon, the bars that closed by ``now - horizon`` are dropped, so a
market
holds between two and three days of past bars whatever time has passed (one copy of the
arrays per market day; the synthetic market also holds the day it has generated ahead). Answers
for times within the horizon are exactly those of a market that keeps everything. (Scripted
shocks are kept: they grow with ``shock`` calls, not with time.)

Besides the MarketData protocol, simulated markets offer what the paper venue needs:
``configure_impact``, ``record_own_trade``, ``shock``, ``top`` (float top of book at a time),
``levels`` (book levels to walk) and ``volume_through`` (for the resting-order queue model).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from oms.clock import utc
from oms.errors import MarketClosed
from oms.market.base import HISTORY_HORIZON
from oms.market.book import LevelGrid
from oms.market.impact import ImpactModel, ImpactParams
from oms.market.paths import BarPaths
from oms.market.touch import TouchParams, bar_touch, bid_ticks, micro_key, touch_volume_share
from oms.market.types import Bar, Book, BookLevel, Quote
from oms.model.enums import Side

__all__ = ["SimulatedMarket", "SymbolSpec", "Top"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TOUCH_CACHE_BARS = 128  # about 2 MB of touch events per symbol
_TRIM_SLACK_S = 86_400.0  # history is dropped a day at a time, not on every advance


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """Static facts of one simulated symbol."""

    symbol: str
    tick: float
    sigma_1m: float
    volume_per_minute: float
    grid: LevelGrid
    tick_decimal: Decimal = Decimal("0.01")


class Top:
    """Top of book at one instant, as floats (prices on the tick grid)."""

    __slots__ = ("ask", "bid", "index", "mid", "scale", "ts")

    def __init__(self, ts: float, bid: float, ask: float, scale: float, index: int) -> None:
        self.ts = ts
        self.bid = bid
        self.ask = ask
        self.mid = (bid + ask) * 0.5
        self.scale = scale
        self.index = index

    @property
    def half_spread(self) -> float:
        """(ask - bid) / 2."""
        return (self.ask - self.bid) * 0.5


def _epoch(ts: datetime) -> float:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


class _BarInfo:
    """One bar's lookup cache: index, start, end, depth scale and touch events."""

    __slots__ = ("end", "index", "scale", "start", "touch")

    def __init__(self, paths: BarPaths, i: int, key: int, params: TouchParams) -> None:
        self.index = i
        self.start = float(paths.open_s[i])
        self.end = self.start + 60.0
        self.scale = float(paths.depth_scale[i])
        self.touch = bar_touch(paths, i, key, params)


def _iso(t: float) -> str:
    return (_EPOCH + timedelta(seconds=t)).isoformat()


class SimulatedMarket:
    """Bars-with-paths market implementing MarketData plus the paper venue's simulation surface."""

    def __init__(self, specs: dict[str, SymbolSpec], paths: dict[str, BarPaths],
                 start: datetime, *, history: timedelta | None = HISTORY_HORIZON,
                 seed: int = 7, touch: Mapping[str, TouchParams] | None = None) -> None:
        """``history``: how far back bars are kept (None keeps everything: studies of long
        synthetic series, reference markets in tests); ``seed`` drives the touch events;
        ``touch`` overrides the calibrated touch parameters (the calibration script)."""
        self._keys = {s: micro_key(seed, s) for s in specs}
        self._touch_params = {s: (touch or {}).get(s) or TouchParams.calibrated(s)
                              for s in specs}
        self._touch_cache: dict[str, dict[float, _BarInfo]] = {s: {} for s in specs}
        self._history_s = None if history is None else history.total_seconds()
        self._specs = specs
        self._paths = paths
        self._symbols = tuple(specs)
        self._now = utc(start)
        self._t = _epoch(self._now)
        self._index: dict[str, int] = {}
        self._current: dict[str, _BarInfo | None] = {}
        self._quotes: dict[str, Quote] = {}
        #: per symbol the last quote's (bid, ask, depth scale) floats and their Decimals
        self._last_prices: dict[str, tuple[tuple[float, float, float],
                                           tuple[Decimal, Decimal, Decimal, Decimal]]] = {}
        self._tops: dict[str, Top] = {}
        self._impact_params: ImpactParams = getattr(self, "_impact_params", ImpactParams())
        self._impact = {s: ImpactModel(self._impact_params, sp.sigma_1m, sp.volume_per_minute)
                        for s, sp in specs.items()}
        self._shocks: dict[str, list[tuple[float, float]]] = {s: [] for s in specs}
        if self._history_s is not None:
            self._forget_before(self._t - self._history_s)
        self._locate_all()

    # ----------------------------------------------------------------- time and lookup
    @property
    def symbols(self) -> tuple[str, ...]:
        """The quoted symbols."""
        return self._symbols

    @property
    def now(self) -> datetime:
        """The market's current time."""
        return self._now

    def _ensure_bars(self, t: float) -> None:
        """Hook: make sure bars exist up to epoch second ``t`` (the synthetic market generates)."""

    def advance_to(self, ts: datetime) -> None:
        """Move the market to ``ts`` (a no-op for times not after the current one)."""
        t = _epoch(ts)
        if t <= self._t:
            return
        self._ensure_bars(t)
        self._now = ts if ts.tzinfo is UTC else utc(ts)
        self._t = t
        self._quotes.clear()
        self._tops.clear()
        if self._history_s is not None:
            self._forget_before(t - self._history_s)
        self._locate_all()

    def _forget_before(self, cutoff: float) -> None:
        """Drop the bars that closed by ``cutoff`` once the oldest is a day older than it."""
        for symbol, paths in self._paths.items():
            if not len(paths) or float(paths.open_s[0]) >= cutoff - _TRIM_SLACK_S:
                continue
            # bars that closed by the cutoff go; the one covering it stays
            paths.drop_first(int(np.searchsorted(paths.open_s, cutoff - 60.0, side="right")))
            self._current[symbol] = None  # it holds an index into the arrays
            self._touch_cache[symbol].clear()

    def retained_bars(self) -> dict[str, int]:
        """Bars held per symbol (past within the horizon plus any generated ahead)."""
        return {symbol: len(paths) for symbol, paths in self._paths.items()}

    def _locate_all(self) -> None:
        t = self._t
        for symbol, paths in self._paths.items():
            current = self._current.get(symbol)
            if current is not None and current.start <= t < current.end:
                continue
            j = self._bar_at(paths, t)
            self._index[symbol] = j
            self._current[symbol] = None if j < 0 else self._info(symbol, paths, j)

    def _info(self, symbol: str, paths: BarPaths, i: int) -> _BarInfo:
        """Bar ``i``'s cache entry (touch events are drawn once per bar; the last
        ``_TOUCH_CACHE_BARS`` bars are kept, so a report over a parent's window reuses them)."""
        cache = self._touch_cache[symbol]
        start = float(paths.open_s[i])
        info = cache.get(start)
        if info is None or info.index != i:
            if len(cache) >= _TOUCH_CACHE_BARS:
                del cache[next(iter(cache))]  # the oldest drawn
            info = cache[start] = _BarInfo(paths, i, self._keys[symbol],
                                           self._touch_params[symbol])
        return info

    @staticmethod
    def _bar_at(paths: BarPaths, t: float) -> int:
        i = int(np.searchsorted(paths.open_s, t, side="right")) - 1
        if i >= 0 and t < paths.open_s[i] + 60:
            return i
        return -1

    def _spec(self, symbol: str) -> SymbolSpec:
        try:
            return self._specs[symbol]
        except KeyError:
            raise MarketClosed(f"symbol {symbol} is not quoted by this market") from None

    def touch_notional(self, symbol: str) -> float:
        """Quote notional at the touch at depth scale 1."""
        return self._spec(symbol).grid.touch_notional

    def tick_decimal(self, symbol: str) -> Decimal:
        """The price tick of ``symbol``."""
        return self._spec(symbol).tick_decimal

    def is_open(self, symbol: str) -> bool:
        """True when a bar covers the current time."""
        return self._index.get(symbol, -1) >= 0

    # ----------------------------------------------------------------- prices
    def _offset(self, symbol: str, t: float, event_t: float | None = None) -> float:
        """Impact + shock log-shift at ``t``. With ``event_t`` (the touch event in force) the
        temporary impact is read at that event or at our last trade, whichever is later, so the
        quotes stay constant between events while our own trades still move them at once."""
        impact = self._impact[symbol]
        at = t if event_t is None else max(event_t, min(impact.last_ts, t))
        offset = impact.offset(at)
        for at, shift in self._shocks[symbol]:
            if at <= t:
                offset += shift
        return offset

    def path_mid(self, symbol: str, ts: datetime | None = None, *, quoted: bool = False) -> float:
        """The market's own mid (no impact, no shocks) at ``ts`` (default now): the continuous
        path, or with ``quoted`` the path mid the touch in force was quoted around."""
        t = self._t if ts is None else _epoch(ts)
        info = self._bar_info_at(symbol, t)
        offset = t - info.start
        if quoted:
            touch = info.touch
            return touch.mids[touch.index_at(offset)]
        paths = self._paths[symbol]
        return float(np.interp(offset, paths.knot_t[info.index], paths.knot_p[info.index]))

    def _bar_info_at(self, symbol: str, t: float) -> _BarInfo:
        info = self._current.get(symbol)
        if info is None or not info.start <= t < info.end:
            paths = self._paths[symbol]
            i = self._bar_at(paths, t)
            if i < 0:
                raise MarketClosed(f"{symbol}: no market data at {_iso(t)}")
            info = self._info(symbol, paths, i)
        return info

    def top(self, symbol: str, ts: datetime | float | None = None) -> Top:
        """Float top of book at ``ts`` (datetime or epoch seconds; default now, cached)."""
        if ts is None:
            cached = self._tops.get(symbol)
            if cached is not None:
                return cached
            t = self._t
        else:
            t = ts if isinstance(ts, float) else _epoch(ts)
        spec = self._spec(symbol)
        info = self._bar_info_at(symbol, t)
        touch = info.touch
        k = touch.index_at(t - info.start)
        offset = self._offset(symbol, t, info.start + touch.times[k])
        mid = touch.mids[k] * math.exp(offset) if offset else touch.mids[k]
        tick = spec.tick
        width = touch.widths[k]
        bid = bid_ticks(mid, width, tick)
        top = Top(t, round(bid * tick, 10), round((bid + width) * tick, 10),
                  info.scale, info.index)
        if ts is None:
            self._tops[symbol] = top
        return top

    def touch_events(self, symbol: str, t0: float, t1: float) -> list[float]:
        """Epoch seconds of the touch events in [t0, t1) (the quotes can change only there; an
        event may re-quote the same prices). Bar starts count as events."""
        self._spec(symbol)
        paths = self._paths[symbol]
        out: list[float] = []
        i = max(int(np.searchsorted(paths.open_s, t0, side="right")) - 1, 0)
        while i < len(paths) and paths.open_s[i] < t1:
            info = self._info(symbol, paths, i)
            out.extend(t for t in (info.start + x for x in info.touch.times) if t0 <= t < t1)
            i += 1
        return out

    def _dec(self, spec: SymbolSpec, price: float) -> Decimal:
        return Decimal(round(price / spec.tick)) * spec.tick_decimal

    def quote(self, symbol: str) -> Quote:
        """Best bid/ask now with touch sizes (cached per time)."""
        cached = self._quotes.get(symbol)
        if cached is not None:
            return cached
        spec = self._spec(symbol)
        top = self.top(symbol)
        # the touch stands still between its events: most ticks quote the floats of the last
        # one, whose Decimals (a pure function of them and the symbol's spec) are reused
        key = (top.bid, top.ask, top.scale)
        last = self._last_prices.get(symbol)
        if last is not None and last[0] == key:
            prices = last[1]
        else:
            touch = spec.grid.touch_notional * top.scale
            prices = (self._dec(spec, top.bid), self._dec(spec, top.ask),
                      Decimal(f"{touch / top.bid:.8f}"), Decimal(f"{touch / top.ask:.8f}"))
            self._last_prices[symbol] = (key, prices)
        quote = Quote(symbol, self._now, *prices)
        self._quotes[symbol] = quote
        return quote

    def levels(self, symbol: str, side: Side, top: Top) -> Iterator[tuple[float, float]]:
        """Book levels a marketable order on ``side`` walks (asks for a buy), best first."""
        spec = self._spec(symbol)
        buy = side is Side.BUY
        return spec.grid.levels(top.mid, top.ask if buy else top.bid, spec.tick, buy, top.scale)

    def book(self, symbol: str, depth: int = 20) -> Book:
        """L2 book now: ``depth`` levels a side."""
        spec = self._spec(symbol)
        top = self.top(symbol)
        bids, asks = spec.grid.depth(top.mid, top.bid, top.ask, spec.tick, top.scale, depth)
        return Book(
            symbol, self._now,
            tuple(BookLevel(self._dec(spec, p), Decimal(f"{q:.8f}")) for p, q in bids),
            tuple(BookLevel(self._dec(spec, p), Decimal(f"{q:.8f}")) for p, q in asks),
        )

    # ----------------------------------------------------------------- own flow and faults
    def configure_impact(self, params: ImpactParams) -> None:
        """Use ``params`` for every symbol (resets impact state)."""
        self._impact_params = params
        self._impact = {s: ImpactModel(params, sp.sigma_1m, sp.volume_per_minute)
                        for s, sp in self._specs.items()}

    def impact_model(self, symbol: str) -> ImpactModel:
        """The impact state of ``symbol``."""
        return self._impact[symbol]

    def record_own_trade(self, symbol: str, side: Side, quantity: float,
                         ts: datetime | float | None = None, *, passive: bool = False) -> None:
        """Tell the market we traded: the mid moves by the impact model from ``ts`` on
        (``passive``: a maker fill, which moves it less; oms.market.impact)."""
        t = self._t if ts is None else (ts if isinstance(ts, float) else _epoch(ts))
        self._impact[symbol].record(quantity if side is Side.BUY else -quantity, t,
                                    passive=passive)
        self._tops.pop(symbol, None)
        self._quotes.pop(symbol, None)

    def shock(self, symbol: str, bps: float, at: datetime | None = None) -> None:
        """Shift the mid of ``symbol`` by ``bps`` (log) from ``at`` (default now) on, for good."""
        self._spec(symbol)
        t = self._t if at is None else _epoch(at)
        self._shocks[symbol].append((t, math.log1p(bps * 1e-4)))
        self._tops.pop(symbol, None)
        self._quotes.pop(symbol, None)

    # ----------------------------------------------------------------- volume and history
    def _cum(self, symbol: str, t: float, quote: bool) -> float:
        return self._paths[symbol].cumulative(t, quote)

    def traded_volume(self, symbol: str, start: datetime, end: datetime) -> Decimal:
        """Market volume (base asset) in [start, end) up to now."""
        self._spec(symbol)
        t0, t1 = _epoch(start), min(_epoch(end), self._t)
        if t1 <= t0:
            return Decimal(0)
        volume = self._cum(symbol, t1, False) - self._cum(symbol, t0, False)
        return Decimal(f"{max(volume, 0.0):.8f}")

    def vwap(self, symbol: str, start: datetime, end: datetime) -> Decimal | None:
        """Market VWAP over [start, end) up to now; None if nothing traded."""
        self._spec(symbol)
        t0, t1 = _epoch(start), min(_epoch(end), self._t)
        if t1 <= t0:
            return None
        volume = self._cum(symbol, t1, False) - self._cum(symbol, t0, False)
        if volume <= 1e-12:
            return None
        notional = self._cum(symbol, t1, True) - self._cum(symbol, t0, True)
        return Decimal(f"{notional / volume:.8f}")

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        """Completed bars with ``start <= open_time < end`` (replay: the file's values)."""
        self._spec(symbol)
        paths = self._paths[symbol]
        t0, t1 = _epoch(start), min(_epoch(end), self._t - 60.0 + 1e-3)
        lo = int(np.searchsorted(paths.open_s, math.ceil(t0 - 1e-9), side="left"))
        hi = int(np.searchsorted(paths.open_s, t1, side="left"))
        if hi <= lo:
            return []
        return [Bar(symbol, _EPOCH + timedelta(seconds=s), o, h, lo_, c, v, q, int(n))
                for s, o, h, lo_, c, v, q, n in self._paths[symbol].rows(lo, hi)]

    def volume_through(self, symbol: str, resting_side: Side, price: float, t0: float,
                       t1: float) -> tuple[float, bool]:
        """Aggressor volume that reached a resting order at ``price`` during (t0, t1].

        For a resting buy: sell-aggressor volume (bar volume x taker-sell share, released along
        the sub-minute path) traded while the quoted bid was at or below ``price``; ``crossed``
        is True if the quoted ask fell to ``price`` or below (the level was traded through).
        Mirror image for a resting sell. The touch is the piecewise-constant one ``top`` shows;
        the impact/shock offset is taken at ``t1`` for the whole interval.
        """
        paths = self._paths[symbol]
        spec = self._spec(symbol)
        if t1 <= t0:
            return 0.0, False
        scale = math.exp(self._offset(symbol, t1))
        buy = resting_side is Side.BUY
        order = (buy, round(price / spec.tick))
        volume = 0.0
        crossed = False
        i = max(int(np.searchsorted(paths.open_s, t0, side="right")) - 1, 0)
        n = len(paths)
        while i < n and paths.open_s[i] < t1:
            info = self._info(symbol, paths, i)
            lo, hi = max(t0 - info.start, 0.0), min(t1 - info.start, 60.0)
            if hi > lo:
                bar_volume = float(paths.volume[i])
                taker_buy = float(paths.taker_buy[i]) / bar_volume if bar_volume > 0 else 0.5
                share, through = touch_volume_share(
                    info.touch, lo, hi, (paths.knot_t[i].tolist(), paths.knot_v[i].tolist()),
                    order, spec.tick, scale)
                volume += bar_volume * ((1.0 - taker_buy) if buy else taker_buy) * share
                crossed = crossed or through
            i += 1
        return volume, crossed
