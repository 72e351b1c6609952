"""The loopback Binance server models Binance where clients break: lag, late orders, limits."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from binance_helpers import API_KEY, API_SECRET, FakeTransport
from fake_binance_server import FakeBinance, Fault

ORDER = "/api/v3/order"


class Signed:
    """A minimal signed-request client for the fake (what python-binance sends, without it)."""

    def __init__(self, server: FakeBinance) -> None:
        self.server = server

    def __call__(self, method: str, path: str, **params: Any) -> requests.Response:
        query = urlencode({**params, "timestamp": self.server.now_ms()})
        signature = hmac.new(API_SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
        return requests.request(method, f"{self.server.url}{path}?{query}&signature={signature}",
                                headers={"X-MBX-APIKEY": API_KEY}, timeout=5)


def eventually(check: Callable[[], bool], within_s: float = 2.0) -> bool:
    """Poll ``check`` until it holds or the deadline passes."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def _signed_body(server: FakeBinance, params: dict[str, str]) -> str:
    query = urlencode({**params, "timestamp": server.now_ms()})
    signature = hmac.new(API_SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={signature}"


def fresh_window(server: FakeBinance) -> None:
    """Move the limit clock to just after a minute starts, so no window ends mid-test."""
    server.advance_limit_clock(60 - server.limit_clock() % 60 + 0.001)


def limit_buy(cid: str, price: str = "49000.00", qty: str = "0.01") -> dict[str, str]:
    return {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": qty, "price": price, "newClientOrderId": cid}


@pytest.fixture
def make_server() -> Iterator[Callable[..., FakeBinance]]:
    started: list[FakeBinance] = []

    def make(**options: Any) -> FakeBinance:
        fake = FakeBinance(API_KEY, API_SECRET, **options).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()


# --- visibility lag --------------------------------------------------------------------------

def test_an_accepted_order_is_invisible_to_queries_and_cancels_for_the_lag(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(visibility_lag_s=0.3)
    send = Signed(server)

    placed = send("POST", ORDER, **limit_buy("lag-1"))
    query = send("GET", ORDER, symbol="BTCUSDT", origClientOrderId="lag-1")
    open_orders = send("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    cancel = send("DELETE", ORDER, symbol="BTCUSDT", origClientOrderId="lag-1")
    seen_later = eventually(lambda: send("GET", ORDER, symbol="BTCUSDT",
                                         origClientOrderId="lag-1").status_code == 200)

    assert placed.status_code == 200 and placed.json()["status"] == "NEW"
    assert (query.status_code, query.json()["code"]) == (400, -2013)
    assert query.json()["msg"] == "Order does not exist."
    assert open_orders.json() == []
    assert (cancel.status_code, cancel.json()) == (400, {"code": -2011,
                                                         "msg": "Unknown order sent."})
    assert seen_later
    assert send("DELETE", ORDER, symbol="BTCUSDT",
                origClientOrderId="lag-1").json()["status"] == "CANCELED"


# --- orders that reach the book late ---------------------------------------------------------

@pytest.mark.parametrize(("kind", "status", "code"), [
    ("500_then_place", 500, -1000), ("-1007_then_place", 503, -1007)])
def test_an_error_answer_can_still_place_the_order_later(
        make_server: Callable[..., FakeBinance], kind: str, status: int, code: int) -> None:
    server = make_server()
    server.faults.append(Fault("POST", ORDER, kind, place_after_s=0.3))
    send = Signed(server)

    answer = send("POST", ORDER, **limit_buy("late-1"))
    right_after = send("GET", ORDER, symbol="BTCUSDT", origClientOrderId="late-1")
    placed = eventually(lambda: send("GET", ORDER, symbol="BTCUSDT",
                                     origClientOrderId="late-1").status_code == 200)

    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert right_after.json()["code"] == -2013
    assert placed
    assert [r["x"] for r in server.execution_reports] == ["NEW"]


def test_a_timed_out_request_places_its_order_after_the_client_gave_up(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server()
    server.faults.append(Fault("POST", ORDER, "timeout_then_place", delay_s=0.6,
                               place_after_s=0.3))
    send = Signed(server)

    with pytest.raises(requests.Timeout):
        requests.post(server.url + ORDER, timeout=0.15, headers={"X-MBX-APIKEY": API_KEY},
                      data=_signed_body(server, limit_buy("late-2")))
    right_after = send("GET", ORDER, symbol="BTCUSDT", origClientOrderId="late-2")
    placed = eventually(lambda: send("GET", ORDER, symbol="BTCUSDT",
                                     origClientOrderId="late-2").status_code == 200)

    assert right_after.json()["code"] == -2013
    assert placed
    assert server.execution_reports[0]["c"] == "late-2"


def test_a_timed_out_request_may_never_place_its_order(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server()
    server.faults.append(Fault("POST", ORDER, "timeout_never_placed", delay_s=0.3))
    send = Signed(server)

    answer = send("POST", ORDER, **limit_buy("never-1"))
    time.sleep(0.1)
    query = send("GET", ORDER, symbol="BTCUSDT", origClientOrderId="never-1")

    assert (answer.status_code, answer.json()["code"]) == (503, -1007)
    assert query.json()["code"] == -2013
    assert server.orders == {} and server.execution_reports == []


def test_a_late_answer_carries_the_order_placed_meanwhile(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server()
    server.faults.append(Fault("POST", ORDER, "timeout_then_place", delay_s=0.4,
                               place_after_s=0.1))

    answer = Signed(server)("POST", ORDER, **limit_buy("late-3"))

    assert answer.status_code == 200 and answer.json()["clientOrderId"] == "late-3"


def test_a_cancel_can_succeed_and_still_answer_500(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server()
    send = Signed(server)
    send("POST", ORDER, **limit_buy("c-1"))
    server.faults.append(Fault("DELETE", ORDER, "cancel_500_after_cancel"))

    answer = send("DELETE", ORDER, symbol="BTCUSDT", origClientOrderId="c-1")
    order = send("GET", ORDER, symbol="BTCUSDT", origClientOrderId="c-1").json()

    assert (answer.status_code, answer.json()["code"]) == (500, -1000)
    assert order["status"] == "CANCELED"


# --- rate limits ------------------------------------------------------------------------------

def test_weights_are_binances_and_every_response_reports_them(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(enforce_limits=True)
    fresh_window(server)
    send = Signed(server)

    calls: list[tuple[str, dict[str, Any]]] = [
        ("/api/v3/ping", {}), (ORDER, {"symbol": "BTCUSDT", "orderId": 1}),
        ("/api/v3/openOrders", {"symbol": "BTCUSDT"}), ("/api/v3/openOrders", {}),
        ("/api/v3/account", {}), ("/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": 1}),
        ("/api/v3/avgPrice", {"symbol": "BTCUSDT"})]

    used = [int(send("GET", path, **params).headers["X-MBX-USED-WEIGHT-1M"])
            for path, params in calls]

    assert [b - a for a, b in zip([0, *used], used, strict=False)] == [1, 4, 6, 80, 20, 5, 2]


def test_passing_the_weight_limit_answers_429_then_418_to_who_keeps_sending(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(enforce_limits=True, weight_limit=50)
    fresh_window(server)
    send = Signed(server)
    send("GET", "/api/v3/exchangeInfo")
    send("GET", "/api/v3/exchangeInfo")

    limited = send("GET", "/api/v3/exchangeInfo")  # 60 > 50
    banned = send("GET", "/api/v3/ping")  # did not back off
    still_banned = send("GET", "/api/v3/ping")
    server.advance_limit_clock(121)
    after_ban = send("GET", "/api/v3/ping")

    assert (limited.status_code, limited.json()["code"]) == (429, -1003)
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert (banned.status_code, banned.json()["code"]) == (418, -1003)
    assert int(banned.headers["Retry-After"]) == 120
    assert still_banned.status_code == 418 and int(still_banned.headers["Retry-After"]) <= 120
    assert after_ban.status_code == 200


def test_a_second_ban_lasts_twice_as_long(make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(enforce_limits=True)
    send = Signed(server)
    bans = []
    for _ in range(2):
        server.faults.append(Fault("GET", "/api/v3/ping", "429", retry_after=30))
        send("GET", "/api/v3/ping")
        bans.append(int(send("GET", "/api/v3/ping").headers["Retry-After"]))
        server.advance_limit_clock(bans[-1] + 1)

    assert bans == [120, 240]


def test_waiting_out_a_429_keeps_the_ip_unbanned(make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(enforce_limits=True, weight_limit=20)
    fresh_window(server)
    send = Signed(server)
    send("GET", "/api/v3/exchangeInfo")
    limited = send("GET", "/api/v3/ping")

    server.advance_limit_clock(int(limited.headers["Retry-After"]))
    answer = send("GET", "/api/v3/ping")

    assert limited.status_code == 429
    assert answer.status_code == 200 and answer.headers["X-MBX-USED-WEIGHT-1M"] == "1"


def test_order_counts_per_10_s_and_day_are_reported_and_limited(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(enforce_limits=True, orders_10s_limit=2, orders_1d_limit=3)
    fresh_window(server)
    send = Signed(server)

    first = send("POST", ORDER, **limit_buy("n-1"))
    second = send("POST", ORDER, **limit_buy("n-2"))
    refused = send("POST", ORDER, **limit_buy("n-3"))
    server.advance_limit_clock(10)
    third = send("POST", ORDER, **limit_buy("n-4"))
    refused_for_the_day = send("POST", ORDER, **limit_buy("n-5"))
    limits = {(x["interval"], x["limit"]) for x in
              send("GET", "/api/v3/exchangeInfo").json()["rateLimits"]}

    assert [first.headers["X-MBX-ORDER-COUNT-10S"], second.headers["X-MBX-ORDER-COUNT-10S"],
            third.headers["X-MBX-ORDER-COUNT-10S"]] == ["1", "2", "1"]
    assert third.headers["X-MBX-ORDER-COUNT-1D"] == "3"
    assert (refused.status_code, refused.json()["code"]) == (429, -1015)
    assert "Retry-After" not in refused.headers  # as documented for the order count
    assert refused_for_the_day.json()["msg"] == (
        "Too many new orders; current limit is 3 orders per 1 DAY.")
    assert limits == {("MINUTE", 6000), ("SECOND", 2), ("DAY", 3)}
    assert len(server.orders) == 3


# --- filters, status, permissions ------------------------------------------------------------

@pytest.mark.parametrize(("params", "failure"), [
    ({"price": "49000.005"}, "PRICE_FILTER"),
    ({"quantity": "0.000015"}, "LOT_SIZE"),
    ({"quantity": "0.0001"}, "NOTIONAL"),  # 4.90 < 5
    ({"price": "250001.00"}, "PERCENT_PRICE_BY_SIDE"),  # a buy above 5 x the average
    ({"side": "SELL", "price": "9999.00"}, "PERCENT_PRICE_BY_SIDE"),  # a sell below 0.2 x
    ({"type": "MARKET", "quantity": "101", "price": None}, "MARKET_LOT_SIZE"),
    ({"type": "MARKET", "quantity": "0.00009", "price": None}, "NOTIONAL"),  # x avg price
])
def test_orders_breaking_a_filter_are_refused_with_its_name(
        make_server: Callable[..., FakeBinance], params: dict[str, str | None],
        failure: str) -> None:
    server = make_server()
    order = {**limit_buy("f-1"), **params}
    if order["type"] == "MARKET":
        order.pop("timeInForce")
    sent = {k: v for k, v in order.items() if v is not None}

    answer = Signed(server)("POST", ORDER, **sent)

    assert (answer.status_code, answer.json()) == (
        400, {"code": -1013, "msg": f"Filter failure: {failure}"})
    assert server.orders == {}


def test_percent_price_follows_the_average_price_and_avg_price_serves_it(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(avg_prices={"BTCUSDT": Decimal("40000")})
    send = Signed(server)

    average = send("GET", "/api/v3/avgPrice", symbol="BTCUSDT").json()
    eth = send("GET", "/api/v3/avgPrice", symbol="ETHUSDT").json()
    refused = send("POST", ORDER, **limit_buy("a-1", price="200001.00"))  # > 5 x 40,000

    assert average["mins"] == 5 and Decimal(average["price"]) == Decimal("40000")
    assert average["closeTime"] > 0
    assert Decimal(eth["price"]) == Decimal("3000.005")  # the mid when not set
    assert refused.json()["msg"] == "Filter failure: PERCENT_PRICE_BY_SIDE"


def test_max_num_orders_counts_the_symbols_open_orders(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server()
    server.rule("BTCUSDT").max_num_orders = 1
    send = Signed(server)
    send("POST", ORDER, **limit_buy("m-1"))

    refused = send("POST", ORDER, **limit_buy("m-2"))
    filters = {f["filterType"]: f for f in send("GET", "/api/v3/exchangeInfo")
               .json()["symbols"][0]["filters"]}

    assert refused.json()["msg"] == "Filter failure: MAX_NUM_ORDERS"
    assert filters["MAX_NUM_ORDERS"]["maxNumOrders"] == 1
    assert filters["MARKET_LOT_SIZE"]["maxQty"] == "100.00000000"


def test_a_symbol_not_trading_refuses_orders_and_says_so(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server()
    send = Signed(server)

    server.set_status("BTCUSDT", "BREAK")
    refused = send("POST", ORDER, **limit_buy("s-1"))
    status = {s["symbol"]: s["status"] for s in send("GET", "/api/v3/exchangeInfo")
              .json()["symbols"]}
    server.set_status("BTCUSDT", "TRADING")
    accepted = send("POST", ORDER, **limit_buy("s-2"))

    assert (refused.status_code, refused.json()) == (400, {"code": -1013,
                                                           "msg": "Market is closed."})
    assert status == {"BTCUSDT": "BREAK", "ETHUSDT": "TRADING"}
    assert accepted.status_code == 200


def test_an_account_that_may_not_trade_can_neither_place_nor_cancel(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server()
    send = Signed(server)
    send("POST", ORDER, **limit_buy("t-1"))

    server.can_trade = False
    placed = send("POST", ORDER, **limit_buy("t-2"))
    canceled = send("DELETE", ORDER, symbol="BTCUSDT", origClientOrderId="t-1")
    account = send("GET", "/api/v3/account").json()

    message = "This account may not place or cancel orders."
    assert (placed.status_code, placed.json()) == (400, {"code": -2010, "msg": message})
    assert (canceled.status_code, canceled.json()) == (400, {"code": -2011, "msg": message})
    assert account["canTrade"] is False


def test_an_order_the_balance_cannot_cover_is_refused_when_enforced(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(enforce_balances=True, balances={"USDT": Decimal("400")})

    refused = Signed(server)("POST", ORDER, **limit_buy("b-1"))  # needs 490 USDT

    assert refused.json() == {"code": -2010, "msg": "Account has insufficient balance for "
                                                    "requested action."}


# --- fills: commission, balances, thin books, self-trade prevention --------------------------

def market(side: str, qty: str, cid: str, **extra: str) -> dict[str, str]:
    return {"symbol": "BTCUSDT", "side": side, "type": "MARKET", "quantity": qty,
            "newClientOrderId": cid, **extra}


@pytest.mark.parametrize(("asset", "fee", "fee_asset"), [
    ("USDT", "0.50000100", "USDT"),  # 500.001 x 0.1 %
    ("BNB", "0.00083333", "BNB"),  # 500.001 x 0.1 % / 600, rounded down
    ("BASE", "0.00001000", "BTC"),  # 0.01 x 0.1 %
])
def test_commission_is_charged_in_the_configured_asset_everywhere(
        make_server: Callable[..., FakeBinance], asset: str, fee: str, fee_asset: str) -> None:
    server = make_server(commission_asset=asset)
    send = Signed(server)

    answer = send("POST", ORDER, **market("BUY", "0.01", "fee-1")).json()
    trade = send("GET", "/api/v3/myTrades", symbol="BTCUSDT").json()[0]
    report = server.execution_reports[-1]

    assert (answer["fills"][0]["commission"], answer["fills"][0]["commissionAsset"]) == (
        fee, fee_asset)
    assert (trade["commission"], trade["commissionAsset"]) == (fee, fee_asset)
    assert (report["x"], report["n"], report["N"]) == ("TRADE", fee, fee_asset)


def test_bnb_is_priced_for_clients_when_fees_are_paid_in_it(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(commission_asset="BNB", bnb_price=Decimal("612.5"))
    send = Signed(server)

    ticker = send("GET", "/api/v3/ticker/price", symbol="BNBUSDT").json()
    average = send("GET", "/api/v3/avgPrice", symbol="BNBUSDT").json()
    kline = send("GET", "/api/v3/klines", symbol="BNBUSDT", interval="1m", limit=1).json()[0]
    book = send("GET", "/api/v3/ticker/bookTicker", symbol="BNBUSDT").json()

    assert Decimal(ticker["price"]) == Decimal(average["price"]) == Decimal(kline[4]) == \
        Decimal("612.5")
    assert Decimal(book["bidPrice"]) < Decimal("612.5") < Decimal(book["askPrice"])


def test_balances_follow_fills_and_fees_and_resting_orders_are_locked(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(commission_asset="BNB", balances={
        "USDT": Decimal("100000"), "BNB": Decimal("1")})
    send = Signed(server)

    send("POST", ORDER, **market("BUY", "0.01", "bal-1"))  # 500.001 USDT, fee 0.00083333 BNB
    send("POST", ORDER, **limit_buy("bal-2", price="49000.00", qty="0.02"))  # locks 980 USDT
    server.fill("bal-2", Decimal("0.01"))  # 490 USDT, fee 0.00081666 BNB
    send("POST", ORDER, **{**limit_buy("bal-3", price="60000.00"), "side": "SELL"})
    balances = {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"]))
                for b in send("GET", "/api/v3/account").json()["balances"]}

    assert balances["USDT"] == (Decimal("100000") - Decimal("500.001") - Decimal("490")
                                - Decimal("490"), Decimal("490"))
    assert balances["BTC"] == (Decimal("0.01"), Decimal("0.01"))  # 0.02 bought, 0.01 on offer
    assert balances["BNB"] == (Decimal("1") - Decimal("0.00083333") - Decimal("0.00081666"),
                               Decimal(0))
    assert server.balances["BTC"] == Decimal("0.02")


def test_a_base_asset_fee_comes_out_of_what_was_bought(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(commission_asset="BASE")
    send = Signed(server)
    send("POST", ORDER, **limit_buy("base-1"))

    trade = server.fill("base-1", Decimal("0.01"))

    assert (trade["commission"], trade["commissionAsset"]) == ("0.00001000", "BTC")
    assert server.balances["BTC"] == Decimal("0.00999")
    assert server.balances["USDT"] == Decimal("100000") - Decimal("490")


def test_a_market_order_walks_a_thin_book_and_expires_the_rest(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(touch_quantity={"BTCUSDT": Decimal("0.01")})
    send = Signed(server)

    answer = send("POST", ORDER, **market("BUY", "0.07", "thin-1")).json()
    depth = send("GET", "/api/v3/depth", symbol="BTCUSDT").json()

    assert [(f["price"], f["qty"]) for f in answer["fills"]] == [
        (f"500{cents}", "0.01") for cents in ("00.10", "00.11", "00.12", "00.13", "00.14")]
    assert answer["status"] == "EXPIRED" and Decimal(answer["executedQty"]) == Decimal("0.05")
    assert [r["x"] for r in server.execution_reports] == ["NEW", *["TRADE"] * 5, "EXPIRED"]
    assert depth["asks"][0] == ["50000.10", "0.01"] and len(depth["asks"]) == 5


def test_a_crossing_limit_order_takes_only_levels_within_its_price(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server(touch_quantity={"BTCUSDT": Decimal("0.01")})

    answer = Signed(server)("POST", ORDER, **{**limit_buy("thin-2", price="50000.11",
                                                          qty="0.05"), "timeInForce": "IOC"})

    assert [f["price"] for f in answer.json()["fills"]] == ["50000.10", "50000.11"]
    assert answer.json()["status"] == "EXPIRED"


def test_self_trade_prevention_expires_the_resting_order_by_default(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server()
    send = Signed(server)
    resting = send("POST", ORDER, **{**limit_buy("own-sell", price="50000.10"),
                                     "side": "SELL"}).json()

    taker = send("POST", ORDER, **market("BUY", "0.01", "own-buy")).json()
    maker = send("GET", ORDER, symbol="BTCUSDT", origClientOrderId="own-sell").json()
    prevention = next(r for r in server.execution_reports if r["x"] == "TRADE_PREVENTION")

    assert resting["selfTradePreventionMode"] == "EXPIRE_MAKER"
    assert maker["status"] == "EXPIRED_IN_MATCH"
    assert (prevention["c"], prevention["X"], prevention["U"]) == (
        "own-sell", "EXPIRED_IN_MATCH", taker["orderId"])
    assert taker["status"] == "FILLED"  # it traded with the rest of the book


def test_expire_taker_expires_the_incoming_order_and_keeps_the_resting_one(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server()
    send = Signed(server)
    send("POST", ORDER, **{**limit_buy("own-sell", price="50000.05"), "side": "SELL"})

    taker = send("POST", ORDER, **market("BUY", "0.01", "own-buy",
                                         selfTradePreventionMode="EXPIRE_TAKER")).json()
    maker = send("GET", ORDER, symbol="BTCUSDT", origClientOrderId="own-sell").json()

    assert (taker["status"], taker["fills"]) == ("EXPIRED_IN_MATCH", [])
    assert maker["status"] == "NEW"
    assert server.trades == []


# --- the user stream ----------------------------------------------------------------------------

def test_the_stream_can_drop_duplicate_reorder_and_disconnect(
        make_server: Callable[..., FakeBinance]) -> None:
    server = make_server()
    send = Signed(server)
    stream = FakeTransport(server)
    got: list[str] = []
    stream.start(lambda msg: got.append(msg["c"]))
    for cid in ("s-1", "s-2", "s-3"):
        send("POST", ORDER, **limit_buy(cid))

    stream.drop_next(1)
    stream.duplicate_next(1)
    stream.deliver()
    dropped_and_doubled = list(got)
    got.clear()
    for cid in ("s-4", "s-5"):
        send("POST", ORDER, **limit_buy(cid))
    stream.reorder = True
    stream.deliver()
    reordered = list(got)
    got.clear()
    stream.disconnect()
    send("POST", ORDER, **limit_buy("s-6"))
    while_down = stream.deliver()
    stream.start(lambda msg: got.append(msg["c"]))
    send("POST", ORDER, **limit_buy("s-7"))
    stream.deliver()

    assert dropped_and_doubled == ["s-2", "s-2", "s-3"]
    assert [r["c"] for r in stream.dropped] == ["s-1"]
    assert reordered == ["s-5", "s-4"]
    assert while_down == 0
    assert got == ["s-7"]  # s-6 happened while disconnected: lost, as on Binance
