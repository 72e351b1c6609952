"""A small Binance-compatible spot REST server on loopback, for tests (no internet).

Implements the endpoints the OMS uses with Binance's request signing (HMAC-SHA256 over the
query string / body, X-MBX-APIKEY header, timestamp inside recvWindow), response shapes, error
codes and rate-limit headers; faults are scripted per request. Written from the public API docs.

Where Binance hurts clients, the server can too, each behaviour opt-in so that a plain
``FakeBinance(key, secret)`` stays lenient: ``visibility_lag_s`` (a new order unseen by queries),
late-placing faults, ``enforce_limits`` (weights, 429, 418 bans), ``set_status`` / ``can_trade``,
``touch_quantity`` (thin books), ``enforce_balances``. Always on: the symbol filters advertised
by exchangeInfo (``enforce_filters``), commission and balances moved by every fill, self-trade
prevention against the account's own resting orders. Rules live in ``fake_binance_rules``,
fills, fees and balances in ``fake_binance_matching``.

Time. ``clock`` (epoch seconds, default ``time.time``) drives the server's clock (``now_ms``),
the visibility lag, the rate-limit windows and bans, and late placements, which are kept as
"due at clock time T" and run at the start of every request and by ``run_due()``. With the
default clock a timer also runs them at their real time. With an injected clock (a soak's
manual time) the request timestamp is not checked against recvWindow: python-binance signs
with ``time.time()``, which an injected clock does not follow. Faults that hold an answer
(``delay_s``) still sleep real seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fake_binance_matching import OPEN, OrderMatching, book_levels, locked_amounts
from fake_binance_rules import (
    LEGACY_WEIGHTS,
    RateLimits,
    Reply,
    SymbolRules,
    binance_error,
    request_weight,
)

__all__ = ["FakeBinance", "Fault", "SymbolRules"]

_Reply = Reply  # the name earlier tests and subclasses knew

_SIGNED = {("POST", "/api/v3/order"), ("GET", "/api/v3/order"), ("DELETE", "/api/v3/order"),
           ("GET", "/api/v3/openOrders"), ("DELETE", "/api/v3/openOrders"),
           ("GET", "/api/v3/account"), ("GET", "/api/v3/myTrades"),
           ("GET", "/sapi/v1/account/apiRestrictions")}
_KEYED = {("POST", "/api/v3/userDataStream"), ("PUT", "/api/v3/userDataStream"),
          ("DELETE", "/api/v3/userDataStream")}
_DEFERRED = {"timeout_then_place", "500_then_place", "-1007_then_place", "timeout_never_placed"}
_UNKNOWN = "An unknown error occurred while processing the request."
_STATUS_UNKNOWN = ("Timeout waiting for response from backend server. Send status unknown; "
                   "execution status unknown.")
_NOT_TRADING = "This account may not place or cancel orders."
_SYMBOL_STATUSES = ("TRADING", "BREAK", "HALT", "END_OF_DAY", "PRE_TRADING", "POST_TRADING",
                    "AUCTION_MATCH")


@dataclass
class Fault:
    """One scripted fault for the next request matching ``method`` and ``path``.

    kinds: "timeout_after_accept" (process, then answer too late), "503_after_accept",
    "-1007_after_accept", "500" (fail before processing), "429", "418"; for POST /api/v3/order
    also "timeout_then_place" (hold the answer ``delay_s``, place the order ``place_after_s``
    after the request arrived), "500_then_place" / "-1007_then_place" (answer 500 / 503 at
    once, place later), "timeout_never_placed" (hold the answer, never place); for DELETE
    /api/v3/order also "cancel_500_after_cancel" (cancel, then answer 500).
    """

    method: str
    path: str
    kind: str
    retry_after: int = 30
    delay_s: float = 1.0
    place_after_s: float = 2.0


def _dp8(value: Decimal) -> str:
    return f"{value:.8f}"


@dataclass
class FakeBinance(OrderMatching):
    """The server state; ``start()`` serves it on 127.0.0.1 at a free port (``url``)."""

    api_key: str
    api_secret: str
    books: dict[str, tuple[Decimal, Decimal]] = field(default_factory=lambda: {
        "BTCUSDT": (Decimal("50000.00"), Decimal("50000.10")),
        "ETHUSDT": (Decimal("3000.00"), Decimal("3000.01"))})
    weight_limit: int = 6000
    orders_10s_limit: int = 100
    orders_1d_limit: int = 200_000
    skew_ms: int = 0  # server clock minus real clock
    permissions: dict[str, Any] = field(default_factory=lambda: {
        "ipRestrict": True, "enableWithdrawals": False, "enableSpotAndMarginTrading": True,
        "enableReading": True, "createTime": 1_700_000_000_000})
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)
    execution_reports: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    visibility_lag_s: float = 0.0  # accepted orders stay unseen by queries/cancels this long
    enforce_limits: bool = False  # Binance's weights; 429 past a limit, 418 when not backing off
    enforce_filters: bool = True  # every filter exchangeInfo advertises (False: step/tick only)
    enforce_balances: bool = False  # -2010 when free balance cannot cover a new order
    can_trade: bool = True  # False: the account may not place or cancel orders
    rules: dict[str, SymbolRules] = field(default_factory=dict)  # per symbol; default per book
    avg_prices: dict[str, Decimal] = field(default_factory=dict)  # GET avgPrice; default mid
    touch_quantity: dict[str, Decimal] = field(default_factory=dict)  # per level; default: deep
    commission_asset: str = "USDT"  # "USDT" (the quote), "BNB" or "BASE"
    commission_rate: Decimal = Decimal("0.001")
    bnb_price: Decimal = Decimal("600")  # BNBUSDT mid (served when commission_asset is BNB)
    balances: dict[str, Decimal] = field(default_factory=lambda: {"USDT": Decimal("100000")})
    clock: Callable[[], float] = time.time  # epoch seconds: the server's time (see the docstring)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._ids = itertools.count(1001)
        self._trade_ids = itertools.count(5001)
        self._prevented_ids = itertools.count(1)
        self.limits = RateLimits()
        self._clock_advance_s = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._visible_at: dict[int, float] = {}  # orderId -> clock time queries see it
        self._due: list[tuple[float, dict[str, str], list[Any]]] = []  # late placements
        self._timers: list[threading.Timer] = []
        self.url = ""

    # --- lifecycle and test controls ------------------------------------------------------

    def start(self) -> FakeBinance:
        """Serve on a free loopback port in a daemon thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

            def _serve(self) -> None:
                fake._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        """Stop serving (and drop orders still scheduled to be placed)."""
        for timer in self._timers:
            timer.cancel()
        with self.lock:
            self._due.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def now_ms(self) -> int:
        """The server's clock."""
        return int(self.clock() * 1000) + self.skew_ms

    @property
    def real_time(self) -> bool:
        """True with the default clock (wall time); False with an injected one."""
        return self.clock is time.time

    def run_due(self) -> int:
        """Place the late orders whose time has come (by ``clock``); how many were run."""
        with self.lock:
            now = self.clock()
            due = [item for item in self._due if item[0] <= now]
            self._due = [item for item in self._due if item[0] > now]
            for _, params, placed in sorted(due, key=lambda item: item[0]):
                # an order refused when it reaches the engine leaves no order and no report
                with contextlib.suppress(Reply):
                    placed.append(self._new_order(dict(params), {}))
            return len(due)

    def pending_placements(self) -> int:
        """Late placements not yet due."""
        with self.lock:
            return len(self._due)

    def advance_limit_clock(self, seconds: float) -> None:
        """Move the rate-limit clock on: a minute window, a Retry-After or a ban passes at once.

        Only the limits see it; request timestamps are still checked against ``now_ms``.
        """
        with self.lock:
            self._clock_advance_s += seconds

    def limit_clock(self) -> float:
        """The rate-limit clock, in seconds: the server's clock plus what tests advanced."""
        return self.now_ms() / 1000 + self._clock_advance_s

    def count(self, method: str, path: str) -> int:
        """How many requests reached ``method path``."""
        with self.lock:
            return sum(1 for m, p, _ in self.requests if m == method and p == path)

    def rule(self, symbol: str) -> SymbolRules:
        """The status and filters of ``symbol`` (created with Binance-like defaults)."""
        with self.lock:
            if symbol not in self.rules:
                self.rules[symbol] = SymbolRules(symbol, base_asset=symbol[:-4],
                                                 quote_asset=symbol[-4:])
            return self.rules[symbol]

    def set_status(self, symbol: str, status: str) -> None:
        """Change ``symbol``'s status (exchangeInfo shows it; new orders fail unless TRADING)."""
        if status not in _SYMBOL_STATUSES:
            raise ValueError(f"unknown symbol status {status!r}")
        self.rule(symbol).status = status

    def visible(self, order_id: int) -> bool:
        """Whether order queries see the order yet (``visibility_lag_s`` after acceptance)."""
        return self.clock() >= self._visible_at.get(order_id, 0.0)

    def avg_price(self, symbol: str) -> Decimal:
        """GET /api/v3/avgPrice's price: ``avg_prices`` when set, else the mid."""
        if symbol in self.avg_prices:
            return self.avg_prices[symbol]
        return self._mid(symbol)

    def _mid(self, symbol: str) -> Decimal:
        bid, ask = self._book(symbol)
        return (bid + ask) / 2

    @property
    def _weight(self) -> dict[int, int]:
        """Used weight per minute, all IPs together (what earlier tests read)."""
        per_minute: dict[int, int] = {}
        for (_, minute), used in self.limits.weight.items():
            per_minute[minute] = per_minute.get(minute, 0) + used
        return per_minute

    # --- HTTP -------------------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length).decode() if length else ""
        raw = "&".join(x for x in (parts.query, body) if x)
        params = dict(parse_qsl(raw, keep_blank_values=True))
        method, path, ip = req.command, parts.path, req.client_address[0]
        arrived = self.clock()
        placed: list[Any] = []  # a late-placed order's answer, for a late reply
        delay = 0.0
        status: int = 200
        payload: Any = None
        headers: dict[str, str] = {}
        with self.lock:
            self.run_due()
            self.requests.append((method, path, params))
            fault = next((f for f in self.faults if f.method == method and f.path == path), None)
            if fault is not None:
                self.faults.remove(fault)
            try:
                weight = (request_weight(method, path, params) if self.enforce_limits
                          else LEGACY_WEIGHTS.get(path, 1))
                self.limits.admit(ip, weight, self.limit_clock(), headers,
                                  limit=self.weight_limit, enforce=self.enforce_limits)
                self._pre_fault(fault, ip)
                self._authenticate(method, path, req, raw, params)
                if fault is not None and fault.kind in _DEFERRED:
                    delay = self._defer(fault, params, arrived, placed)
                    status, payload = 503, {"code": -1007, "msg": _STATUS_UNKNOWN}
                else:
                    payload = self._route(method, path, params, headers)
                if fault is not None and fault.kind == "cancel_500_after_cancel":
                    raise binance_error(500, -1000, _UNKNOWN)
                if fault is not None and fault.kind == "timeout_after_accept":
                    delay = fault.delay_s
                elif fault is not None and fault.kind == "503_after_accept":
                    raise Reply(503, "Service Unavailable")
                elif fault is not None and fault.kind == "-1007_after_accept":
                    raise binance_error(503, -1007, _STATUS_UNKNOWN)
            except Reply as reply:
                status, payload = reply.status, reply.body
                headers.update(reply.headers)
        if delay:
            time.sleep(delay)
            with self.lock:
                if placed:  # the late answer of a request whose order was placed meanwhile
                    status, payload = 200, placed[0]
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        try:
            req.send_response(status)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                req.send_header(name, value)
            req.end_headers()
            req.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): the order stays accepted

    def _defer(self, fault: Fault, params: dict[str, str], arrived: float,
               placed: list[Any]) -> float:
        """Script a POST whose order reaches the book late (or never); the hold before answering."""
        if fault.kind != "timeout_never_placed":
            self._place_later(params, arrived + fault.place_after_s, placed)
        if fault.kind == "500_then_place":
            raise binance_error(500, -1000, _UNKNOWN)
        if fault.kind == "-1007_then_place":
            raise binance_error(503, -1007, _STATUS_UNKNOWN)
        return fault.delay_s

    def _place_later(self, params: dict[str, str], at: float, placed: list[Any]) -> None:
        self._due.append((at, dict(params), placed))
        if self.real_time:  # wall time passes by itself: place it then, request or not
            timer = threading.Timer(max(0.0, at - self.clock()), self.run_due)
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def _pre_fault(self, fault: Fault | None, ip: str) -> None:
        if fault is None:
            return
        if fault.kind == "500":
            raise binance_error(500, -1000, _UNKNOWN)
        if fault.kind == "429":
            if self.enforce_limits:  # a client that ignores it is banned, as for a real one
                self.limits.told_to_wait(ip, self.limit_clock() + fault.retry_after)
            raise binance_error(429, -1003, "Too many requests.",
                                Retry_After=str(fault.retry_after))
        if fault.kind == "418":
            raise binance_error(418, -1003, "Way too many requests; IP banned.",
                                Retry_After=str(fault.retry_after))

    def _authenticate(self, method: str, path: str, req: BaseHTTPRequestHandler, raw: str,
                      params: dict[str, str]) -> None:
        if (method, path) not in _SIGNED | _KEYED:
            return
        if req.headers.get("X-MBX-APIKEY") != self.api_key:
            raise binance_error(401, -2015, "Invalid API-key, IP, or permissions for action.")
        if (method, path) in _KEYED:
            return
        signed, sep, signature = raw.rpartition("&signature=")
        expected = hmac.new(self.api_secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(signature, expected):
            raise binance_error(400, -1022, "Signature for this request is not valid.")
        if not self.real_time:
            return  # signed with time.time(), which an injected clock does not follow
        recv_window = int(params.get("recvWindow", 5000))
        stamp, now = int(params.get("timestamp", 0)), self.now_ms()
        if stamp < now - recv_window or stamp > now + 1000:
            raise binance_error(400, -1021, "Timestamp for this request is outside of the "
                                "recvWindow.")

    # --- endpoints --------------------------------------------------------------------------

    def _route(self, method: str, path: str, p: dict[str, str], headers: dict[str, str]) -> Any:
        key = (method, path)
        if key == ("GET", "/api/v3/ping"):
            return {}
        if key == ("GET", "/api/v3/time"):
            return {"serverTime": self.now_ms()}
        if key == ("GET", "/api/v3/exchangeInfo"):
            return self.exchange_info()
        if key == ("POST", "/api/v3/order"):
            return self._new_order(p, headers)
        if key == ("GET", "/api/v3/order"):
            return self._find(p["symbol"], p.get("origClientOrderId"), p.get("orderId"),
                              visible_only=True)
        if key == ("DELETE", "/api/v3/order"):
            self._may_trade(-2011)
            return self._cancel(self._find(p["symbol"], p.get("origClientOrderId"),
                                           p.get("orderId"), unknown=-2011, visible_only=True))
        if key == ("GET", "/api/v3/openOrders"):
            return [o for o in self.orders.values() if o["status"] in OPEN
                    and ("symbol" not in p or o["symbol"] == p["symbol"])
                    and self.visible(o["orderId"])]
        if key == ("DELETE", "/api/v3/openOrders"):
            self._may_trade(-2011)
            open_ = [o for o in self.orders.values() if o["symbol"] == p["symbol"]
                     and o["status"] in OPEN]
            if not open_:
                raise binance_error(400, -2011, "Unknown order sent.")
            return [self._cancel(o) for o in open_]
        if key == ("GET", "/api/v3/myTrades"):
            return [t for t in self.trades if t["symbol"] == p["symbol"]
                    and ("orderId" not in p or t["orderId"] == int(p["orderId"]))]
        if key == ("GET", "/api/v3/account"):
            return self.account()
        if path == "/api/v3/userDataStream":
            return {"listenKey": "fake-listen-key"} if method == "POST" else {}
        if key == ("GET", "/sapi/v1/account/apiRestrictions"):
            return dict(self.permissions)
        return self._market_data(key, p)

    def _market_data(self, key: tuple[str, str], p: dict[str, str]) -> Any:
        method, path = key
        if key == ("GET", "/api/v3/ticker/bookTicker"):
            bid, ask = self._book(p["symbol"])
            bid_qty, ask_qty = self._touch_sizes(p["symbol"])
            return {"symbol": p["symbol"], "bidPrice": str(bid), "bidQty": bid_qty,
                    "askPrice": str(ask), "askQty": ask_qty}
        if key == ("GET", "/api/v3/ticker/price"):
            symbols = [p["symbol"]] if "symbol" in p else [
                *self.books, *(["BNBUSDT"] if self.commission_asset == "BNB" else [])]
            prices = [{"symbol": s, "price": _dp8(self._mid(s))} for s in symbols]
            return prices[0] if "symbol" in p else prices
        if key == ("GET", "/api/v3/avgPrice"):
            self._book(p["symbol"])
            return {"mins": self.rule(p["symbol"]).avg_price_mins,
                    "price": _dp8(self.avg_price(p["symbol"])), "closeTime": self.now_ms()}
        if key == ("GET", "/api/v3/depth"):
            return self._depth(p["symbol"], int(p.get("limit", 100)))
        if key == ("GET", "/api/v3/klines"):
            start = int(p.get("startTime", self.now_ms() - 5 * 60_000)) // 60_000 * 60_000
            mid = str(self._mid(p["symbol"]))
            count = int(p.get("limit", 500))
            if "endTime" in p:
                count = min(count, (int(p["endTime"]) - start) // 60_000 + 1)
            return [[start + i * 60_000, mid, mid, mid, mid, "10.0", start + i * 60_000 + 59_999,
                     "500000.0", 42, "5.0", "250000.0", "0"] for i in range(count)]
        raise binance_error(404, -1000, f"no route {method} {path}")

    def _book(self, symbol: str) -> tuple[Decimal, Decimal]:
        if symbol in self.books:
            return self.books[symbol]
        if symbol == "BNBUSDT" and self.commission_asset == "BNB":
            # market data only, mid ``bnb_price``: what BNB commission is charged at
            return self.bnb_price - Decimal("0.1"), self.bnb_price + Decimal("0.1")
        raise binance_error(400, -1121, "Invalid symbol.")

    def _touch_sizes(self, symbol: str) -> tuple[str, str]:
        size = self.touch_quantity.get(symbol)
        return ("1.5", "2.0") if size is None else (str(size), str(size))

    def _depth(self, symbol: str, limit: int) -> dict[str, Any]:
        bid, ask = self._book(symbol)
        tick = self.rule(symbol).tick_size
        bid_qty, ask_qty = self._touch_sizes(symbol)
        size = self.touch_quantity.get(symbol)
        bids = [[str(price), bid_qty] for price, _ in book_levels("SELL", bid, tick, size)]
        asks = [[str(price), ask_qty] for price, _ in book_levels("BUY", ask, tick, size)]
        return {"lastUpdateId": 1, "bids": bids[:limit], "asks": asks[:limit]}

    def exchange_info(self) -> dict[str, Any]:
        """exchangeInfo for the configured symbols (their rules, and the enforced limits)."""
        return {
            "timezone": "UTC", "serverTime": self.now_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                 "limit": self.weight_limit},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                 "limit": self.orders_10s_limit},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
                 "limit": self.orders_1d_limit}],
            "symbols": [self.rule(s).exchange_info() for s in self.books]}

    def account(self) -> dict[str, Any]:
        """GET /api/v3/account: total balances split into free and locked (resting orders)."""
        assets = {s: (r.base_asset, r.quote_asset) for s in self.books
                  for r in (self.rule(s),)}
        locked = locked_amounts(list(self.orders.values()), assets)
        names = [*self.balances, *(a for a in locked if a not in self.balances)]
        rate = _dp8(self.commission_rate)
        return {"makerCommission": 10, "takerCommission": 10,
                "commissionRates": {"maker": rate, "taker": rate, "buyer": "0.00000000",
                                    "seller": "0.00000000"},
                "canTrade": self.can_trade, "canWithdraw": False, "canDeposit": True,
                "accountType": "SPOT", "updateTime": self.now_ms(), "permissions": ["SPOT"],
                "balances": [{"asset": a, "free": _dp8(self.balances.get(a, Decimal(0))
                                                       - locked.get(a, Decimal(0))),
                              "locked": _dp8(locked.get(a, Decimal(0)))} for a in names]}

    def _find(self, symbol: str, cid: str | None, order_id: str | None,
              unknown: int = -2013, *, visible_only: bool = False) -> dict[str, Any]:
        for order in sorted(self.orders.values(), key=lambda o: -o["orderId"]):
            if visible_only and not self.visible(order["orderId"]):
                continue
            if order["symbol"] == symbol and (
                (cid is not None and order["clientOrderId"] == cid)
                or (order_id is not None and order["orderId"] == int(order_id))
            ):
                return order
        msg = "Order does not exist." if unknown == -2013 else "Unknown order sent."
        raise binance_error(400, unknown, msg)

    def _may_trade(self, code: int) -> None:
        if not self.can_trade:
            raise binance_error(400, code, _NOT_TRADING)
