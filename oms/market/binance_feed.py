"""Binance market data: best bid/ask, trades and 1-minute klines from websockets, REST fallback.

Feeds the same Quote / Bar / Trade / Book types the simulator produces, so algorithms, risk and
TCA do not know the difference. The websocket (python-binance's ThreadedWebsocketManager,
multiplex of ``<symbol>@bookTicker``, ``@trade`` and ``@kline_1m``) only appends to an inbox;
``advance_to`` (engine thread) applies it, and falls back to REST (bookTicker, klines, depth)
for any symbol whose stream went quiet. Closed bars are kept for oms.market.base.HISTORY_HORIZON
(older ones are dropped a day at a time); trades for the last ``keep_trades``.

REST goes through a RestGateway over the process's one RateLimiter (bans are per IP): while it
backs off or is banned the feed sends nothing and serves what it holds; quotes then go stale.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from oms.clock import Clock, LiveClock, utc
from oms.errors import MarketClosed
from oms.market.base import HISTORY_HORIZON
from oms.market.types import Bar, Book, BookLevel, Quote, Trade
from oms.model.enums import Side
from oms.venues.binance_limits import RateLimiter, VenueStatus, default_limits
from oms.venues.binance_rest import RestGateway

__all__ = [
    "BinanceMarketData",
    "MarketStreamTransport",
    "ThreadedMarketStream",
    "bar_from_kline",
    "quote_from_book_ticker",
    "trade_from_message",
]

log = logging.getLogger(__name__)

Message = dict[str, Any]
_MINUTE = timedelta(minutes=1)
# bars held per symbol before the old ones are dropped: the horizon plus a day of slack
_MAX_BARS = int((HISTORY_HORIZON + timedelta(days=1)) / _MINUTE)


class MarketStreamTransport(Protocol):
    """A market-data connection calling ``callback(message)`` for each stream message."""

    def start(self, callback: Callable[[Message], None], streams: list[str]) -> None:
        """Subscribe to ``streams`` and start delivering."""
        ...

    def stop(self) -> None:
        """Disconnect."""
        ...


class ThreadedMarketStream:
    """MarketStreamTransport over python-binance's ThreadedWebsocketManager (multiplex socket)."""

    def __init__(self, manager_factory: Callable[[asyncio.AbstractEventLoop], Any]) -> None:
        self._factory = manager_factory
        self._manager: Any = None

    def start(self, callback: Callable[[Message], None], streams: list[str]) -> None:
        """Start the manager thread and one multiplex socket."""
        # python-binance builds sockets on the caller's current event loop and runs that loop in
        # its thread: a fresh loop per connection, so a reconnect never meets a running loop
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._manager = self._factory(loop)
        self._manager.daemon = True  # a closing socket must not hold the process open
        self._manager.start()
        self._manager.start_multiplex_socket(callback=callback, streams=streams)

    def stop(self) -> None:
        """Stop the manager (idempotent)."""
        if self._manager is not None:
            try:
                self._manager.stop()  # its thread ends by itself within ~10 s (read timeout)
            finally:
                self._manager = None


def _ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def quote_from_book_ticker(msg: Message, ts: datetime) -> Quote:
    """A Quote from a ``bookTicker`` stream message or the REST ``ticker/bookTicker`` row."""
    bid = msg.get("b", msg.get("bidPrice"))
    ask = msg.get("a", msg.get("askPrice"))
    return Quote(symbol=str(msg.get("s", msg.get("symbol"))), ts=ts,
                 bid=Decimal(str(bid)), ask=Decimal(str(ask)),
                 bid_size=Decimal(str(msg.get("B", msg.get("bidQty", "0")))),
                 ask_size=Decimal(str(msg.get("A", msg.get("askQty", "0")))))


def trade_from_message(msg: Message) -> Trade:
    """A Trade from a ``trade`` stream message (``m``: the buyer was the maker, so a sell hit)."""
    return Trade(symbol=str(msg["s"]), ts=_ms(msg["T"]), price=Decimal(str(msg["p"])),
                 quantity=Decimal(str(msg["q"])),
                 aggressor=Side.SELL if msg.get("m") else Side.BUY)


def bar_from_kline(symbol: str, row: list[Any] | Message) -> Bar:
    """A Bar from a REST kline row (list) or a ``kline`` stream payload ``k`` (dict)."""
    if isinstance(row, dict):
        return Bar(symbol=symbol, open_time=_ms(row["t"]), open=float(row["o"]),
                   high=float(row["h"]), low=float(row["l"]), close=float(row["c"]),
                   volume=float(row["v"]), quote_volume=float(row["q"]), trades=int(row["n"]))
    return Bar(symbol=symbol, open_time=_ms(row[0]), open=float(row[1]), high=float(row[2]),
               low=float(row[3]), close=float(row[4]), volume=float(row[5]),
               quote_volume=float(row[7]), trades=int(row[8]))


class BinanceMarketData:
    """MarketData over Binance streams, with REST when a symbol's stream is quiet.

    ``limiter`` is the process's shared RateLimiter (the venue's); without one the feed gets its
    own, which protects nothing else on the IP.
    """

    def __init__(
        self,
        client: Any,
        symbols: list[str],
        *,
        clock: Clock | None = None,
        transport: MarketStreamTransport | None = None,
        stale_after_s: float = 10.0,
        rest_interval_s: float = 1.0,
        keep_trades: int = 50_000,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._symbols = tuple(s.upper() for s in symbols)
        self._clock = clock or LiveClock()
        self.limiter = limiter or RateLimiter(limits=default_limits())
        self.rest = RestGateway(client, self.limiter, self._clock, name="binance-market-data")
        self._transport = transport
        self.stale_after_s = stale_after_s
        self.rest_interval_s = rest_interval_s
        self._lock = threading.Lock()
        self._inbox: deque[Message] = deque(maxlen=100_000)
        self._quotes: dict[str, Quote] = {}
        self._quote_seen: dict[str, datetime] = {}
        self._rest_at: dict[str, datetime] = {}
        self._bars: dict[str, dict[datetime, Bar]] = {s: {} for s in self._symbols}
        self._trades: dict[str, deque[Trade]] = {
            s: deque(maxlen=keep_trades) for s in self._symbols}
        self._books: dict[str, tuple[datetime, Book]] = {}
        self._now = self._clock.now()

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols this feed follows."""
        return self._symbols

    def start(self) -> None:
        """Subscribe to the streams (if a transport is configured)."""
        if self._transport is not None:
            streams = [f"{s.lower()}@{kind}" for s in self._symbols
                       for kind in ("bookTicker", "trade", "kline_1m")]
            self._transport.start(self.on_message, streams)

    def stop(self) -> None:
        """Unsubscribe."""
        if self._transport is not None:
            self._transport.stop()

    def on_message(self, message: Message) -> None:
        """Websocket callback (any thread): queue the message."""
        data = message.get("data", message)
        if isinstance(data, dict):
            with self._lock:
                self._inbox.append(data)

    def _apply(self, msg: Message, now: datetime) -> None:
        kind = msg.get("e")
        symbol = str(msg.get("s", ""))
        if symbol not in self._bars:
            return
        if kind == "trade":
            self._trades[symbol].append(trade_from_message(msg))
        elif kind == "kline":
            k = msg["k"]
            if k.get("x"):  # only closed bars: an open one is still changing
                bar = bar_from_kline(symbol, k)
                self._bars[symbol][bar.open_time] = bar
                self._forget_old_bars(symbol)
        elif "b" in msg and "a" in msg:  # bookTicker carries no event type
            self._quotes[symbol] = quote_from_book_ticker(msg, now)
            self._quote_seen[symbol] = now

    def _forget_old_bars(self, symbol: str) -> None:
        """Past ``_MAX_BARS``, drop the bars that opened before the horizon (amortised O(1))."""
        store = self._bars[symbol]
        if len(store) <= _MAX_BARS:
            return
        cutoff = self._now - HISTORY_HORIZON
        for open_time in [t for t in store if t < cutoff]:
            del store[open_time]

    def retained_bars(self) -> dict[str, int]:
        """Closed bars held per symbol."""
        return {symbol: len(store) for symbol, store in self._bars.items()}

    def rest_status(self) -> VenueStatus:
        """The shared limiter's status: anything but OK means REST is paused, data may be stale."""
        return self.limiter.status(self._clock.now().timestamp())

    def _rest_paused(self) -> bool:
        return self.rest_status() is not VenueStatus.OK

    def _rest(self, method: str, **params: Any) -> Any:
        """``client.<method>(**params)`` through the shared limiter; raises oms.errors only."""
        return self.rest.call(method, **params)

    def advance_to(self, ts: datetime) -> None:
        """Apply stream messages; REST-refresh quotes of symbols whose stream went quiet."""
        now = utc(ts)
        self._now = max(self._now, now)
        with self._lock:
            messages = list(self._inbox)
            self._inbox.clear()
        for msg in messages:
            self._apply(msg, now)
        for symbol in self._symbols:
            if self._rest_paused():  # a 429 / 418 on the IP: the quote goes stale instead
                break
            seen = self._quote_seen.get(symbol)
            if seen is not None and (now - seen).total_seconds() <= self.stale_after_s:
                continue
            last_rest = self._rest_at.get(symbol)
            if last_rest is not None and (now - last_rest).total_seconds() < self.rest_interval_s:
                continue
            self._rest_at[symbol] = now
            try:
                row = self._rest("get_orderbook_ticker", symbol=symbol)
            except Exception as exc:  # the feed degrades to "closed", it never crashes the tick
                log.warning("REST quote for %s failed: %s", symbol, exc)
                continue
            self._quotes[symbol] = quote_from_book_ticker(row, now)
            self._quote_seen[symbol] = now

    def is_open(self, symbol: str) -> bool:
        """True while a fresh quote exists (stream or REST)."""
        seen = self._quote_seen.get(symbol)
        limit = self.stale_after_s + self.rest_interval_s * 2
        return seen is not None and (self._now - seen).total_seconds() <= limit

    def quote(self, symbol: str) -> Quote:
        """Best bid/ask; MarketClosed when there is no fresh price."""
        if not self.is_open(symbol):
            raise MarketClosed(f"no fresh Binance quote for {symbol}")
        return self._quotes[symbol]

    def book(self, symbol: str, depth: int = 20) -> Book:
        """L2 book from REST depth (cached for ``rest_interval_s``; while REST is paused the
        cached book, whatever its ``ts``, else MarketClosed)."""
        cached = self._books.get(symbol)
        if cached is not None and (self._now - cached[0]).total_seconds() < self.rest_interval_s:
            return cached[1]
        limit = next(n for n in (5, 10, 20, 50, 100, 500, 1000) if n >= min(depth, 1000))
        try:
            raw = self._rest("get_order_book", symbol=symbol, limit=limit)
        except Exception as exc:
            if cached is not None and self._rest_paused():
                return cached[1]
            raise MarketClosed(f"no Binance book for {symbol}: {exc}") from exc
        book = Book(symbol=symbol, ts=self._now,
                    bids=tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in raw["bids"][:depth]),
                    asks=tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in raw["asks"][:depth]))
        self._books[symbol] = (self._now, book)
        return book

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        """Closed 1-minute bars in [start, end); missing minutes are fetched by REST klines."""
        start, end = utc(start), min(utc(end), self._now.replace(second=0, microsecond=0))
        store = self._bars[symbol]
        wanted = []
        t = start.replace(second=0, microsecond=0)
        t = t if t >= start else t + _MINUTE
        while t < end:
            wanted.append(t)
            t += _MINUTE
        if any(w not in store for w in wanted) and not self._rest_paused():
            try:
                rows = self._rest("get_klines", symbol=symbol, interval="1m",
                                  startTime=int(wanted[0].timestamp() * 1000),
                                  endTime=int(end.timestamp() * 1000) - 1, limit=1000)
            except Exception as exc:
                log.warning("REST klines for %s failed: %s", symbol, exc)
                rows = []
            for row in rows:
                bar = bar_from_kline(symbol, row)
                if bar.open_time + _MINUTE <= self._now:
                    store[bar.open_time] = bar
        found = [store[w] for w in wanted if w in store]
        self._forget_old_bars(symbol)
        return found

    def _trades_in(self, symbol: str, start: datetime, end: datetime) -> list[Trade]:
        return [t for t in self._trades[symbol] if start <= t.ts < end]

    def traded_volume(self, symbol: str, start: datetime, end: datetime) -> Decimal:
        """Market volume in [start, end): stream trades when they cover it, else bars."""
        start, end = utc(start), utc(end)
        trades = self._trades[symbol]
        if trades and trades[0].ts <= start:
            return sum((t.quantity for t in self._trades_in(symbol, start, end)), Decimal(0))
        return sum((Decimal(str(b.volume)) for b in self.bars(symbol, start, end)), Decimal(0))

    def vwap(self, symbol: str, start: datetime, end: datetime) -> Decimal | None:
        """Volume-weighted price over [start, end), from trades or else bars; None if none."""
        start, end = utc(start), utc(end)
        trades = self._trades[symbol]
        if trades and trades[0].ts <= start:
            window = self._trades_in(symbol, start, end)
            volume = sum((t.quantity for t in window), Decimal(0))
            notional = sum((t.price * t.quantity for t in window), Decimal(0))
            return notional / volume if volume else None
        bars = self.bars(symbol, start, end)
        bar_volume = sum(b.volume for b in bars)
        return Decimal(str(sum(b.quote_volume for b in bars) / bar_volume)) if bar_volume else None
