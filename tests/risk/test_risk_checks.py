"""Each pure check: its deny path, its reason text, and the boundary (at / just under / over)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from risk_helpers import D, make_order

from oms.model.enums import OrderType, Side, TradingState
from oms.risk.checks import (
    check_cash_available,
    check_daily_loss,
    check_duplicate,
    check_exchange_filters,
    check_gross_exposure,
    check_market_price,
    check_max_order_notional,
    check_order_rate,
    check_position_available,
    check_position_limit,
    check_price_collar,
    check_symbol_allowed,
    check_trading_state,
    exposure_qty,
    is_risk_reducing,
    order_price,
    reserved_cash,
)
from oms.venues.filters import SymbolFilters

# --- risk-reducing and exposure -------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "qty", "position", "open_buy", "open_sell", "expected"),
    [
        (Side.SELL, "1", "2", "0", "0", True),
        (Side.SELL, "2", "2", "0", "0", True),  # to flat: still reducing
        (Side.SELL, "2.00001", "2", "0", "0", False),  # would flip
        (Side.SELL, "1", "2", "0", "1", True),  # with working sells exactly to flat
        (Side.SELL, "1", "2", "0", "1.5", False),  # working sells would flip it
        (Side.BUY, "1", "2", "0", "0", False),  # adds to a long
        (Side.BUY, "1", "-1", "0", "0", True),
        (Side.BUY, "1", "-1", "0.5", "0", False),
        (Side.SELL, "1", "0", "0", "0", False),  # flat: nothing to reduce
    ],
)
def test_is_risk_reducing(
    side: Side, qty: str, position: str, open_buy: str, open_sell: str, expected: bool
) -> None:
    assert is_risk_reducing(side, D(qty), D(position), D(open_buy), D(open_sell)) is expected


def test_exposure_qty_takes_the_worse_side() -> None:
    assert exposure_qty(D(1), D(2), D(0)) == D(3)
    assert exposure_qty(D(1), D(0), D(4)) == D(3)
    assert exposure_qty(D(-1), D("0.5"), D(0)) == D(1)


# --- trading state ---------------------------------------------------------------------------


def test_active_allows_everything() -> None:
    assert check_trading_state(TradingState.ACTIVE, "BTCUSDT", Side.BUY, reducing=False) is None


def test_halted_denies_even_reducing_orders() -> None:
    v = check_trading_state(TradingState.HALTED, "BTCUSDT", Side.SELL, reducing=True)
    assert v is not None
    assert str(v) == "TRADING_HALTED: state=HALTED symbol=BTCUSDT side=SELL"


def test_reducing_denies_non_reducing_and_allows_reducing() -> None:
    denied = check_trading_state(TradingState.REDUCING, "ETHUSDT", Side.BUY, reducing=False)
    allowed = check_trading_state(TradingState.REDUCING, "ETHUSDT", Side.SELL, reducing=True)
    assert denied is not None
    assert str(denied) == "REDUCE_ONLY: state=REDUCING symbol=ETHUSDT side=BUY"
    assert allowed is None


# --- symbol allow-list and market price ------------------------------------------------------


def test_symbol_allow_list() -> None:
    allowed = frozenset({"BTCUSDT"})
    v = check_symbol_allowed("DOGEUSDT", allowed)
    assert v is not None and str(v) == "SYMBOL_NOT_ALLOWED: symbol=DOGEUSDT"
    assert check_symbol_allowed("BTCUSDT", allowed) is None
    assert check_symbol_allowed("DOGEUSDT", None) is None


def test_market_price_required() -> None:
    v = check_market_price("BTCUSDT", None)
    assert v is not None and str(v) == "NO_MARKET_PRICE: symbol=BTCUSDT"
    assert check_market_price("BTCUSDT", D(0)) is not None
    assert check_market_price("BTCUSDT", D(1)) is None


# --- order rate ------------------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "denied"), [(18, False), (19, False), (20, True), (21, True)])
def test_account_order_rate_boundary(sent: int, denied: bool) -> None:
    v = check_order_rate(sent, 20)
    assert (v is not None) is denied
    if v is not None:
        assert str(v) == f"ORDER_RATE: orders={sent} window=60s limit=20"


def test_symbol_order_rate_text() -> None:
    v = check_order_rate(5, 5, symbol="SOLUSDT")
    assert v is not None
    assert str(v) == "SYMBOL_ORDER_RATE: symbol=SOLUSDT orders=5 window=60s limit=5"


# --- duplicate -------------------------------------------------------------------------------


def test_duplicate_from_another_parent_is_denied() -> None:
    order = make_order(side=Side.SELL, quantity="0.5", parent_id="p2")
    v = check_duplicate(order, {"p1": 1}, 1.0)
    assert v is not None
    assert str(v) == (
        "DUPLICATE_ORDER: symbol=BTCUSDT side=SELL quantity=0.5 seen=1 other_parent=p1 window_s=1"
    )


def test_duplicate_counts_only_other_parents_orders() -> None:
    order = make_order(side=Side.SELL, quantity="0.5", parent_id="p2")
    v = check_duplicate(order, {"p2": 4, "p1": 2, "p3": 1}, 2.0)
    assert v is not None
    assert v.numbers["seen"] == 3 and v.numbers["other_parent"] == "p1"
    assert v.numbers["window_s"] == "2"


def test_same_parent_repeats_are_not_duplicates() -> None:
    order = make_order(parent_id="p1")
    assert check_duplicate(order, {"p1": 3}, 1.0) is None
    assert check_duplicate(order, {}, 1.0) is None


# --- exchange filters ------------------------------------------------------------------------


def test_exchange_filters_lot_size() -> None:
    order = make_order(quantity="0.000015")  # not on the 0.00001 step
    v = check_exchange_filters(order, SymbolFilters("BTCUSDT"), D(50000))
    assert v is not None
    assert str(v) == (
        "EXCHANGE_FILTER: symbol=BTCUSDT filter=LOT_SIZE code=-1013 quantity=0.000015 price=MARKET"
    )


@pytest.mark.parametrize(
    ("quantity", "denied"), [("0.00009", True), ("0.0001", False), ("0.00011", False)]
)
def test_exchange_filters_min_notional_boundary(quantity: str, denied: bool) -> None:
    # min notional 5 at mid 50000 -> 0.0001 is exactly at the minimum
    v = check_exchange_filters(make_order(quantity=quantity), SymbolFilters("BTCUSDT"), D(50000))
    assert (v is not None) is denied
    if v is not None:
        assert v.numbers["filter"] == "NOTIONAL"


def test_exchange_filters_tick_size() -> None:
    order = make_order(order_type=OrderType.LIMIT, limit_price="50000.005", quantity="0.01")
    v = check_exchange_filters(order, SymbolFilters("BTCUSDT"), D(50000))
    assert v is not None and v.numbers["filter"] == "PRICE_FILTER"


# --- fat finger ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "denied"), [("0.09999", False), ("0.1", False), ("0.10001", True)]
)
def test_max_order_notional_boundary(quantity: str, denied: bool) -> None:
    order = make_order(quantity=quantity)
    v = check_max_order_notional(order, D(50000), D(5000))
    assert (v is not None) is denied
    if v is not None:
        assert str(v) == "MAX_ORDER_NOTIONAL: symbol=BTCUSDT notional_usd=5000.50 limit_usd=5000"


def test_order_price_prefers_limit_then_touch_then_mid() -> None:
    limit = make_order(order_type=OrderType.LIMIT, limit_price="49000")
    market = make_order()
    assert order_price(limit, D(50000), D(50001)) == D(49000)
    assert order_price(market, D(50000), D(50001)) == D(50001)
    assert order_price(market, D(50000), None) == D(50000)


# --- price collar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "denied"),
    [("52499.99", False), ("52500", False), ("52500.01", True), ("47500", False),
     ("47499.99", True)],
)
def test_price_collar_boundary(price: str, denied: bool) -> None:
    order = make_order(order_type=OrderType.LIMIT, limit_price=price)
    v = check_price_collar(order, D(50000), D(5))
    assert (v is not None) is denied


def test_price_collar_text() -> None:
    order = make_order(order_type=OrderType.LIMIT, limit_price="53000")
    v = check_price_collar(order, D(50000), D(5))
    assert v is not None
    assert str(v) == (
        "PRICE_COLLAR: symbol=BTCUSDT price=53000 mid=50000 deviation_pct=6.00 collar_pct=5"
    )


def test_price_collar_ignores_market_orders() -> None:
    assert check_price_collar(make_order(), D(50000), D(5)) is None


# --- daily loss ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pnl", "denied"), [("-499.99", False), ("-500", False), ("-500.01", True), ("250", False)]
)
def test_daily_loss_boundary(pnl: str, denied: bool) -> None:
    v = check_daily_loss(D(pnl), D(500), reducing=False, symbol="BTCUSDT")
    assert (v is not None) is denied
    if v is not None:
        assert str(v) == "DAILY_LOSS: symbol=BTCUSDT daily_pnl_usd=-500.01 limit_usd=500"


def test_daily_loss_lets_reducing_orders_through() -> None:
    assert check_daily_loss(D(-10_000), D(500), reducing=True) is None


# --- single position -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after_qty", "denied"), [("0.19999", False), ("0.2", False), ("0.20001", True)]
)
def test_position_limit_boundary(after_qty: str, denied: bool) -> None:
    # 0.2 BTC at 50,000 is exactly the 10,000 USD limit
    v = check_position_limit("BTCUSDT", D(0), D(after_qty), D(50000), D(10000))
    assert (v is not None) is denied


def test_position_limit_text_matches_the_spec_example() -> None:
    v = check_position_limit("BTCUSDT", D(0), D("0.209004"), D(50000), D(10000))
    assert v is not None
    assert str(v) == "POSITION_LIMIT: symbol=BTCUSDT position_usd=10450.20 limit_usd=10000"


def test_position_limit_never_denies_an_order_that_does_not_enlarge() -> None:
    assert check_position_limit("BTCUSDT", D(1), D("0.5"), D(50000), D(10000)) is None
    assert check_position_limit("BTCUSDT", D(1), D(1), D(50000), D(10000)) is None


# --- gross exposure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "denied"), [("29999.99", False), ("30000", False), ("30000.01", True)]
)
def test_gross_exposure_boundary(after: str, denied: bool) -> None:
    v = check_gross_exposure(D(20000), D(after), D(30000), symbol="ETHUSDT")
    assert (v is not None) is denied
    if v is not None:
        assert str(v) == "GROSS_EXPOSURE: symbol=ETHUSDT gross_usd=30000.01 limit_usd=30000"


def test_gross_exposure_allows_shrinking_above_the_limit() -> None:
    assert check_gross_exposure(D(40000), D(35000), D(30000)) is None


def test_decimal_numbers_survive_as_decimals() -> None:
    v = check_position_limit("BTCUSDT", D(0), D(1), D(50000), D(10000))
    assert v is not None
    assert isinstance(v.numbers["position_usd"], Decimal)


# --- spot reservation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "open_sell", "quantity", "denied"),
    [
        ("1", "0.4", "0.6", False),  # exactly to zero once everything fills
        ("1", "0.4", "0.60000001", True),
        ("1", "0", "1", False),
        ("0", "0", "0.001", True),  # nothing held
        ("-0.5", "0", "0.001", True),
    ],
)
def test_position_available_boundary(
    position: str, open_sell: str, quantity: str, denied: bool
) -> None:
    order = make_order(side=Side.SELL, quantity=quantity)
    v = check_position_available(order, D(position), D(open_sell))
    assert (v is not None) is denied


def test_position_available_text() -> None:
    order = make_order(side=Side.SELL, quantity="0.5")
    v = check_position_available(order, D("0.6"), D("0.2"))
    assert v is not None
    assert str(v) == (
        "INSUFFICIENT_POSITION: symbol=BTCUSDT position=0.6 open_sell=0.2 quantity=0.5"
    )


def test_reserved_cash_adds_the_buffer() -> None:
    assert reserved_cash(D(2), D(100), D(50)) == D("201.0")
    assert reserved_cash(D(2), D(100), D(0)) == D(200)


@pytest.mark.parametrize(("reserve", "denied"), [("600", False), ("600.01", True)])
def test_cash_available_boundary(reserve: str, denied: bool) -> None:
    # cash 1000, 400 already reserved by working buys: 600 left
    order = make_order(side=Side.BUY)
    v = check_cash_available(order, D(reserve), D(1000), D(400))
    assert (v is not None) is denied


def test_cash_available_text() -> None:
    v = check_cash_available(make_order(), D("600.014"), D("1000"), D("400"))
    assert v is not None
    assert str(v) == (
        "INSUFFICIENT_CASH: symbol=BTCUSDT cash_usd=1000.00 open_buy_usd=400.00 order_usd=600.01"
    )
