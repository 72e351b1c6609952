"""The REST boundary of the Binance venue: limits before, usage headers after, errors translated.

Nothing is sent while a 429 Retry-After runs or after a 418; a 418 also closes the halt gate; a
-1021 (timestamp outside recvWindow) triggers a clock resync so that it does not recur.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from binance.exceptions import BinanceAPIException

from oms.clock import Clock
from oms.errors import VenueUnavailable
from oms.risk.halt import HaltGate
from oms.venues.binance_errors import CODE_CLOCK, KEY_CODES, translate_exception
from oms.venues.binance_limits import RateLimiter

__all__ = ["WEIGHTS", "RestGateway"]

log = logging.getLogger(__name__)

# request weights of the spot endpoints used (Binance API docs)
WEIGHTS = {"ping": 1, "get_server_time": 1, "get_exchange_info": 20, "create_order": 1,
           "get_order": 4, "cancel_order": 1, "cancel_all_open_orders": 1, "get_open_orders": 6,
           "get_my_trades": 20, "get_account": 20, "get_orderbook_ticker": 2}


class RestGateway:
    """Calls python-binance ``Client`` methods under the rate limiter; raises oms.errors only."""

    def __init__(self, client: Any, limiter: RateLimiter, clock: Clock, gate: HaltGate,
                 name: str, on_clock_error: Callable[[], object]) -> None:
        self.client = client
        self.limiter = limiter
        self._clock = clock
        self._gate = gate
        self._name = name
        self._on_clock_error = on_clock_error
        self._mids: dict[str, tuple[float, Decimal]] = {}

    def __repr__(self) -> str:
        return f"RestGateway(venue={self._name!r})"

    def call(self, method: str, *, placing: bool = False, weight: int | None = None,
             orders: int = 0, **params: Any) -> Any:
        """``client.<method>(**params)``; ``placing`` marks a request that may create an order."""
        epoch = self._clock.now().timestamp()
        self.limiter.acquire(epoch, weight=weight or WEIGHTS.get(method, 1), orders=orders)
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

    def _after_error(self, exc: Exception, epoch: float) -> None:
        if not isinstance(exc, BinanceAPIException):
            return
        self.limiter.observe_headers(getattr(exc.response, "headers", None), epoch)
        err = translate_exception(exc)
        if exc.status_code == 418:
            self.limiter.ban(f"HTTP 418: {exc.message}")
            self._gate.halt(f"{self._name} banned the IP (HTTP 418)")
            log.error("%s banned us (HTTP 418): venue halted", self._name)
        elif exc.status_code == 429 and isinstance(err, VenueUnavailable):
            wait = err.retry_after_s if err.retry_after_s is not None else 60.0
            self.limiter.back_off(epoch, wait)
            log.warning("%s HTTP 429: nothing sent for %.0fs", self._name, wait)
        elif exc.code in KEY_CODES:
            self.limiter.ban(f"API key rejected ({exc.code}: {exc.message})")
            self._gate.halt(f"{self._name}: API key rejected ({exc.code})")
            log.error("%s rejected the API key (%s): venue halted", self._name, exc.code)
        elif exc.code == CODE_CLOCK:
            log.warning("%s -1021 (timestamp outside recvWindow): resyncing time", self._name)
            self._on_clock_error()
