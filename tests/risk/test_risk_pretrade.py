"""PreTradeRisk: the full rule set on one order, its rolling windows and its limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from risk_helpers import T0, D, make_ctx, make_order

from oms.config import RiskLimits
from oms.model.enums import OrderType, Side, TradingState
from oms.risk.pretrade import PreTradeRisk
from oms.risk.violations import ViolationCode

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


def risk(**overrides: object) -> PreTradeRisk:
    return PreTradeRisk(RiskLimits(**overrides), SYMBOLS)


def test_a_plain_order_passes() -> None:
    assert risk().check(make_order(), make_ctx()) is None


def test_halted_denies_first() -> None:
    v = risk().check(make_order(symbol="DOGEUSDT"), make_ctx(state=TradingState.HALTED))
    assert v is not None and v.code == ViolationCode.TRADING_HALTED


def test_reducing_state_allows_only_reducing_orders() -> None:
    r = risk()
    ctx = make_ctx(state=TradingState.REDUCING, position="0.1")
    sell = r.check(make_order(side=Side.SELL, quantity="0.1"), ctx)
    buy = r.check(make_order(side=Side.BUY, quantity="0.01"), ctx)
    flip = r.check(make_order(side=Side.SELL, quantity="0.2"), ctx)
    assert sell is None
    assert buy is not None and buy.code == ViolationCode.REDUCE_ONLY
    assert flip is not None and flip.code == ViolationCode.REDUCE_ONLY


def test_reducing_counts_working_orders_on_the_same_side() -> None:
    ctx = make_ctx(
        state=TradingState.REDUCING, position="0.1", open_orders={"BTCUSDT": (D(0), D("0.06"))}
    )
    v = risk().check(make_order(side=Side.SELL, quantity="0.05"), ctx)
    assert v is not None and v.code == ViolationCode.REDUCE_ONLY


def test_symbol_not_on_allow_list() -> None:
    v = risk().check(make_order(symbol="DOGEUSDT"), make_ctx(symbol="DOGEUSDT", mid="0.1"))
    assert v is not None and str(v) == "SYMBOL_NOT_ALLOWED: symbol=DOGEUSDT"


def test_allow_list_none_allows_all() -> None:
    r = PreTradeRisk(RiskLimits(), None)
    ctx = make_ctx(symbol="DOGEUSDT", mid="0.1")
    assert r.check(make_order(symbol="DOGEUSDT", quantity="100"), ctx) is None


def test_no_market_price_denies() -> None:
    v = risk().check(make_order(), make_ctx(mid=None))
    assert v is not None and v.code == ViolationCode.NO_MARKET_PRICE


def test_mid_from_mids_when_no_quote() -> None:
    assert risk().check(make_order(), make_ctx(quote=False)) is None


def test_account_rate_limit_at_exactly_the_limit() -> None:
    # Arrange: 20 per minute; 20 sent within the last minute
    r = risk()
    for i in range(20):
        r.record_sent(make_order(quantity=f"0.01{i:02d}"), T0 + timedelta(seconds=i))
    # Act
    at_21st = r.check(make_order(), make_ctx(now=T0 + timedelta(seconds=30)))
    after_window = r.check(make_order(), make_ctx(now=T0 + timedelta(seconds=60, microseconds=1)))
    # Assert: the 21st inside the minute is denied; once the first is older than 60 s it passes
    assert at_21st is not None
    assert str(at_21st) == "ORDER_RATE: orders=20 window=60s limit=20"
    assert after_window is None


def test_account_rate_limit_one_under_passes() -> None:
    r = risk()
    for i in range(19):
        r.record_sent(make_order(quantity=f"0.01{i:02d}"), T0)
    assert r.check(make_order(), make_ctx(now=T0 + timedelta(seconds=59))) is None


def test_window_is_inclusive_at_exactly_sixty_seconds() -> None:
    r = risk(max_orders_per_minute=1)
    r.record_sent(make_order(quantity="0.02"), T0)
    v = r.check(make_order(), make_ctx(now=T0 + timedelta(seconds=60)))
    assert v is not None and v.code == ViolationCode.ORDER_RATE


def test_symbol_rate_limit() -> None:
    r = risk(max_orders_per_minute_per_symbol={"BTCUSDT": 2})
    r.record_sent(make_order(quantity="0.02"), T0)
    r.record_sent(make_order(quantity="0.03"), T0)
    btc = r.check(make_order(), make_ctx())
    eth = r.check(make_order(symbol="ETHUSDT", quantity="0.1"), make_ctx(symbol="ETHUSDT",
                                                                         mid="3000"))
    assert btc is not None
    assert str(btc) == "SYMBOL_ORDER_RATE: symbol=BTCUSDT orders=2 window=60s limit=2"
    assert eth is None


def test_duplicate_from_another_parent_within_the_window() -> None:
    r = risk(duplicate_window_s=1.0)
    r.record_sent(make_order(quantity="0.01", parent_id="p1"), T0)
    inside = r.check(make_order(parent_id="p2"), make_ctx(now=T0 + timedelta(seconds=1)))
    outside = r.check(
        make_order(parent_id="p2"), make_ctx(now=T0 + timedelta(seconds=1, microseconds=1))
    )
    same_parent = r.check(make_order(parent_id="p1"), make_ctx(now=T0 + timedelta(seconds=0.5)))
    other_side = r.check(make_order(parent_id="p2", side=Side.SELL, quantity="0.01"),
                         make_ctx(now=T0, position="1"))
    assert inside is not None and inside.code == ViolationCode.DUPLICATE_ORDER
    assert outside is None
    assert same_parent is None
    assert other_side is None


def test_duplicate_window_entries_expire_and_memory_is_bounded() -> None:
    r = risk(max_orders_per_minute=10_000)
    for i in range(1000):
        r.record_sent(make_order(quantity=f"0.0{i + 1000}", parent_id=f"p{i}"),
                      T0 + timedelta(seconds=i))
    assert len(r.windows._parents_by_key) <= 2
    assert len(r.windows._account) <= 61


def test_fat_finger_uses_the_touch_for_market_orders() -> None:
    # 0.1 BTC at ask 50,001 = 5,000.10 > 5,000
    v = risk().check(make_order(quantity="0.1"), make_ctx())
    assert v is not None
    assert str(v) == "MAX_ORDER_NOTIONAL: symbol=BTCUSDT notional_usd=5000.10 limit_usd=5000"


def test_price_collar_in_the_full_set() -> None:
    order = make_order(order_type=OrderType.LIMIT, limit_price="44000", quantity="0.01")
    v = risk().check(order, make_ctx())
    assert v is not None and v.code == ViolationCode.PRICE_COLLAR


def test_exchange_filter_in_the_full_set() -> None:
    v = risk().check(make_order(quantity="0.00005"), make_ctx())
    assert v is not None and v.code == ViolationCode.EXCHANGE_FILTER


def test_daily_loss_blocks_new_risk_but_not_reductions() -> None:
    r = risk()
    ctx = make_ctx(daily_pnl="-600", position="0.05")
    add = r.check(make_order(quantity="0.01"), ctx)
    cut = r.check(make_order(side=Side.SELL, quantity="0.01"), ctx)
    assert add is not None
    assert str(add) == "DAILY_LOSS: symbol=BTCUSDT daily_pnl_usd=-600.00 limit_usd=500"
    assert cut is None


def test_position_limit_after_the_order_including_working_orders() -> None:
    # 0.15 held + 0.04 working buy + 0.02 new = 0.21 BTC = 10,500 USD at mid 50,000
    ctx = make_ctx(position="0.15", open_orders={"BTCUSDT": (D("0.04"), D(0))})
    v = risk().check(make_order(quantity="0.02"), ctx)
    assert v is not None
    assert str(v) == "POSITION_LIMIT: symbol=BTCUSDT position_usd=10500.00 limit_usd=10000"


def test_position_limit_at_the_boundary_passes() -> None:
    ctx = make_ctx(position="0.15")
    assert risk().check(make_order(quantity="0.05"), ctx) is None  # exactly 10,000


def test_position_over_limit_can_still_be_reduced() -> None:
    ctx = make_ctx(position="0.5")  # 25,000 USD after a price move
    assert risk().check(make_order(side=Side.SELL, quantity="0.05"), ctx) is None


def test_gross_exposure_counts_every_symbol() -> None:
    # BTC 15,000 + ETH 9,000 + SOL short 5,000 = 29,000 before the order
    r = risk(max_position_usd=D(20000))
    ctx = make_ctx(
        position="0.3",  # 15,000 BTC
        positions={"ETHUSDT": D("3"), "SOLUSDT": D("-50")},  # 9,000 + 5,000 (short counts)
        mids={"ETHUSDT": D(3000), "SOLUSDT": D(100)},
    )
    ok = r.check(make_order(quantity="0.02"), ctx)  # 30,000 exactly
    over = r.check(make_order(quantity="0.02001"), ctx)
    assert ok is None
    assert over is not None
    assert str(over) == "GROSS_EXPOSURE: symbol=BTCUSDT gross_usd=30000.50 limit_usd=30000"


def test_gross_exposure_counts_working_orders_of_other_symbols() -> None:
    ctx = make_ctx(
        position="0.3",
        positions={"ETHUSDT": D("3")},
        mids={"ETHUSDT": D(3000), "SOLUSDT": D(100)},
        open_orders={"SOLUSDT": (D(0), D(50))},
    )
    v = risk(max_position_usd=D(20000)).check(make_order(quantity="0.03"), ctx)
    assert v is not None and v.code == ViolationCode.GROSS_EXPOSURE


def test_missing_mark_of_a_held_symbol_denies_adding_risk() -> None:
    ctx = make_ctx(positions={"ETHUSDT": D("3")})
    v = risk().check(make_order(), ctx)
    assert v is not None and str(v) == "NO_MARKET_PRICE: symbol=ETHUSDT"


def test_update_limits_takes_effect_and_keeps_windows() -> None:
    r = risk()
    r.record_sent(make_order(quantity="0.02"), T0)
    r.update_limits(RiskLimits(max_orders_per_minute=1))
    v = r.check(make_order(), make_ctx())
    assert v is not None and v.code == ViolationCode.ORDER_RATE


@pytest.mark.parametrize("with_quote", [True, False])
def test_check_all_reports_every_violation(with_quote: bool) -> None:
    r = risk()
    ctx = make_ctx(state=TradingState.REDUCING, daily_pnl="-1000", quote=with_quote)
    order = make_order(symbol="BTCUSDT", quantity="0.3")
    codes = {v.code for v in r.check_all(order, ctx)}
    first = r.check(order, ctx)
    assert {
        ViolationCode.REDUCE_ONLY,
        ViolationCode.MAX_ORDER_NOTIONAL,
        ViolationCode.DAILY_LOSS,
        ViolationCode.POSITION_LIMIT,
    } <= codes
    assert first is not None and first.code in codes


def test_check_all_is_empty_for_a_clean_order() -> None:
    assert risk().check_all(make_order(), make_ctx()) == []


def test_allowed_symbols_can_be_replaced() -> None:
    r = risk()
    r.set_allowed_symbols(["ethusdt"])
    v = r.check(make_order(), make_ctx())
    assert v is not None and v.code == ViolationCode.SYMBOL_NOT_ALLOWED
    assert isinstance(r.limits.max_position_usd, Decimal)


# --- spot reservation ------------------------------------------------------------------------


def test_spot_sell_beyond_position_and_open_sells_is_denied() -> None:
    r = risk()
    ctx = make_ctx(position="0.05", open_orders={"BTCUSDT": (D(0), D("0.03"))})
    assert r.check(make_order(side=Side.SELL, quantity="0.02"), ctx) is None
    v = r.check(make_order(side=Side.SELL, quantity="0.021"), ctx)
    assert v is not None and v.code == ViolationCode.INSUFFICIENT_POSITION


def test_spot_sell_from_flat_is_denied_and_a_margin_account_may_short() -> None:
    order = make_order(side=Side.SELL, quantity="0.01")
    v = risk().check(order, make_ctx())
    assert v is not None and v.code == ViolationCode.INSUFFICIENT_POSITION
    assert risk(spot=False).check(order, make_ctx()) is None


def test_spot_buy_needs_cash_after_open_buys() -> None:
    # market buy of 0.01 at the ask 50001: 500.01 * 1.005 = 502.51005 reserved
    r = risk()
    order = make_order(quantity="0.01")
    fits = replace(make_ctx(), cash=D(1000), open_buy_reserved=D("497.48"))
    short = replace(make_ctx(), cash=D(1000), open_buy_reserved=D("497.49"))
    assert r.check(order, fits) is None
    v = r.check(order, short)
    assert v is not None and v.code == ViolationCode.INSUFFICIENT_CASH


def test_a_limit_buy_reserves_at_its_limit_price() -> None:
    r = risk()
    order = make_order(quantity="0.01", order_type=OrderType.LIMIT, limit_price="49000")
    ctx = replace(make_ctx(), cash=D("492.45"))  # 490 * 1.005 = 492.45
    assert r.check(order, ctx) is None
    assert r.check(order, replace(ctx, cash=D("492.44"))) is not None


def test_unknown_cash_skips_the_cash_rule() -> None:
    assert risk().check(make_order(quantity="0.01"), make_ctx()) is None  # cash=None


def test_check_all_lists_the_reservation_rules() -> None:
    r = risk()
    sell = r.check_all(make_order(side=Side.SELL), make_ctx())
    buy = r.check_all(make_order(), replace(make_ctx(), cash=D(0)))
    assert ViolationCode.INSUFFICIENT_POSITION in {v.code for v in sell}
    assert ViolationCode.INSUFFICIENT_CASH in {v.code for v in buy}
