"""The value, in a fill's quote asset, of a commission Binance took in a third asset (BNB).

``FeeValuer(rest_call, market)`` is the ``value_fee`` of the OrderTracker. The price of one unit
of the fee asset in the quote asset (``BNBUSDT`` for a BNB fee on a USDT symbol) at the fill
time comes from, in order:

1. the venue's market feed, when it quotes that symbol and the fill is at most
   ``feed_max_age`` old (the feed only knows now): its mid;
2. REST ``GET /api/v3/klines`` (1m, weight 2): the close of the minute that holds the fill (the
   last trade price while that minute is still open);
3. REST ``GET /api/v3/ticker/price`` (weight 2) for a fill at most ``ticker_max_age`` old;
4. the last price found for that symbol (logged as a warning: it may be stale).

A price found is cached per (symbol, minute of the fill) for ``cache_s``, so the fills of one
order cost one request. With no price at all it logs an error and answers None; the tracker then
books the fill with ``fee`` 0 and ``fee_price`` None (``Fill.fee_valued`` is False).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.clock import Clock, LiveClock
from oms.errors import MarketClosed, OmsError
from oms.market.base import MarketData

__all__ = ["FeeValuer", "RestCall"]

log = logging.getLogger(__name__)

#: ``RestGateway.call``: ``rest_call(method, **params)`` -> the decoded response
RestCall = Callable[..., Any]

_KLINE_SLACK_MS = 5 * 60_000  # a kline opened this long after the fill's minute still prices it
_MAX_CACHED = 512
# a malformed or failed answer: that source has no price, the next is asked
_NO_PRICE = (OmsError, KeyError, IndexError, TypeError, ValueError, ArithmeticError)


class FeeValuer:
    """Prices commission assets in the quote asset at a fill's time: feed, klines, ticker, last.

    Called from the venue's poll on the engine thread; a REST lookup blocks it once per symbol
    and minute (then the cache answers).
    """

    def __init__(self, rest_call: RestCall, market: MarketData | None = None, *,
                 clock: Clock | None = None, cache_s: float = 60.0,
                 feed_max_age: timedelta = timedelta(minutes=1),
                 ticker_max_age: timedelta = timedelta(minutes=5)) -> None:
        self._rest_call = rest_call
        self._market = market
        self._clock = clock or LiveClock()
        self._cache_s = cache_s
        self._feed_max_age = feed_max_age
        self._ticker_max_age = ticker_max_age
        self._cache: dict[tuple[str, datetime], tuple[datetime, Decimal]] = {}
        self._last: dict[str, Decimal] = {}

    def __repr__(self) -> str:
        return f"FeeValuer(cached={len(self._cache)}, market={self._market is not None})"

    def __call__(self, asset: str, quantity: Decimal, quote_asset: str,
                 ts: datetime) -> Decimal | None:
        """``quantity`` of ``asset`` valued in ``quote_asset`` at ``ts``; None if unpriced."""
        price = self.price(asset, quote_asset, ts)
        return None if price is None else quantity * price

    def price(self, asset: str, quote_asset: str, ts: datetime) -> Decimal | None:
        """One ``asset`` in ``quote_asset`` at ``ts`` (see the module docstring); None if no
        source has a price and none was ever found."""
        symbol = f"{asset}{quote_asset}"
        minute = ts.astimezone(UTC).replace(second=0, microsecond=0)
        now = self._clock.now()
        cached = self._cache.get((symbol, minute))
        if cached is not None and (now - cached[0]).total_seconds() < self._cache_s:
            return cached[1]
        price = (self._from_feed(symbol, ts, now) or self._from_klines(symbol, minute)
                 or self._from_ticker(symbol, ts, now))
        if price is not None:
            self._remember(symbol, minute, now, price)
            return price
        last = self._last.get(symbol)
        if last is not None:
            log.warning("%s price at %s not found: fee valued at the last one seen, %s",
                        symbol, ts.isoformat(), last)
            return last
        log.error("%s price at %s not found and none seen before: the fee cannot be valued",
                  symbol, ts.isoformat())
        return None

    def _remember(self, symbol: str, minute: datetime, now: datetime, price: Decimal) -> None:
        if len(self._cache) >= _MAX_CACHED:
            horizon = self._cache_s
            self._cache = {k: v for k, v in self._cache.items()
                           if (now - v[0]).total_seconds() < horizon}
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
        self._cache[(symbol, minute)] = (now, price)
        self._last[symbol] = price

    def _from_feed(self, symbol: str, ts: datetime, now: datetime) -> Decimal | None:
        market = self._market
        if market is None or symbol not in market.symbols or abs(now - ts) > self._feed_max_age:
            return None
        try:
            return market.quote(symbol).mid
        except (MarketClosed, KeyError):
            return None

    def _from_klines(self, symbol: str, minute: datetime) -> Decimal | None:
        start_ms = int(minute.timestamp() * 1000)
        try:
            rows = self._rest_call("get_klines", symbol=symbol, interval="1m",
                                   startTime=start_ms, limit=1)
            row = rows[0]
            if int(row[0]) > start_ms + _KLINE_SLACK_MS:
                return None  # nothing traded near the fill: not its price
            price = Decimal(str(row[4]))
        except _NO_PRICE as exc:
            log.info("%s klines: no price (%s)", symbol, type(exc).__name__)
            return None
        return price if price > 0 else None

    def _from_ticker(self, symbol: str, ts: datetime, now: datetime) -> Decimal | None:
        if abs(now - ts) > self._ticker_max_age:
            return None
        try:
            row = self._rest_call("get_symbol_ticker", symbol=symbol)
            price = Decimal(str(row["price"]))
        except _NO_PRICE as exc:
            log.info("%s ticker: no price (%s)", symbol, type(exc).__name__)
            return None
        return price if price > 0 else None
