"""L2 replay market: a recorded Binance order book and its trades, at their exchange timestamps.

``L2ReplayMarket({symbol: L2Recording})`` is a MarketData (quotes and books are the recorded
book at the market's time, rebuilt from snapshot + diffs by oms.market.l2_book; bars, volume and
VWAP come from the recorded trades) and offers the paper venue the same surface as a
SimulatedMarket (``top``, ``levels``, ``volume_through``, ``record_own_trade``,
``tick_decimal``; see oms.venues.paper_book.DepthMarket): taker orders walk the recorded levels,
resting orders wait in the recorded queue (oms.market.l2_book's queue model).

Impact is not modelled: our trades never move the recorded prices. The one concession is that a
level we took from stays depleted by our quantity until the recording next updates it. The market
is open from the first instant the book is known (the first applied diff) to the end of the
recording; outside it ``is_open`` is False and ``quote``/``top`` raise MarketClosed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from oms.clock import utc
from oms.errors import MarketClosed
from oms.market.l2_book import L2Book, QueueState
from oms.market.l2_files import FloatArray, L2Recording
from oms.market.simulated import Top
from oms.market.types import Bar, Book, BookLevel, Quote
from oms.model.enums import Side

__all__ = ["L2ReplayMarket"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DEFAULT_TICK = Decimal("0.01")  # BTCUSDT and ETHUSDT spot (exchange_info in shared/data)
_QUEUES_KEPT = 20_000  # queue states remembered (past that, all are forgotten at once)
# exchange times are whole ms; a datetime's epoch float may miss one by rounding
_SLACK_S = 1e-6


def _epoch(ts: datetime) -> float:
    return utc(ts).timestamp()


class _TradeTape:
    """Cumulative volume and notional of one symbol's trades, and its 1-minute bars."""

    def __init__(self, recording: L2Recording) -> None:
        self.time = recording.trade_time_s
        self.cum_volume: FloatArray = np.r_[0.0, np.cumsum(recording.trade_qty)]
        self.cum_notional: FloatArray = np.r_[0.0, np.cumsum(recording.trade_qty
                                                             * recording.trade_price)]
        minute = np.floor(self.time / 60.0).astype(np.int64)
        starts = np.flatnonzero(np.r_[True, minute[1:] != minute[:-1]]) if len(minute) else \
            np.zeros(0, dtype=np.int64)
        ends = np.r_[starts[1:], len(minute)]
        price, qty = recording.trade_price, recording.trade_qty
        self.bar_open_s = (minute[starts] * 60).astype(np.float64)
        self.bar_open = price[starts]
        self.bar_close = price[ends - 1]
        self.bar_high = np.maximum.reduceat(price, starts) if len(starts) else price[:0]
        self.bar_low = np.minimum.reduceat(price, starts) if len(starts) else price[:0]
        self.bar_volume = np.add.reduceat(qty, starts) if len(starts) else qty[:0]
        self.bar_quote = np.add.reduceat(qty * price, starts) if len(starts) else qty[:0]
        self.bar_count = ends - starts

    def cum(self, t: float) -> tuple[float, float]:
        """(volume, notional) of the trades before ``t``."""
        i = int(np.searchsorted(self.time, t, side="left"))
        return float(self.cum_volume[i]), float(self.cum_notional[i])


class L2ReplayMarket:
    """MarketData over recorded L2 books and trades (see the module docstring)."""

    def __init__(self, recordings: Mapping[str, L2Recording], *, start: datetime | None = None,
                 ticks: Mapping[str, Decimal] | None = None) -> None:
        """``start``: the market's first time (default: when every book is known)."""
        self._books = {symbol: L2Book(rec) for symbol, rec in recordings.items()}
        self._tapes = {symbol: _TradeTape(rec) for symbol, rec in recordings.items()}
        self._ticks = {symbol: (ticks or {}).get(symbol, _DEFAULT_TICK) for symbol in recordings}
        self._symbols = tuple(recordings)
        self.synced_at = _EPOCH + timedelta(seconds=max(
            r.synced_at_s for r in recordings.values()))
        self.ends_at = _EPOCH + timedelta(seconds=min(r.end_s for r in recordings.values()))
        self._now = utc(start) if start is not None else self.synced_at
        self._t = _epoch(self._now)
        self._queues: dict[tuple[str, int, float], QueueState] = {}  # by the check's end
        self._answers: dict[tuple[str, int, float, float], float] = {}
        self._quotes: dict[str, Quote] = {}

    # ------------------------------------------------------------------ MarketData
    @property
    def symbols(self) -> tuple[str, ...]:
        """The recorded symbols."""
        return self._symbols

    @property
    def now(self) -> datetime:
        """The market's current time."""
        return self._now

    def advance_to(self, ts: datetime) -> None:
        """Move the market to ``ts`` (a no-op for times not after the current one)."""
        t = _epoch(ts)
        if t <= self._t:
            return
        self._now, self._t = utc(ts), t
        self._quotes.clear()

    def _book(self, symbol: str) -> L2Book:
        try:
            return self._books[symbol]
        except KeyError:
            raise MarketClosed(f"symbol {symbol} is not in this recording") from None

    def _message(self, symbol: str, t: float) -> int:
        book = self._book(symbol)
        rec = book.recording
        if not rec.synced_at_s - _SLACK_S <= t <= rec.end_s + _SLACK_S:
            at = (_EPOCH + timedelta(seconds=t)).isoformat()
            raise MarketClosed(f"{symbol}: the recording does not cover {at}")
        return max(book.message_at(t + _SLACK_S), 0)

    def is_open(self, symbol: str) -> bool:
        """True while the recording covers the market's time."""
        rec = self._books[symbol].recording if symbol in self._books else None
        return rec is not None and (
            rec.synced_at_s - _SLACK_S <= self._t <= rec.end_s + _SLACK_S)

    def quote(self, symbol: str) -> Quote:
        """The recorded best bid/ask and their sizes now."""
        cached = self._quotes.get(symbol)
        if cached is not None:
            return cached
        bid, bid_size, ask, ask_size = self._book(symbol).top_at(self._message(symbol, self._t))
        quote = Quote(symbol, self._now, self._dec(symbol, bid), self._dec(symbol, ask),
                      Decimal(f"{bid_size:.8f}"), Decimal(f"{ask_size:.8f}"))
        self._quotes[symbol] = quote
        return quote

    def book(self, symbol: str, depth: int = 20) -> Book:
        """The recorded book now, ``depth`` levels a side."""
        message = self._message(symbol, self._t)
        book = self._book(symbol)

        def side(buy: bool) -> tuple[BookLevel, ...]:
            levels: list[BookLevel] = []
            for price, size in book.walk(message, buy, self._t):
                levels.append(BookLevel(self._dec(symbol, price), Decimal(f"{size:.8f}")))
                if len(levels) >= depth:
                    break
            return tuple(levels)

        return Book(symbol, self._now, side(False), side(True))

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        """Completed 1-minute bars of the recorded trades, ``start <= open_time < end``."""
        tape = self._tapes[symbol]
        t0, t1 = _epoch(start), min(_epoch(end), self._t - 60.0 + 1e-3)
        lo = int(np.searchsorted(tape.bar_open_s, t0 - 1e-9, side="left"))
        hi = int(np.searchsorted(tape.bar_open_s, t1, side="left"))
        return [Bar(symbol, _EPOCH + timedelta(seconds=float(tape.bar_open_s[i])),
                    float(tape.bar_open[i]), float(tape.bar_high[i]), float(tape.bar_low[i]),
                    float(tape.bar_close[i]), float(tape.bar_volume[i]),
                    float(tape.bar_quote[i]), int(tape.bar_count[i]))
                for i in range(lo, hi)]

    def traded_volume(self, symbol: str, start: datetime, end: datetime) -> Decimal:
        """Recorded volume (base asset) in [start, end) up to now."""
        tape = self._tapes[symbol]
        t0, t1 = _epoch(start), min(_epoch(end), self._t)
        if t1 <= t0:
            return Decimal(0)
        volume = tape.cum(t1)[0] - tape.cum(t0)[0]
        return Decimal(f"{max(volume, 0.0):.8f}")

    def vwap(self, symbol: str, start: datetime, end: datetime) -> Decimal | None:
        """Recorded VWAP over [start, end) up to now; None if nothing traded."""
        tape = self._tapes[symbol]
        t0, t1 = _epoch(start), min(_epoch(end), self._t)
        if t1 <= t0:
            return None
        (v0, n0), (v1, n1) = tape.cum(t0), tape.cum(t1)
        if v1 - v0 <= 1e-12:
            return None
        return Decimal(f"{(n1 - n0) / (v1 - v0):.8f}")

    # ------------------------------------------------------------------ the paper venue's surface
    def tick_decimal(self, symbol: str) -> Decimal:
        """The price tick of ``symbol``."""
        return self._ticks[symbol]

    def _dec(self, symbol: str, price: float) -> Decimal:
        tick = self._ticks[symbol]
        return Decimal(round(price / float(tick))) * tick

    def top(self, symbol: str, ts: datetime | float | None = None) -> Top:
        """Float top of the recorded book at ``ts`` (epoch seconds or datetime; default now).
        ``Top.index`` is the depth message in force; ``scale`` is 1."""
        t = self._t if ts is None else (ts if isinstance(ts, float) else _epoch(ts))
        message = self._message(symbol, t)
        book = self._books[symbol]
        bid, ask = int(book.best_bid[message]), int(book.best_ask[message])
        if bid < 0 or ask >= book.n:
            raise MarketClosed(f"{symbol}: one side of the recorded book is empty")
        return Top(t, float(book.prices[bid]), float(book.prices[ask]), 1.0, message)

    def levels(self, symbol: str, side: Side, top: Top) -> Iterator[tuple[float, float]]:
        """Recorded levels a marketable order on ``side`` walks at ``top`` (asks for a buy)."""
        return self._book(symbol).walk(top.index, side is Side.BUY, top.ts)

    def record_own_trade(self, symbol: str, side: Side, quantity: float,
                         ts: datetime | float | None = None, *, passive: bool = False) -> None:
        """Our taker trade: the levels it took stay depleted until the recording updates them
        (prices do not move: no impact). A passive fill changes nothing here (the venue's queue
        model handles it)."""
        if passive or quantity <= 0:
            return
        t = self._t if ts is None else (ts if isinstance(ts, float) else _epoch(ts))
        try:
            message = self._message(symbol, t)
        except MarketClosed:
            return
        self._books[symbol].take(message, side is Side.BUY, quantity, t)

    def volume_through(self, symbol: str, resting_side: Side, price: float, t0: float,
                       t1: float) -> tuple[float, bool]:
        """For a resting order at ``price``: the recorded trades at its price plus the cancels
        ahead of it in (t0, t1] (oms.market.l2_book queue model), and whether the market
        traded through its price. The queue starts as the level's recorded size at ``t0`` the
        first time an order is checked from there, as the paper venue's queue does (with its
        default ``queue_ahead_factor`` of 1)."""
        book = self._book(symbol)
        if t1 <= t0:
            return 0.0, False
        bid_side = resting_side is Side.BUY
        crossed = book.traded_through(bid_side, price, t0, t1)
        key = book.key_of(price, bid_side)
        if key is None:
            return 0.0, crossed  # a price the recording never shows: nothing queues there
        # orders at one price checked over the same interval share one answer
        done = self._answers.get((symbol, key, t0, t1))
        if done is not None:
            return done, crossed
        state = self._queues.get((symbol, key, t0))
        if state is None:
            size = book.size_at(key, t0)
            state = QueueState(size, size)
        else:
            state = QueueState(state.ahead, state.level)
        volume = book.queue_volume(key, state, t0, t1)
        if len(self._queues) >= _QUEUES_KEPT:
            # an order whose state is gone restarts from the level's size
            self._queues.clear()
            self._answers.clear()
        self._queues[(symbol, key, t1)] = state
        self._answers[(symbol, key, t0, t1)] = volume
        return volume, crossed
