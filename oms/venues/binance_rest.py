"""The REST boundary to Binance: limits before, usage headers after, errors translated.

Every REST request of the process goes through a RestGateway over the one shared RateLimiter
(the venue's and the market feed's alike), so a 429 or 418 seen by either stops both. Nothing is
sent while a 429 Retry-After or a 418 ban runs; a 418 also closes the halt gate (a person resumes
trading); a -1021 (timestamp outside recvWindow) triggers a clock resync so that it does not
recur. Weights follow the Binance spot API docs and depend on the parameters (``weight_of``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from binance.exceptions import BinanceAPIException

from oms.clock import Clock
from oms.errors import VenueUnavailable
from oms.risk.halt import HaltGate
from oms.venues.binance_errors import (
    CODE_CLOCK,
    KEY_CODES,
    retry_after_seconds,
    translate_exception,
)
from oms.venues.binance_limits import BAN_DEFAULT_S, RateLimiter

__all__ = ["PRIORITY_METHODS", "WEIGHTS", "RestGateway", "orders_of", "weight_of"]

log = logging.getLogger(__name__)

# request weights of the spot endpoints whose weight does not depend on the parameters
WEIGHTS = {"ping": 1, "get_server_time": 1, "get_exchange_info": 20, "create_order": 1,
           "get_order": 4, "cancel_order": 1, "cancel_all_open_orders": 1, "get_account": 20,
           "get_klines": 2, "get_avg_price": 2, "stream_get_listen_key": 2,
           "stream_keepalive": 2, "stream_close": 2, "get_account_api_permissions": 1}
# (with a symbol, without one): openOrders, bookTicker, ticker price
_BY_SYMBOL = {"get_open_orders": (6, 80), "get_orderbook_ticker": (2, 4),
              "get_symbol_ticker": (2, 4)}
# depth: (highest limit, weight) in ascending order; Binance's default limit is 100
_DEPTH = ((100, 5), (500, 25), (1000, 50), (5000, 250))
# requests that count against the ORDERS limits
_ORDER_METHODS = {"create_order": 1}
# cancels may use the whole limit: taking risk off must not wait behind new orders
PRIORITY_METHODS = frozenset({"cancel_order", "cancel_all_open_orders"})


def weight_of(method: str, params: Mapping[str, Any]) -> int:
    """The request weight of ``client.<method>(**params)`` (1 for a method not listed)."""
    if method in _BY_SYMBOL:
        with_symbol, without = _BY_SYMBOL[method]
        return with_symbol if params.get("symbol") else without
    if method == "get_my_trades":
        return 5 if params.get("orderId") is not None else 20
    if method == "get_order_book":
        limit = int(params.get("limit") or 100)
        return next((w for top, w in _DEPTH if limit <= top), _DEPTH[-1][1])
    return WEIGHTS.get(method, 1)


def orders_of(method: str) -> int:
    """How many orders ``client.<method>`` counts against the ORDERS limits."""
    return _ORDER_METHODS.get(method, 0)


class RestGateway:
    """Calls python-binance ``Client`` methods under the rate limiter; raises oms.errors only.

    ``gate`` (the venue's) closes on a 418 seen by any gateway sharing the limiter, and on a
    rejected key; a gateway without one (the market feed) only feeds the limiter.
    """

    def __init__(self, client: Any, limiter: RateLimiter, clock: Clock,
                 gate: HaltGate | None = None, name: str = "binance",
                 on_clock_error: Callable[[], object] | None = None) -> None:
        self.client = client
        self.limiter = limiter
        self._clock = clock
        self._gate = gate
        self._name = name
        self._on_clock_error = on_clock_error
        self._mids: dict[str, tuple[float, Decimal]] = {}
        if gate is not None:
            limiter.on_ban(self._halt_on_ban)

    def __repr__(self) -> str:
        return f"RestGateway(venue={self._name!r})"

    def call(self, method: str, *, placing: bool = False, weight: int | None = None,
             orders: int = 0, priority: bool = False, **params: Any) -> Any:
        """``client.<method>(**params)``; ``placing`` marks a request that may create an order.

        The weight and order count come from ``weight_of`` / ``orders_of``; an explicit
        ``weight`` or ``orders`` only raises them. ``priority`` (always for cancels) lets the
        request use the whole limit instead of stopping at the margin.
        """
        epoch = self._clock.now().timestamp()
        self.limiter.acquire(epoch, weight=max(weight or 0, weight_of(method, params)),
                             orders=max(orders, orders_of(method)),
                             priority=priority or method in PRIORITY_METHODS)
        fn: Callable[..., Any] = getattr(self.client, method)
        try:
            result = fn(**params)
        except Exception as exc:
            self._after_error(exc, epoch)
            raise translate_exception(exc, placing=placing) from exc
        self.observe_last_response(epoch)
        return result

    def sync_time(self) -> int:
        """Measure the server clock offset (ms) and give it to the client's request signing."""
        before = time.time()
        server = self.call("get_server_time")
        after = time.time()
        offset = int(server["serverTime"] - (before + after) / 2 * 1000)
        self.client.timestamp_offset = offset
        return offset

    def book_mid(self, symbol: str, max_age_s: float = 1.0) -> Decimal | None:
        """(bid + ask) / 2 from REST bookTicker, cached ``max_age_s``; None if unavailable."""
        epoch = self._clock.now().timestamp()
        cached = self._mids.get(symbol)
        if cached is not None and epoch - cached[0] < max_age_s:
            return cached[1]
        try:
            row = self.call("get_orderbook_ticker", symbol=symbol)
            mid = (Decimal(str(row["bidPrice"])) + Decimal(str(row["askPrice"]))) / 2
        except (VenueUnavailable, KeyError, TypeError):
            return None  # Binance's own filters still apply to what is sent
        self._mids[symbol] = (epoch, mid)
        return mid

    def observe_last_response(self, epoch: float) -> None:
        """Read Binance's usage counts from the last response's headers."""
        response = getattr(self.client, "response", None)
        self.limiter.observe_headers(getattr(response, "headers", None), epoch)

    def _after_error(self, exc: Exception, sent_at: float) -> None:
        if not isinstance(exc, BinanceAPIException):
            return
        headers = getattr(exc.response, "headers", None)
        now = self._clock.now().timestamp()
        self.limiter.observe_headers(headers, now)
        err = translate_exception(exc)
        if exc.status_code == 418:
            given = headers is not None and headers.get("Retry-After") is not None
            until = self.limiter.ban(
                f"HTTP 418: {exc.message}", now, sent_at=sent_at,
                retry_after_s=retry_after_seconds(headers, BAN_DEFAULT_S) if given else None)
            log.error("%s banned the IP (HTTP 418) for %.0fs: venue halted", self._name,
                      until - now)
        elif exc.status_code == 429 and isinstance(err, VenueUnavailable):
            wait = err.retry_after_s if err.retry_after_s is not None else 60.0
            self.limiter.back_off(now, wait)
            log.warning("%s HTTP 429: nothing sent for %.0fs", self._name, wait)
        elif exc.code in KEY_CODES:
            self.limiter.reject_key(f"API key rejected ({exc.code}: {exc.message})")
            if self._gate is not None:
                self._gate.halt(f"{self._name}: API key rejected ({exc.code})")
            log.error("%s rejected the API key (%s): venue halted", self._name, exc.code)
        elif exc.code == CODE_CLOCK and self._on_clock_error is not None:
            log.warning("%s -1021 (timestamp outside recvWindow): resyncing time", self._name)
            self._on_clock_error()

    def _halt_on_ban(self, reason: str) -> None:
        if self._gate is not None:
            self._gate.halt(f"{self._name} banned the IP ({reason})")
