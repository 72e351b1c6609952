"""A small Binance-compatible spot REST server on loopback, for tests (no internet).

Implements the endpoints the OMS uses with Binance's request signing (HMAC-SHA256 over the
query string / body, X-MBX-APIKEY header, timestamp inside recvWindow), response shapes, error
codes and rate-limit headers; faults are scripted per request. Written from the public API docs.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["FakeBinance", "Fault"]

_SIGNED = {("POST", "/api/v3/order"), ("GET", "/api/v3/order"), ("DELETE", "/api/v3/order"),
           ("GET", "/api/v3/openOrders"), ("DELETE", "/api/v3/openOrders"),
           ("GET", "/api/v3/account"), ("GET", "/api/v3/myTrades"),
           ("GET", "/sapi/v1/account/apiRestrictions")}
_KEYED = {("POST", "/api/v3/userDataStream"), ("PUT", "/api/v3/userDataStream"),
          ("DELETE", "/api/v3/userDataStream")}
_WEIGHTS = {"/api/v3/exchangeInfo": 20, "/api/v3/order": 1, "/api/v3/openOrders": 6,
            "/api/v3/myTrades": 20, "/api/v3/account": 20, "/api/v3/depth": 5}


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class Fault:
    """One scripted fault for the next request matching ``method`` and ``path``.

    kinds: "timeout_after_accept" (process, then answer too late), "503_after_accept",
    "-1007_after_accept", "500" (fail before processing), "429", "418".
    """

    method: str
    path: str
    kind: str
    retry_after: int = 30
    delay_s: float = 1.0


@dataclass
class FakeBinance:
    """The server state; ``start()`` serves it on 127.0.0.1 at a free port (``url``)."""

    api_key: str
    api_secret: str
    books: dict[str, tuple[Decimal, Decimal]] = field(default_factory=lambda: {
        "BTCUSDT": (Decimal("50000.00"), Decimal("50000.10")),
        "ETHUSDT": (Decimal("3000.00"), Decimal("3000.01"))})
    weight_limit: int = 6000
    skew_ms: int = 0  # server clock minus real clock
    permissions: dict[str, Any] = field(default_factory=lambda: {
        "ipRestrict": True, "enableWithdrawals": False, "enableSpotAndMarginTrading": True,
        "enableReading": True, "createTime": 1_700_000_000_000})
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)
    execution_reports: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._ids = itertools.count(1001)
        self._trade_ids = itertools.count(5001)
        self._weight: dict[int, int] = {}
        self._orders10s: dict[int, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # --- lifecycle ----------------------------------------------------------------------------

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
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def now_ms(self) -> int:
        """The server's clock."""
        return int(time.time() * 1000) + self.skew_ms

    def count(self, method: str, path: str) -> int:
        """How many requests reached ``method path``."""
        with self.lock:
            return sum(1 for m, p, _ in self.requests if m == method and p == path)

    # --- HTTP -------------------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length).decode() if length else ""
        raw = "&".join(x for x in (parts.query, body) if x)
        params = dict(parse_qsl(raw, keep_blank_values=True))
        method, path = req.command, parts.path
        delay = 0.0
        status, payload, headers = 200, None, {}
        with self.lock:
            self.requests.append((method, path, params))
            fault = next((f for f in self.faults if f.method == method and f.path == path), None)
            if fault is not None:
                self.faults.remove(fault)
            try:
                minute = self.now_ms() // 60_000
                self._weight[minute] = self._weight.get(minute, 0) + _WEIGHTS.get(path, 1)
                headers["X-MBX-USED-WEIGHT-1M"] = str(self._weight[minute])
                self._pre_fault(fault)
                self._authenticate(method, path, req, raw, params)
                payload = self._route(method, path, params, headers)
                if fault is not None and fault.kind == "timeout_after_accept":
                    delay = fault.delay_s
                elif fault is not None and fault.kind == "503_after_accept":
                    raise _Reply(503, "Service Unavailable")
                elif fault is not None and fault.kind == "-1007_after_accept":
                    raise _Reply(503, {"code": -1007, "msg": "Timeout waiting for response from "
                                       "backend server. Send status unknown; execution status "
                                       "unknown."})
            except _Reply as reply:
                status, payload = reply.status, reply.body
                headers.update(reply.headers)
        if delay:
            time.sleep(delay)
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

    def _pre_fault(self, fault: Fault | None) -> None:
        if fault is None:
            return
        if fault.kind == "500":
            raise _Reply(500, {"code": -1000, "msg": "An unknown error occurred."})
        if fault.kind == "429":
            raise _Reply(429, {"code": -1003, "msg": "Too many requests."},
                         {"Retry-After": str(fault.retry_after)})
        if fault.kind == "418":
            raise _Reply(418, {"code": -1003, "msg": "Way too many requests; IP banned."},
                         {"Retry-After": str(fault.retry_after)})

    def _authenticate(self, method: str, path: str, req: BaseHTTPRequestHandler, raw: str,
                      params: dict[str, str]) -> None:
        if (method, path) not in _SIGNED | _KEYED:
            return
        if req.headers.get("X-MBX-APIKEY") != self.api_key:
            raise _Reply(401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for "
                               "action."})
        if (method, path) in _KEYED:
            return
        signed, sep, signature = raw.rpartition("&signature=")
        expected = hmac.new(self.api_secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(signature, expected):
            raise _Reply(400, {"code": -1022, "msg": "Signature for this request is not valid."})
        recv_window = int(params.get("recvWindow", 5000))
        stamp, now = int(params.get("timestamp", 0)), self.now_ms()
        if stamp < now - recv_window or stamp > now + 1000:
            raise _Reply(400, {"code": -1021, "msg": "Timestamp for this request is outside of "
                               "the recvWindow."})

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
            window = self.now_ms() // 10_000
            self._orders10s[window] = self._orders10s.get(window, 0) + 1
            headers["X-MBX-ORDER-COUNT-10S"] = str(self._orders10s[window])
            return self._new_order(p)
        if key == ("GET", "/api/v3/order"):
            return self._find(p["symbol"], p.get("origClientOrderId"), p.get("orderId"))
        if key == ("DELETE", "/api/v3/order"):
            return self._cancel(self._find(p["symbol"], p.get("origClientOrderId"),
                                           p.get("orderId"), unknown=-2011))
        if key == ("GET", "/api/v3/openOrders"):
            return [o for o in self.orders.values() if o["status"] in ("NEW", "PARTIALLY_FILLED")
                    and ("symbol" not in p or o["symbol"] == p["symbol"])]
        if key == ("DELETE", "/api/v3/openOrders"):
            open_ = [o for o in self.orders.values() if o["symbol"] == p["symbol"]
                     and o["status"] in ("NEW", "PARTIALLY_FILLED")]
            if not open_:
                raise _Reply(400, {"code": -2011, "msg": "Unknown order sent."})
            return [self._cancel(o) for o in open_]
        if key == ("GET", "/api/v3/myTrades"):
            return [t for t in self.trades if t["symbol"] == p["symbol"]
                    and ("orderId" not in p or t["orderId"] == int(p["orderId"]))]
        if key == ("GET", "/api/v3/account"):
            return {"canTrade": True, "balances": [{"asset": "USDT", "free": "100000.0",
                                                    "locked": "0.0"}]}
        if path == "/api/v3/userDataStream":
            return {"listenKey": "fake-listen-key"} if method == "POST" else {}
        if key == ("GET", "/sapi/v1/account/apiRestrictions"):
            return dict(self.permissions)
        if key == ("GET", "/api/v3/ticker/bookTicker"):
            bid, ask = self.books[p["symbol"]]
            return {"symbol": p["symbol"], "bidPrice": str(bid), "bidQty": "1.5",
                    "askPrice": str(ask), "askQty": "2.0"}
        if key == ("GET", "/api/v3/depth"):
            bid, ask = self.books[p["symbol"]]
            return {"lastUpdateId": 1, "bids": [[str(bid), "1.5"]], "asks": [[str(ask), "2.0"]]}
        if key == ("GET", "/api/v3/klines"):
            start = int(p.get("startTime", self.now_ms() - 5 * 60_000)) // 60_000 * 60_000
            bid, ask = self.books[p["symbol"]]
            mid = str((bid + ask) / 2)
            count = int(p.get("limit", 500))
            if "endTime" in p:
                count = min(count, (int(p["endTime"]) - start) // 60_000 + 1)
            return [[start + i * 60_000, mid, mid, mid, mid, "10.0", start + i * 60_000 + 59_999,
                     "500000.0", 42, "5.0", "250000.0", "0"] for i in range(count)]
        raise _Reply(404, {"code": -1000, "msg": f"no route {method} {path}"})

    def exchange_info(self) -> dict[str, Any]:
        """exchangeInfo for the configured symbols (Binance-shaped filters and limits)."""
        return {
            "timezone": "UTC", "serverTime": self.now_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                 "limit": self.weight_limit},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000}],
            "symbols": [{
                "symbol": s, "status": "TRADING", "baseAsset": s[:-4], "quoteAsset": "USDT",
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000.00",
                     "tickSize": "0.01"},
                    {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000.00000000",
                     "stepSize": "0.00001"},
                    {"filterType": "NOTIONAL", "minNotional": "5.00", "applyMinToMarket": True,
                     "maxNotional": "9000000.00", "applyMaxToMarket": False},
                    {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5",
                     "bidMultiplierDown": "0.2", "askMultiplierUp": "5",
                     "askMultiplierDown": "0.2", "avgPriceMins": 5},
                    {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200}]}
                for s in self.books]}

    def _find(self, symbol: str, cid: str | None, order_id: str | None,
              unknown: int = -2013) -> dict[str, Any]:
        for order in sorted(self.orders.values(), key=lambda o: -o["orderId"]):
            if order["symbol"] == symbol and (
                (cid is not None and order["clientOrderId"] == cid)
                or (order_id is not None and order["orderId"] == int(order_id))
            ):
                return order
        msg = "Order does not exist." if unknown == -2013 else "Unknown order sent."
        raise _Reply(400, {"code": unknown, "msg": msg})

    def _new_order(self, p: dict[str, str]) -> dict[str, Any]:
        symbol, side, kind = p["symbol"], p["side"], p["type"]
        cid = p.get("newClientOrderId") or f"srv{next(self._ids)}"
        if any(o["clientOrderId"] == cid and o["symbol"] == symbol
               and o["status"] in ("NEW", "PARTIALLY_FILLED") for o in self.orders.values()):
            raise _Reply(400, {"code": -2010, "msg": "Duplicate order sent."})
        bid, ask = self.books[symbol]
        touch = ask if side == "BUY" else bid
        price = Decimal(p.get("price", "0"))
        qty = Decimal(p["quantity"])
        if qty % Decimal("0.00001") != 0 or (price and price % Decimal("0.01") != 0):
            raise _Reply(400, {"code": -1013, "msg": "Filter failure: LOT_SIZE"})
        crosses = kind == "MARKET" or (price >= touch if side == "BUY" else price <= touch)
        if kind == "LIMIT_MAKER" and crosses:
            raise _Reply(400, {"code": -2010, "msg": "Order would immediately match and take."})
        now = self.now_ms()
        order: dict[str, Any] = {"symbol": symbol, "orderId": next(self._ids), "orderListId": -1,
                 "clientOrderId": cid, "transactTime": now, "price": str(price or "0.00000000"),
                 "origQty": str(qty), "executedQty": "0.00000000",
                 "cummulativeQuoteQty": "0.00000000", "status": "NEW",
                 "timeInForce": p.get("timeInForce", "GTC"), "type": kind, "side": side,
                 "time": now, "updateTime": now, "isWorking": True, "workingTime": now,
                 "selfTradePreventionMode": "EXPIRE_MAKER"}
        self.orders[order["orderId"]] = order
        self._report(order, "NEW")
        fills = []
        if crosses:
            fills.append(self.fill(cid, qty, touch, symbol=symbol, maker=False))
        elif p.get("timeInForce") in ("IOC", "FOK"):
            order["status"] = "EXPIRED"
            self._report(order, "EXPIRED")
        public = {k: v for k, v in order.items() if k not in ("time", "updateTime", "isWorking")}
        return {**public, "fills": [{"price": f["price"], "qty": f["qty"],
                                     "commission": f["commission"],
                                     "commissionAsset": f["commissionAsset"],
                                     "tradeId": f["id"]} for f in fills]}

    def fill(self, cid: str, qty: Decimal, price: Decimal | None = None, *, symbol: str = "BTCUSDT",
             maker: bool = True) -> dict[str, Any]:
        """Execute ``qty`` of the order ``cid`` (tests call this for resting orders)."""
        with self.lock:
            order = self._find(symbol, cid, None)
            price = price if price is not None else Decimal(order["price"])
            done = Decimal(order["executedQty"]) + qty
            order["executedQty"] = str(done)
            order["cummulativeQuoteQty"] = str(Decimal(order["cummulativeQuoteQty"]) + qty * price)
            order["status"] = "FILLED" if done >= Decimal(order["origQty"]) else "PARTIALLY_FILLED"
            order["updateTime"] = self.now_ms()
            trade = {"symbol": symbol, "id": next(self._trade_ids), "orderId": order["orderId"],
                     "orderListId": -1, "price": str(price), "qty": str(qty),
                     "quoteQty": str(price * qty), "commission": str(price * qty / 1000),
                     "commissionAsset": "USDT", "time": order["updateTime"], "isBuyer":
                     order["side"] == "BUY", "isMaker": maker, "isBestMatch": True}
            self.trades.append(trade)
            self._report(order, "TRADE", trade)
            return trade

    def _cancel(self, order: dict[str, Any]) -> dict[str, Any]:
        if order["status"] not in ("NEW", "PARTIALLY_FILLED"):
            raise _Reply(400, {"code": -2011, "msg": "Unknown order sent."})
        order["status"] = "CANCELED"
        order["updateTime"] = self.now_ms()
        self._report(order, "CANCELED")
        return {"symbol": order["symbol"], "origClientOrderId": order["clientOrderId"],
                "orderId": order["orderId"], "orderListId": -1,
                "clientOrderId": f"cancel{order['orderId']}", "transactTime": order["updateTime"],
                **{k: order[k] for k in ("price", "origQty", "executedQty", "cummulativeQuoteQty",
                                         "status", "timeInForce", "type", "side")}}

    def place_foreign(self, symbol: str, side: str, qty: str, price: str, cid: str) -> None:
        """An order placed outside the OMS (for reconciliation tests)."""
        with self.lock:
            self._new_order({"symbol": symbol, "side": side, "type": "LIMIT",
                             "quantity": qty, "price": price, "timeInForce": "GTC",
                             "newClientOrderId": cid})

    def _report(self, order: dict[str, Any], exec_type: str,
                trade: dict[str, Any] | None = None) -> None:
        self.execution_reports.append({
            "e": "executionReport", "E": order["updateTime"], "s": order["symbol"],
            "c": order["clientOrderId"] if exec_type != "CANCELED" else f"cancel{order['orderId']}",
            "C": order["clientOrderId"] if exec_type == "CANCELED" else "",
            "S": order["side"], "o": order["type"], "f": order["timeInForce"],
            "q": order["origQty"], "p": order["price"], "x": exec_type, "X": order["status"],
            "r": "NONE", "i": order["orderId"],
            "l": trade["qty"] if trade else "0", "z": order["executedQty"],
            "L": trade["price"] if trade else "0", "n": trade["commission"] if trade else "0",
            "N": "USDT" if trade else None, "T": order["updateTime"],
            "t": trade["id"] if trade else -1, "m": bool(trade and trade["isMaker"]),
            "Z": order["cummulativeQuoteQty"]})
