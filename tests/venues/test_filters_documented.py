"""Binance spot filters as documented: each rule on real exchangeInfo files and on edge cases.

The real responses are read by path from ../shared/data/binance (never copied into the project);
the hand-made entries mirror the examples of Binance's "Filters" page.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal as D
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from oms.model.enums import OrderType, Side
from oms.venues.filters import SymbolFilters, filters_from_exchange_info

FULL_2021 = "binance_spot_exchangeInfo_2021-10-12_full_cryptofeed.json"
TRIMMED_2021 = "binance_spot_exchangeInfo_2021-10-22_BTCUSDT_ETHUSDT_nautilus.json"
MARKET, LIMIT = OrderType.MARKET, OrderType.LIMIT


@cache
def real_info(name: str) -> dict[str, Any]:
    """A real exchangeInfo response (skips when the shared data is absent)."""
    env = os.environ.get("OMS_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance")
    base = next((c for c in candidates if c.is_dir()), None)
    if base is None:
        pytest.skip("../shared/data/binance is not available")
    data: dict[str, Any] = json.loads((base / "exchange_info" / name).read_text())
    return data


def real(symbol: str, name: str = TRIMMED_2021) -> SymbolFilters:
    return filters_from_exchange_info(real_info(name), symbol)


def made(*filters: dict[str, Any], **entry: Any) -> SymbolFilters:
    """SymbolFilters of a hand-made exchangeInfo entry: BTCUSDT's price and lot rules plus
    ``filters``; ``entry`` overrides symbol-level fields (status, permissions, orderTypes)."""
    symbol = {"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
              "filters": [
                  {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000.00",
                   "tickSize": "0.01"},
                  {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000.00",
                   "stepSize": "0.00001"},
                  *filters]}
    symbol.update(entry)
    return filters_from_exchange_info({"symbols": [symbol]}, "BTCUSDT")


NOTIONAL_2023 = {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
                 "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5}
# the PERCENT_PRICE_BY_SIDE example of Binance's documentation: the two sides differ
BY_SIDE = {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "1.2",
           "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.8",
           "avgPriceMins": 1}


# --- MARKET_LOT_SIZE -------------------------------------------------------------------------

def test_market_order_over_the_real_market_lot_size_max_fails_while_a_limit_passes() -> None:
    flt = real("BTCUSDT")  # MARKET_LOT_SIZE maxQty 112.21108820, stepSize 0 (no step)

    market = flt.check(MARKET, D("120"), None, D("60000"), side=Side.BUY)
    limit = flt.check(LIMIT, D("120"), D("60000.00"), D("60000"), side=Side.BUY)
    within = flt.check(MARKET, D("112.21108"), None, D("60000"), side=Side.BUY)

    assert flt.market_max_qty == D("112.21108820") and flt.market_step_size == 0
    assert market is not None and (market.filter, market.code) == ("MARKET_LOT_SIZE", -1013)
    assert market.message == "Filter failure: MARKET_LOT_SIZE"
    assert limit is None and within is None
    assert flt.max_quantity(MARKET) == D("112.21108820") and flt.max_quantity(LIMIT) == 9000


def test_market_lot_size_step_binds_market_orders_only() -> None:
    flt = made({"filterType": "MARKET_LOT_SIZE", "minQty": "0.001", "maxQty": "50",
                "stepSize": "0.001"}, NOTIONAL_2023)

    off_step = flt.check(MARKET, D("0.01001"), None, D("60000"))
    under_min = flt.check(MARKET, D("0.0005"), None, D("60000"))
    limit = flt.check(LIMIT, D("0.01001"), D("60000.00"), D("60000"))

    assert off_step is not None and off_step.filter == "MARKET_LOT_SIZE"
    assert under_min is not None and under_min.filter == "MARKET_LOT_SIZE"
    assert limit is None


# --- NOTIONAL / MIN_NOTIONAL -----------------------------------------------------------------

def test_apply_min_to_market_false_lets_a_small_market_order_pass_but_not_a_limit() -> None:
    flt = made({**NOTIONAL_2023, "applyMinToMarket": False})

    market = flt.check(MARKET, D("0.00005"), None, D("60000"))  # 3 USDT < 5
    limit = flt.check(LIMIT, D("0.00005"), D("60000.00"), D("60000"))

    assert market is None
    assert limit is not None and (limit.filter, limit.message) == (
        "NOTIONAL", "Filter failure: NOTIONAL")


def test_apply_max_to_market_decides_whether_a_large_market_order_passes() -> None:
    lenient = made(NOTIONAL_2023)  # applyMaxToMarket false, as BTCUSDT since 2023
    strict = made({**NOTIONAL_2023, "applyMaxToMarket": True})

    market = lenient.check(MARKET, D("200"), None, D("60000"))  # 12,000,000 USDT > 9,000,000
    limit = lenient.check(LIMIT, D("200"), D("60000.00"), D("60000"))
    strict_market = strict.check(MARKET, D("200"), None, D("60000"))

    assert market is None
    assert limit is not None and limit.filter == "NOTIONAL"
    assert strict_market is not None and strict_market.filter == "NOTIONAL"


def test_min_notional_of_the_2021_file_has_no_maximum_and_applies_to_market() -> None:
    flt = real("BTCUSDT")  # MIN_NOTIONAL 10, applyToMarket true, no NOTIONAL filter

    large = flt.check(LIMIT, D("200"), D("60000.00"), D("60000"), side=Side.BUY)  # 12M USDT
    small_market = flt.check(MARKET, D("0.0001"), None, D("60000"), avg_price=D("60000"))

    assert (flt.min_notional, flt.max_notional) == (D("10.00000000"), 0)
    assert large is None
    assert small_market is not None and small_market.filter == "NOTIONAL"  # 6 USDT < 10


def test_market_order_notional_uses_the_average_price_not_the_mid() -> None:
    flt = made(NOTIONAL_2023)

    by_average = flt.check(MARKET, D("0.0001"), None, D("60000"), avg_price=D("40000"))
    by_mid = flt.check(MARKET, D("0.0001"), None, D("60000"))  # no average: the mid stands in

    assert by_average is not None and by_average.filter == "NOTIONAL"  # 4 USDT < 5
    assert by_mid is None  # 6 USDT


# --- PERCENT_PRICE / PERCENT_PRICE_BY_SIDE ---------------------------------------------------

def test_percent_price_by_side_a_buy_passes_where_a_sell_at_the_same_price_fails() -> None:
    flt = made(BY_SIDE)
    average = D("100")

    buy_low = flt.check(LIMIT, D("1"), D("70.00"), average, side=Side.BUY, avg_price=average)
    sell_low = flt.check(LIMIT, D("1"), D("70.00"), average, side=Side.SELL, avg_price=average)
    buy_high = flt.check(LIMIT, D("1"), D("130.00"), average, side=Side.BUY, avg_price=average)
    sell_high = flt.check(LIMIT, D("1"), D("130.00"), average, side=Side.SELL, avg_price=average)

    assert buy_low is None and sell_high is None
    assert sell_low is not None and (sell_low.filter, sell_low.message) == (
        "PERCENT_PRICE_BY_SIDE", "Filter failure: PERCENT_PRICE_BY_SIDE")  # < 0.8 x 100
    assert buy_high is not None and buy_high.filter == "PERCENT_PRICE_BY_SIDE"  # > 1.2 x 100


def test_percent_price_band_is_around_the_average_price_not_the_mid() -> None:
    flt = made(BY_SIDE)

    by_average = flt.check(LIMIT, D("1"), D("125.00"), D("200"), side=Side.BUY,
                           avg_price=D("100"))
    by_mid = flt.check(LIMIT, D("1"), D("125.00"), D("200"), side=Side.BUY)

    assert by_average is not None and by_average.filter == "PERCENT_PRICE_BY_SIDE"  # > 120
    assert by_mid is None  # 40 .. 240 around the mid of 200


def test_percent_price_of_the_2021_file_binds_both_sides_alike() -> None:
    flt = real("ETHUSDT")  # PERCENT_PRICE 0.2 .. 5

    sell = flt.check(LIMIT, D("1"), D("15001.00"), D("3000"), side=Side.SELL,
                     avg_price=D("3000"))
    buy = flt.check(LIMIT, D("1"), D("599.00"), D("3000"), side=Side.BUY, avg_price=D("3000"))
    inside = flt.check(LIMIT, D("1"), D("14999.00"), D("3000"), side=Side.BUY,
                       avg_price=D("3000"))

    assert sell is not None and sell.filter == "PERCENT_PRICE"
    assert buy is not None and buy.filter == "PERCENT_PRICE"
    assert inside is None


def test_without_a_side_a_price_inside_either_sides_band_passes() -> None:
    flt = made(BY_SIDE)

    either = flt.check(LIMIT, D("1"), D("130.00"), D("100"))  # the sell band allows it
    neither = flt.check(LIMIT, D("1"), D("501.00"), D("100"))

    assert flt.price_band(None) == (D("0.2"), D("5"))
    assert either is None
    assert neither is not None and neither.filter == "PERCENT_PRICE_BY_SIDE"


def test_a_symbol_without_a_percent_price_filter_has_no_band() -> None:
    flt = made(NOTIONAL_2023)

    violation = flt.check(LIMIT, D("0.001"), D("600000.00"), D("60000"), side=Side.SELL)

    assert violation is None  # 10 x the price: no rule says otherwise


# --- PRICE_FILTER, LOT_SIZE, MAX_NUM_ORDERS --------------------------------------------------

def test_price_filter_bounds_and_tick_of_zero_are_disabled() -> None:
    flt = filters_from_exchange_info({"symbols": [{"symbol": "XYZUSDT", "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0", "maxPrice": "0", "tickSize": "0"},
        {"filterType": "LOT_SIZE", "minQty": "1", "maxQty": "100", "stepSize": "1"}]}]},
        "XYZUSDT")

    violation = flt.check(LIMIT, D("2"), D("12345678.123456789"), D("12345678"))

    assert violation is None
    assert flt.round_price(D("1.23456"), Side.BUY) == D("1.23456")


def test_real_lot_size_and_price_filter_still_reject() -> None:
    flt = real("ETHUSDT")  # step 0.0001 ETH, tick 0.01

    off_step = flt.check(LIMIT, D("0.00015"), D("3000.00"), D("3000"), side=Side.BUY)
    off_tick = flt.check(LIMIT, D("0.01"), D("3000.005"), D("3000"), side=Side.BUY)

    assert off_step is not None and off_step.filter == "LOT_SIZE"
    assert off_tick is not None and off_tick.filter == "PRICE_FILTER"


def test_max_num_orders_counts_the_open_orders_given() -> None:
    flt = made(NOTIONAL_2023, {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 2},
               {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 7})

    one_open = flt.check(LIMIT, D("0.001"), D("60000.00"), D("60000"), open_orders=1)
    two_open = flt.check(LIMIT, D("0.001"), D("60000.00"), D("60000"), open_orders=2)

    assert (flt.max_num_orders, flt.max_num_algo_orders) == (2, 7)
    assert one_open is None
    assert two_open is not None and two_open.message == "Filter failure: MAX_NUM_ORDERS"


# --- symbol status and permissions -----------------------------------------------------------

def test_status_break_rejects_with_market_is_closed() -> None:
    flt = made(NOTIONAL_2023, status="BREAK")

    violation = flt.check(LIMIT, D("0.001"), D("60000.00"), D("60000"), side=Side.BUY)

    assert flt.status == "BREAK" and not flt.tradable()
    assert violation is not None
    assert (violation.filter, violation.code, violation.message) == (
        "SYMBOL_STATUS", -1013, "Market is closed.")


@pytest.mark.parametrize("status", ["HALT", "END_OF_DAY", "PRE_TRADING", "POST_TRADING",
                                    "AUCTION_MATCH"])
def test_only_trading_accepts_new_orders(status: str) -> None:
    closed = made(NOTIONAL_2023, status=status)
    trading = made(NOTIONAL_2023)

    assert not closed.tradable() and trading.tradable()
    assert closed.check(MARKET, D("0.001"), None, D("60000")) is not None
    assert trading.check(MARKET, D("0.001"), None, D("60000")) is None


def test_real_break_symbol_of_the_full_file_is_not_tradable() -> None:
    flt = real("BCCBTC", FULL_2021)  # delisted: status BREAK

    violation = flt.check(LIMIT, flt.min_qty * 1000, D("0.01"), D("0.01"))

    assert flt.status == "BREAK" and not flt.tradable()
    assert violation is not None and violation.message == "Market is closed."


def test_every_symbol_of_the_full_file_parses_with_its_status_and_permission() -> None:
    info = real_info(FULL_2021)

    parsed = {e["symbol"]: filters_from_exchange_info(info, e["symbol"]) for e in info["symbols"]}

    assert len(parsed) == 1695
    assert sum(f.tradable() for f in parsed.values()) == sum(
        e["status"] == "TRADING" and e["isSpotTradingAllowed"] for e in info["symbols"])
    assert {f.status for f in parsed.values()} == {"TRADING", "BREAK"}


def test_real_leveraged_token_without_spot_permission_is_refused() -> None:
    flt = real("BTCUPUSDT", FULL_2021)  # isSpotTradingAllowed false, permissions [LEVERAGED]

    violation = flt.check(LIMIT, D("1"), D("50.000"), D("50"), side=Side.BUY)

    assert flt.status == "TRADING" and not flt.tradable()
    assert violation is not None and (violation.code, violation.message) == (
        -2010, "This symbol is not permitted for this account.")


@pytest.mark.parametrize(("entry", "allowed"), [
    ({"isSpotTradingAllowed": True, "permissions": ["SPOT", "MARGIN"]}, True),
    ({"isSpotTradingAllowed": True, "permissions": ["MARGIN"]}, False),
    ({"isSpotTradingAllowed": False, "permissions": ["SPOT"]}, False),
    ({"permissions": [], "permissionSets": [["SPOT", "MARGIN", "TRD_GRP_004"]]}, True),
    ({"permissions": [], "permissionSets": [["SPOT"], ["TRD_GRP_005"]]}, False),
    ({"permissions": [], "permissionSets": [["MARGIN", "TRD_GRP_004"]]}, False),
])
def test_spot_permission_from_permissions_and_permission_sets(entry: dict[str, Any],
                                                              allowed: bool) -> None:
    flt = made(NOTIONAL_2023, **entry)

    violation = flt.check(LIMIT, D("0.001"), D("60000.00"), D("60000"))

    assert flt.spot_trading_allowed is allowed and flt.tradable() is allowed
    assert (violation is None) is allowed


def test_an_order_type_the_symbol_does_not_list_is_refused() -> None:
    flt = made(NOTIONAL_2023, orderTypes=["LIMIT", "LIMIT_MAKER"])

    market = flt.check(MARKET, D("0.001"), None, D("60000"))
    limit = flt.check(LIMIT, D("0.001"), D("60000.00"), D("60000"))

    assert market is not None and (market.filter, market.code, market.message) == (
        "ORDER_TYPES", -1013, "Market orders are not supported for this symbol.")
    assert limit is None


def test_refreshed_exchange_info_carries_the_new_status() -> None:
    info: dict[str, Any] = json.loads(json.dumps(real_info(TRIMMED_2021)))
    before = filters_from_exchange_info(info, "BTCUSDT")

    next(e for e in info["symbols"] if e["symbol"] == "BTCUSDT")["status"] = "HALT"
    after = filters_from_exchange_info(info, "BTCUSDT")

    assert before.tradable() and before.status == "TRADING"
    assert not after.tradable() and after.status == "HALT"
