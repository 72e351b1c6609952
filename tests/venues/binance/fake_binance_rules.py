"""What the fake Binance refuses before an order reaches its book: filters, status, rate limits.

Written from Binance's public spot docs: "Filters" (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE,
NOTIONAL, PERCENT_PRICE_BY_SIDE, MAX_NUM_ORDERS; failures are -1013 "Filter failure: NAME"),
"Error codes" (errors.md) and "LIMITS" (rest-api/limits: weight per IP per calendar minute,
X-MBX-USED-WEIGHT-1M on every response, 429 with Retry-After, 418 bans from 2 minutes up for
clients that keep sending; the unfilled order count per account in X-MBX-ORDER-COUNT-10S/-1D on
successful order responses, and a 429 *without* Retry-After when it is exceeded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["RateLimits", "Reply", "SymbolRules", "binance_error", "request_weight"]


class Reply(Exception):
    """An HTTP answer other than the endpoint's normal one (an error, mostly)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def binance_error(status: int, code: int, msg: str, **headers: str) -> Reply:
    """A Binance error payload ``{"code", "msg"}`` with its HTTP status."""
    return Reply(status, {"code": code, "msg": msg},
                 {name.replace("_", "-"): value for name, value in headers.items()})


def _filter_failure(name: str) -> Reply:
    return binance_error(400, -1013, f"Filter failure: {name}")


def _outside(value: Decimal, low: Decimal, high: Decimal) -> bool:
    return (low > 0 and value < low) or (high > 0 and value > high)


def _off_step(value: Decimal, step: Decimal) -> bool:
    return step > 0 and value % step != 0


@dataclass
class SymbolRules:
    """One symbol's status and filters: what exchangeInfo advertises is what POST enforces."""

    symbol: str
    base_asset: str
    quote_asset: str = "USDT"
    status: str = "TRADING"
    tick_size: Decimal = Decimal("0.01")
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000.00")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000.00000000")
    market_min_qty: Decimal = Decimal("0.00000000")  # MARKET_LOT_SIZE: 0 disables a bound
    market_max_qty: Decimal = Decimal("100.00000000")
    market_step_size: Decimal = Decimal("0.00000000")
    min_notional: Decimal = Decimal("5.00")
    apply_min_to_market: bool = True
    max_notional: Decimal = Decimal("9000000.00")
    apply_max_to_market: bool = False
    bid_multiplier_up: Decimal = Decimal("5")
    bid_multiplier_down: Decimal = Decimal("0.2")
    ask_multiplier_up: Decimal = Decimal("5")
    ask_multiplier_down: Decimal = Decimal("0.2")
    avg_price_mins: int = 5
    max_num_orders: int = 200

    def exchange_info(self) -> dict[str, Any]:
        """This symbol's entry in GET /api/v3/exchangeInfo."""
        return {
            "symbol": self.symbol, "status": self.status, "baseAsset": self.base_asset,
            "quoteAsset": self.quote_asset, "isSpotTradingAllowed": True,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER",
                                                "EXPIRE_BOTH"],
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": str(self.min_price),
                 "maxPrice": str(self.max_price), "tickSize": str(self.tick_size)},
                {"filterType": "LOT_SIZE", "minQty": str(self.min_qty),
                 "maxQty": str(self.max_qty), "stepSize": str(self.step_size)},
                {"filterType": "MARKET_LOT_SIZE", "minQty": str(self.market_min_qty),
                 "maxQty": str(self.market_max_qty), "stepSize": str(self.market_step_size)},
                {"filterType": "NOTIONAL", "minNotional": str(self.min_notional),
                 "applyMinToMarket": self.apply_min_to_market,
                 "maxNotional": str(self.max_notional),
                 "applyMaxToMarket": self.apply_max_to_market,
                 "avgPriceMins": self.avg_price_mins},
                {"filterType": "PERCENT_PRICE_BY_SIDE",
                 "bidMultiplierUp": str(self.bid_multiplier_up),
                 "bidMultiplierDown": str(self.bid_multiplier_down),
                 "askMultiplierUp": str(self.ask_multiplier_up),
                 "askMultiplierDown": str(self.ask_multiplier_down),
                 "avgPriceMins": self.avg_price_mins},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders}]}

    def check(self, *, side: str, order_type: str, quantity: Decimal, price: Decimal | None,
              avg_price: Decimal, open_orders: int) -> None:
        """Raise Binance's answer to the first rule a new order breaks (status, then filters)."""
        if self.status != "TRADING":
            raise binance_error(400, -1013, "Market is closed.")
        market = order_type == "MARKET"
        if quantity <= 0 or _outside(quantity, self.min_qty, self.max_qty) \
                or _off_step(quantity, self.step_size):
            raise _filter_failure("LOT_SIZE")
        if market and (_outside(quantity, self.market_min_qty, self.market_max_qty)
                       or _off_step(quantity, self.market_step_size)):
            raise _filter_failure("MARKET_LOT_SIZE")
        if not market and price is not None:
            if price <= 0 or _outside(price, self.min_price, self.max_price) \
                    or _off_step(price, self.tick_size):
                raise _filter_failure("PRICE_FILTER")
            down, up = ((self.bid_multiplier_down, self.bid_multiplier_up) if side == "BUY"
                        else (self.ask_multiplier_down, self.ask_multiplier_up))
            if _outside(price, avg_price * down, avg_price * up):
                raise _filter_failure("PERCENT_PRICE_BY_SIDE")
        notional = quantity * (avg_price if market or price is None else price)
        if ((self.apply_min_to_market or not market) and notional < self.min_notional) or (
                (self.apply_max_to_market or not market) and self.max_notional > 0
                and notional > self.max_notional):
            raise _filter_failure("NOTIONAL")
        if open_orders >= self.max_num_orders:
            raise _filter_failure("MAX_NUM_ORDERS")


# Request weights from the endpoint pages of the spot REST docs (IP limits).
_FIXED_WEIGHTS = {
    ("POST", "/api/v3/order"): 1, ("GET", "/api/v3/order"): 4, ("DELETE", "/api/v3/order"): 1,
    ("DELETE", "/api/v3/openOrders"): 1, ("GET", "/api/v3/account"): 20,
    ("GET", "/api/v3/exchangeInfo"): 20, ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/avgPrice"): 2, ("POST", "/api/v3/userDataStream"): 2,
    ("PUT", "/api/v3/userDataStream"): 2, ("DELETE", "/api/v3/userDataStream"): 2,
    ("GET", "/sapi/v1/account/apiRestrictions"): 0,  # SAPI: a separate limit, not modelled
}
# What the server counted before it modelled Binance's weights (kept for enforce_limits=False).
LEGACY_WEIGHTS = {"/api/v3/exchangeInfo": 20, "/api/v3/order": 1, "/api/v3/openOrders": 6,
                  "/api/v3/myTrades": 20, "/api/v3/account": 20, "/api/v3/depth": 5}


def request_weight(method: str, path: str, params: dict[str, str]) -> int:
    """Binance's request weight of one REST call with these parameters."""
    if (method, path) in _FIXED_WEIGHTS:
        return _FIXED_WEIGHTS[method, path]
    if path == "/api/v3/openOrders":
        return 6 if "symbol" in params else 80
    if path == "/api/v3/myTrades":
        return 5 if "orderId" in params else 20
    if path == "/api/v3/depth":
        limit = int(params.get("limit", 100))
        return next(w for top, w in ((100, 5), (500, 25), (1000, 50), (5000, 250))
                    if limit <= top or top == 5000)
    if path in ("/api/v3/ticker/bookTicker", "/api/v3/ticker/price"):
        return 2 if "symbol" in params else 4
    return 1


@dataclass
class RateLimits:
    """Request weight per IP and calendar minute, unfilled orders per account, bans.

    Times are server seconds (the caller's clock, which tests may move). The limits and
    ``enforce`` are passed on each call, so a test may change them on a running server;
    with ``enforce`` False the counts (and headers) still run but nothing is refused.
    """

    weight: dict[tuple[str, int], int] = field(default_factory=dict)  # (ip, minute) -> used
    orders_10s: dict[int, int] = field(default_factory=dict)  # 10 s window -> orders
    orders_1d: dict[int, int] = field(default_factory=dict)  # UTC day -> orders
    back_off_until: dict[str, float] = field(default_factory=dict)  # ip -> end of a 429
    banned_until: dict[str, float] = field(default_factory=dict)  # ip -> end of a 418
    bans: dict[str, int] = field(default_factory=dict)  # ip -> bans so far (each one doubles)

    def admit(self, ip: str, weight: int, now: float, headers: dict[str, str], *,
              limit: int, enforce: bool) -> None:
        """Count one request's weight; raise 418 / 429 when Binance would refuse it."""
        if enforce and now < self.banned_until.get(ip, 0.0):
            raise self._banned(ip, now)
        if enforce and now < self.back_off_until.get(ip, 0.0):  # told to wait, did not
            self.bans[ip] = self.bans.get(ip, 0) + 1
            self.banned_until[ip] = now + 120 * 2 ** (self.bans[ip] - 1)
            del self.back_off_until[ip]
            raise self._banned(ip, now)
        minute = int(now // 60)
        used = self.weight.get((ip, minute), 0) + weight
        self.weight[ip, minute] = used
        headers["X-MBX-USED-WEIGHT-1M"] = str(used)
        if enforce and used > limit:
            end = (minute + 1) * 60.0
            self.back_off_until[ip] = end
            raise binance_error(
                429, -1003, f"Too much request weight used; current limit is {limit} request "
                "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid "
                "polling the API.", Retry_After=str(math.ceil(end - now)),
                X_MBX_USED_WEIGHT_1M=str(used))

    def told_to_wait(self, ip: str, until: float) -> None:
        """A 429 was answered (a scripted one too): sending again before ``until`` is banned."""
        self.back_off_until[ip] = max(until, self.back_off_until.get(ip, 0.0))

    def _banned(self, ip: str, now: float) -> Reply:
        until = self.banned_until[ip]
        return binance_error(
            418, -1003, f"Way too much request weight used; IP banned until {int(until * 1000)}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
            Retry_After=str(math.ceil(until - now)))

    def check_new_order(self, now: float, *, limit_10s: int, limit_1d: int) -> None:
        """Raise 429 -1015 (no Retry-After, as documented) when an order limit is reached."""
        for counts, key, limit, span in (
                (self.orders_10s, int(now // 10), limit_10s, "10 SECOND"),
                (self.orders_1d, int(now // 86_400), limit_1d, "1 DAY")):
            if counts.get(key, 0) >= limit:
                raise binance_error(429, -1015, f"Too many new orders; current limit is {limit} "
                                    f"orders per {span}.")

    def count_order(self, now: float, headers: dict[str, str]) -> None:
        """Count one accepted order and report both counts, as a successful order answer does."""
        window, day = int(now // 10), int(now // 86_400)
        self.orders_10s[window] = self.orders_10s.get(window, 0) + 1
        self.orders_1d[day] = self.orders_1d.get(day, 0) + 1
        headers["X-MBX-ORDER-COUNT-10S"] = str(self.orders_10s[window])
        headers["X-MBX-ORDER-COUNT-1D"] = str(self.orders_1d[day])
