"""How the fake Binance fills an order: book levels, commission, balances, self-trade prevention.

From Binance's spot docs: trade commission in the quote asset, in BNB (at the BNB price) or in
the asset received; account balances as free + locked (locked: what resting orders hold);
market orders that exhaust the book expire with what they got; self-trade prevention decided
by the taker's ``selfTradePreventionMode`` (faqs/stp_faq.md).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any

from fake_binance_rules import RateLimits, SymbolRules, binance_error

__all__ = [
    "OPEN",
    "STP_MODES",
    "OrderMatching",
    "apply_fill",
    "book_levels",
    "commission",
    "locked_amounts",
    "self_trade_makers",
    "sweep",
]

_EIGHT_DP = Decimal("0.00000001")
_LEVELS = 5  # how deep a thin book is modelled
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH")
OPEN = ("NEW", "PARTIALLY_FILLED")


def _mid(book: tuple[Decimal, Decimal]) -> Decimal:
    return (book[0] + book[1]) / 2


def book_levels(side: str, touch: Decimal, tick: Decimal,
                touch_quantity: Decimal | None) -> list[tuple[Decimal, Decimal | None]]:
    """The levels an incoming ``side`` order can take: (price, quantity; None = unlimited)."""
    if touch_quantity is None:
        return [(touch, None)]
    step = tick if side == "BUY" else -tick
    return [(touch + level * step, touch_quantity) for level in range(_LEVELS)]


def sweep(side: str, quantity: Decimal, limit: Decimal | None,
          levels: list[tuple[Decimal, Decimal | None]]) -> list[tuple[Decimal, Decimal]]:
    """(quantity, price) taken level by level, within ``limit`` (None: a market order)."""
    taken: list[tuple[Decimal, Decimal]] = []
    left = quantity
    for price, available in levels:
        if left <= 0 or (limit is not None and (price > limit if side == "BUY" else price < limit)):
            break
        take = left if available is None else min(left, available)
        taken.append((take, price))
        left -= take
    return taken


def commission(mode: str, *, rate: Decimal, bnb_price: Decimal, base_asset: str,
               quote_asset: str, quantity: Decimal, price: Decimal) -> tuple[Decimal, str]:
    """(fee, asset) of one trade: quote x rate, in BNB at ``bnb_price``, or base x rate."""
    if mode == "BNB":
        return (quantity * price * rate / bnb_price).quantize(_EIGHT_DP, ROUND_DOWN), "BNB"
    if mode == "BASE":
        return (quantity * rate).quantize(_EIGHT_DP, ROUND_DOWN), base_asset
    if mode in ("USDT", quote_asset):
        return (quantity * price * rate).quantize(_EIGHT_DP, ROUND_DOWN), quote_asset
    raise ValueError(f"commission_asset must be USDT, BNB or BASE, not {mode!r}")


def apply_fill(balances: dict[str, Decimal], *, side: str, base_asset: str, quote_asset: str,
               quantity: Decimal, price: Decimal, fee: Decimal, fee_asset: str) -> None:
    """Move one trade and its fee through the account's total balances."""
    sign = 1 if side == "BUY" else -1
    balances[base_asset] = balances.get(base_asset, Decimal(0)) + sign * quantity
    balances[quote_asset] = balances.get(quote_asset, Decimal(0)) - sign * quantity * price
    balances[fee_asset] = balances.get(fee_asset, Decimal(0)) - fee


def locked_amounts(orders: list[dict[str, Any]],
                   assets: dict[str, tuple[str, str]]) -> dict[str, Decimal]:
    """What resting orders hold: a BUY its quote (remaining x price), a SELL its base."""
    locked: dict[str, Decimal] = {}
    for order in orders:
        if order["status"] not in OPEN:
            continue
        base, quote = assets[order["symbol"]]
        remaining = Decimal(order["origQty"]) - Decimal(order["executedQty"])
        asset, amount = ((quote, remaining * Decimal(order["price"])) if order["side"] == "BUY"
                         else (base, remaining))
        locked[asset] = locked.get(asset, Decimal(0)) + amount
    return locked


def self_trade_makers(orders: list[dict[str, Any]], *, symbol: str, side: str,
                      limit: Decimal | None, touch: Decimal) -> list[dict[str, Any]]:
    """The account's resting orders an incoming ``side`` order would meet first, best first.

    An own order at or better than the touch is first in line (the book beyond it is other
    people's); one behind the touch is never reached by the modelled book.
    """
    def reachable(order: dict[str, Any]) -> bool:
        price = Decimal(order["price"])
        if side == "BUY":
            return price <= touch and (limit is None or price <= limit)
        return price >= touch and (limit is None or price >= limit)

    mine = [o for o in orders if o["symbol"] == symbol and o["status"] in OPEN
            and o["side"] != side and o["type"] != "MARKET" and reachable(o)]
    return sorted(mine, key=lambda o: (Decimal(o["price"]) * (1 if side == "BUY" else -1),
                                       o["orderId"]))


class OrderMatching:
    """The order side of the fake server: place, match, fill, cancel, report (a mixin).

    The state it works on (orders, trades, reports, balances and the settings) belongs to
    ``FakeBinance``; the names below are what this part reads and writes.
    """

    lock: threading.RLock
    orders: dict[int, dict[str, Any]]
    trades: list[dict[str, Any]]
    execution_reports: list[dict[str, Any]]
    balances: dict[str, Decimal]
    books: dict[str, tuple[Decimal, Decimal]]
    touch_quantity: dict[str, Decimal]
    limits: RateLimits
    visibility_lag_s: float
    enforce_limits: bool
    enforce_filters: bool
    enforce_balances: bool
    orders_10s_limit: int
    orders_1d_limit: int
    commission_asset: str
    commission_rate: Decimal
    bnb_price: Decimal
    _ids: itertools.count[int]
    _trade_ids: itertools.count[int]
    _prevented_ids: itertools.count[int]
    _visible_at: dict[int, float]
    now_ms: Callable[[], int]
    clock: Callable[[], float]
    limit_clock: Callable[[], float]
    rule: Callable[[str], SymbolRules]
    avg_price: Callable[[str], Decimal]
    account: Callable[[], dict[str, Any]]
    _book: Callable[[str], tuple[Decimal, Decimal]]
    _may_trade: Callable[[int], None]
    _find: Callable[..., dict[str, Any]]

    def _new_order(self, p: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
        self._may_trade(-2010)
        symbol, side, kind = p["symbol"], p["side"], p["type"]
        bid, ask = self._book(symbol)
        rules = self.rule(symbol)
        cid = p.get("newClientOrderId") or f"srv{next(self._ids)}"
        stp = p.get("selfTradePreventionMode", "EXPIRE_MAKER")
        if stp not in STP_MODES:
            raise binance_error(400, -1130, "Data sent for parameter 'selfTradePreventionMode' "
                                "is not valid.")
        if any(o["clientOrderId"] == cid and o["symbol"] == symbol and o["status"] in OPEN
               for o in self.orders.values()):
            raise binance_error(400, -2010, "Duplicate order sent.")
        touch = ask if side == "BUY" else bid
        if kind != "MARKET" and not p.get("price"):
            raise binance_error(400, -1102, "Mandatory parameter 'price' was not sent, was "
                                "empty/null, or malformed.")
        price = Decimal(p["price"]) if kind != "MARKET" else None
        qty = Decimal(p["quantity"])
        if self.enforce_limits:
            self.limits.check_new_order(self.limit_clock(), limit_10s=self.orders_10s_limit,
                                        limit_1d=self.orders_1d_limit)
        self._check_rules(rules, side, kind, qty, price, symbol)
        crosses = price is None or (price >= touch if side == "BUY" else price <= touch)
        if kind == "LIMIT_MAKER" and crosses:
            raise binance_error(400, -2010, "Order would immediately match and take.")
        if self.enforce_balances:
            self._check_balance(rules, side, qty, price if price is not None else touch)
        now = self.now_ms()
        order: dict[str, Any] = {
            "symbol": symbol, "orderId": next(self._ids), "orderListId": -1,
            "clientOrderId": cid, "transactTime": now, "price": str(price or "0.00000000"),
            "origQty": str(qty), "executedQty": "0.00000000",
            "cummulativeQuoteQty": "0.00000000", "status": "NEW",
            "timeInForce": p.get("timeInForce", "GTC"), "type": kind, "side": side,
            "time": now, "updateTime": now, "isWorking": True, "workingTime": now,
            "selfTradePreventionMode": stp}
        self.orders[order["orderId"]] = order
        if self.visibility_lag_s:
            self._visible_at[order["orderId"]] = self.clock() + self.visibility_lag_s
        self.limits.count_order(self.limit_clock(), headers)
        self._report(order, "NEW")
        fills = self._match(order, touch, crosses, stp)
        public = {k: v for k, v in order.items() if k not in ("time", "updateTime", "isWorking")}
        return {**public, "fills": [{"price": f["price"], "qty": f["qty"],
                                     "commission": f["commission"],
                                     "commissionAsset": f["commissionAsset"],
                                     "tradeId": f["id"]} for f in fills]}

    def _check_rules(self, rules: SymbolRules, side: str, kind: str, qty: Decimal,
                     price: Decimal | None, symbol: str) -> None:
        if self.enforce_filters:
            open_orders = sum(1 for o in self.orders.values()
                              if o["symbol"] == symbol and o["status"] in OPEN)
            rules.check(side=side, order_type=kind, quantity=qty, price=price,
                        avg_price=self.avg_price(symbol), open_orders=open_orders)
            return
        if rules.status != "TRADING":
            raise binance_error(400, -1013, "Market is closed.")
        if qty % rules.step_size != 0 or (price and price % rules.tick_size != 0):
            raise binance_error(400, -1013, "Filter failure: LOT_SIZE")

    def _check_balance(self, rules: SymbolRules, side: str, qty: Decimal, price: Decimal) -> None:
        asset, needed = ((rules.quote_asset, qty * price) if side == "BUY"
                         else (rules.base_asset, qty))
        free = next((Decimal(b["free"]) for b in self.account()["balances"]
                     if b["asset"] == asset), Decimal(0))
        if free < needed:
            raise binance_error(400, -2010, "Account has insufficient balance for requested "
                                "action.")

    def _match(self, order: dict[str, Any], touch: Decimal, crosses: bool,
               stp: str) -> list[dict[str, Any]]:
        """Trade a new order against the account's own orders (STP) and the book."""
        side, symbol, kind = order["side"], order["symbol"], order["type"]
        limit = None if kind == "MARKET" else Decimal(order["price"])
        fills: list[dict[str, Any]] = []
        makers = [] if kind == "LIMIT_MAKER" else self_trade_makers(
            list(self.orders.values()), symbol=symbol, side=side, limit=limit, touch=touch)
        for maker in makers:
            if stp == "NONE":  # the account trades with itself, at the resting price
                left = Decimal(order["origQty"]) - Decimal(order["executedQty"])
                size = min(left, Decimal(maker["origQty"]) - Decimal(maker["executedQty"]))
                if size > 0:
                    fills.append(self._execute(order, size, Decimal(maker["price"]), maker=False))
                    self._execute(maker, size, Decimal(maker["price"]), maker=True)
                continue
            match_id = next(self._prevented_ids)
            if stp in ("EXPIRE_MAKER", "EXPIRE_BOTH"):
                self._prevent(maker, order, match_id, stp)
            if stp in ("EXPIRE_TAKER", "EXPIRE_BOTH"):
                self._prevent(order, maker, match_id, stp)
                return fills
        left = Decimal(order["origQty"]) - Decimal(order["executedQty"])
        if crosses and left > 0:
            levels = book_levels(side, touch, self.rule(symbol).tick_size,
                                 self.touch_quantity.get(symbol))
            taken = sweep(side, left, limit, levels)
            if order["timeInForce"] == "FOK" and sum(q for q, _ in taken) < left:
                taken = []  # fill or kill: all of it, or nothing
            for size, price in taken:
                fills.append(self._execute(order, size, price, maker=False))
        if order["status"] in OPEN and (kind == "MARKET"
                                        or order["timeInForce"] in ("IOC", "FOK")):
            order["status"] = "EXPIRED"  # what the book could not give, as Binance does
            order["updateTime"] = self.now_ms()
            self._report(order, "EXPIRED")
        return fills

    def _prevent(self, order: dict[str, Any], counter: dict[str, Any], match_id: int,
                 stp: str) -> None:
        left = Decimal(order["origQty"]) - Decimal(order["executedQty"])
        order["status"] = "EXPIRED_IN_MATCH"
        order["updateTime"] = self.now_ms()
        self._report(order, "TRADE_PREVENTION", extra={
            "v": match_id, "A": str(left), "B": str(left), "U": counter["orderId"],
            "Cs": counter["symbol"], "V": stp, "u": -1})

    def fill(self, cid: str, qty: Decimal, price: Decimal | None = None, *, symbol: str = "BTCUSDT",
             maker: bool = True) -> dict[str, Any]:
        """Execute ``qty`` of the order ``cid`` (tests call this for resting orders)."""
        with self.lock:
            order = self._find(symbol, cid, None)
            return self._execute(order, qty, price if price is not None
                                 else Decimal(order["price"]), maker=maker)

    def _execute(self, order: dict[str, Any], qty: Decimal, price: Decimal, *,
                 maker: bool) -> dict[str, Any]:
        """One trade of ``order``: its state, the fee, the balances, the trade and its report."""
        symbol, rules = order["symbol"], self.rule(order["symbol"])
        done = Decimal(order["executedQty"]) + qty
        order["executedQty"] = str(done)
        order["cummulativeQuoteQty"] = str(Decimal(order["cummulativeQuoteQty"]) + qty * price)
        order["status"] = "FILLED" if done >= Decimal(order["origQty"]) else "PARTIALLY_FILLED"
        order["updateTime"] = self.now_ms()
        bnb_price = (_mid(self.books["BNBUSDT"]) if "BNBUSDT" in self.books
                     else self.bnb_price)
        fee, fee_asset = commission(
            self.commission_asset, rate=self.commission_rate, bnb_price=bnb_price,
            base_asset=rules.base_asset, quote_asset=rules.quote_asset, quantity=qty, price=price)
        apply_fill(self.balances, side=order["side"], base_asset=rules.base_asset,
                   quote_asset=rules.quote_asset, quantity=qty, price=price, fee=fee,
                   fee_asset=fee_asset)
        trade = {"symbol": symbol, "id": next(self._trade_ids), "orderId": order["orderId"],
                 "orderListId": -1, "price": str(price), "qty": str(qty),
                 "quoteQty": str(price * qty), "commission": str(fee),
                 "commissionAsset": fee_asset, "time": order["updateTime"],
                 "isBuyer": order["side"] == "BUY", "isMaker": maker, "isBestMatch": True}
        self.trades.append(trade)
        self._report(order, "TRADE", trade)
        return trade

    def _cancel(self, order: dict[str, Any]) -> dict[str, Any]:
        if order["status"] not in OPEN:
            raise binance_error(400, -2011, "Unknown order sent.")
        order["status"] = "CANCELED"
        order["updateTime"] = self.now_ms()
        self._report(order, "CANCELED")
        return {"symbol": order["symbol"], "origClientOrderId": order["clientOrderId"],
                "orderId": order["orderId"], "orderListId": -1,
                "clientOrderId": f"cancel{order['orderId']}", "transactTime": order["updateTime"],
                **{k: order[k] for k in ("price", "origQty", "executedQty", "cummulativeQuoteQty",
                                         "status", "timeInForce", "type", "side",
                                         "selfTradePreventionMode")}}

    def place_foreign(self, symbol: str, side: str, qty: str, price: str, cid: str) -> None:
        """An order placed outside the OMS (for reconciliation tests)."""
        with self.lock:
            self._new_order({"symbol": symbol, "side": side, "type": "LIMIT",
                             "quantity": qty, "price": price, "timeInForce": "GTC",
                             "newClientOrderId": cid}, {})

    def _report(self, order: dict[str, Any], exec_type: str,
                trade: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> None:
        self.execution_reports.append({
            "e": "executionReport", "E": order["updateTime"], "s": order["symbol"],
            "c": order["clientOrderId"] if exec_type != "CANCELED" else f"cancel{order['orderId']}",
            "C": order["clientOrderId"] if exec_type == "CANCELED" else "",
            "S": order["side"], "o": order["type"], "f": order["timeInForce"],
            "q": order["origQty"], "p": order["price"], "x": exec_type, "X": order["status"],
            "r": "NONE", "i": order["orderId"],
            "l": trade["qty"] if trade else "0", "z": order["executedQty"],
            "L": trade["price"] if trade else "0", "n": trade["commission"] if trade else "0",
            "N": trade["commissionAsset"] if trade else None, "T": order["updateTime"],
            "t": trade["id"] if trade else -1, "m": bool(trade and trade["isMaker"]),
            "Z": order["cummulativeQuoteQty"], **(extra or {})})
