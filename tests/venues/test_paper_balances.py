"""Spot is spot: the paper venue locks, spends and refuses balances as Binance spot does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.config import PaperVenueSettings
from oms.market.synthetic import SyntheticMarket
from oms.model import Account, account_balances, split_symbol
from oms.model.enums import ChildState, OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder, Fill
from oms.risk.halt import HaltGate
from oms.venues import Balance, SymbolFilters
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)
from oms.venues.paper import PaperVenue

START = datetime(2024, 5, 1, 14, tzinfo=UTC)
INSTANT = PaperVenueSettings(latency_ms=0, latency_jitter_ms=0)
FEES = INSTANT.model_copy(update={"taker_fee_bps": Decimal("7.5"), "maker_fee_bps": Decimal(2)})
INSUFFICIENT = (-2010, "Account has insufficient balance for requested action.")
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
ZERO = Decimal(0)


def child(cid: str, quantity: str | Decimal, side: Side,
          order_type: OrderType = OrderType.MARKET, *, price: Decimal | None = None,
          tif: TimeInForce = TimeInForce.GTC, symbol: str = "BTCUSDT") -> ChildOrder:
    return ChildOrder(cid, "p1", symbol, side, Decimal(quantity), order_type, START, "paper",
                      limit_price=price, time_in_force=tif)


def setup(balances: dict[str, Decimal] | None = None,
          settings: PaperVenueSettings = INSTANT) -> tuple[SyntheticMarket, PaperVenue]:
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    return market, PaperVenue(HaltGate(), market, settings, seed=3, balances=balances)


def rejections(events: list[VenueEvent]) -> dict[str, tuple[int, str]]:
    return {e.client_order_id: (e.code, e.reason) for e in events if isinstance(e, OrderRejected)}


def fills_of(events: list[VenueEvent]) -> list[Fill]:
    return [e.fill for e in events if isinstance(e, OrderFilled)]


def totals(venue: PaperVenue) -> dict[str, Decimal]:
    return {asset: b.total for asset, b in venue.balances().items() if b.total}


# ---------------------------------------------------------------- what may not be sold or bought


def test_sell_without_the_base_asset_is_rejected_with_binances_code() -> None:
    _market, venue = setup()

    venue.submit(child("short", "0.01", Side.SELL), START)
    events = venue.poll(START)

    assert rejections(events) == {"short": INSUFFICIENT}
    assert not fills_of(events)
    assert venue.query("short").state is ChildState.REJECTED  # type: ignore[union-attr]
    assert venue.balances() == {"USDT": Balance(Decimal(100_000), ZERO)}
    assert venue.open_order_ids() == []


def test_a_limit_sell_rejected_for_balance_never_rests() -> None:
    market, venue = setup()
    ask = market.quote("BTCUSDT").ask

    venue.submit(child("s", "0.01", Side.SELL, OrderType.LIMIT, price=ask + 100), START)
    events = venue.poll(START)

    assert [type(e) for e in events] == [OrderRejected]
    assert venue.open_order_ids() == []


def test_two_sells_that_each_fit_but_not_together_reject_the_second() -> None:
    market, venue = setup({"USDT": ZERO, "BTC": Decimal(1)})
    away = market.quote("BTCUSDT").ask + 500  # rests: its lock stays

    venue.submit(child("s1", "0.6", Side.SELL, OrderType.LIMIT, price=away), START)
    venue.submit(child("s2", "0.6", Side.SELL, OrderType.LIMIT, price=away), START)
    events = venue.poll(START)

    assert rejections(events) == {"s2": INSUFFICIENT}
    assert venue.open_order_ids() == ["s1"]
    assert venue.balances()["BTC"] == Balance(Decimal("0.4"), Decimal("0.6"))


def test_a_market_sell_of_more_than_is_left_after_a_fill_is_rejected() -> None:
    _market, venue = setup({"BTC": Decimal("0.5")})

    venue.submit(child("s1", "0.3", Side.SELL), START)
    venue.submit(child("s2", "0.3", Side.SELL), START)
    events = venue.poll(START)

    assert sum(f.quantity for f in fills_of(events)) == Decimal("0.3")
    assert rejections(events) == {"s2": INSUFFICIENT}
    assert venue.balances()["BTC"] == Balance(Decimal("0.2"), ZERO)


def test_buying_more_than_the_cash_is_rejected_market_and_limit() -> None:
    market, venue = setup()  # 100,000 USDT; BTC at about 60,672
    bid = market.quote("BTCUSDT").bid

    venue.submit(child("mkt", "2", Side.BUY), START)
    venue.submit(child("lmt", "2", Side.BUY, OrderType.LIMIT, price=bid - 5000), START)
    events = venue.poll(START)

    assert rejections(events) == {"mkt": INSUFFICIENT, "lmt": INSUFFICIENT}
    assert venue.balances() == {"USDT": Balance(Decimal(100_000), ZERO)}


def test_a_limit_buy_locks_price_times_quantity_plus_its_largest_fee_to_the_cent() -> None:
    fees = INSTANT.model_copy(update={"taker_fee_bps": Decimal("7.5"),
                                      "maker_fee_bps": Decimal(2)})
    market, _ = setup()
    price = market.quote("BTCUSDT").bid - 1000  # rests
    needed = price * Decimal(1) * (1 + Decimal("0.00075"))
    _, exact = setup({"USDT": needed}, fees)
    _, short = setup({"USDT": needed - Decimal("0.01")}, fees)

    exact.submit(child("b", "1", Side.BUY, OrderType.LIMIT, price=price), START)
    short.submit(child("b", "1", Side.BUY, OrderType.LIMIT, price=price), START)

    assert [type(e) for e in exact.poll(START)] == [OrderAccepted]
    assert exact.balances()["USDT"] == Balance(ZERO, needed)
    assert rejections(short.poll(START)) == {"b": INSUFFICIENT}


def test_a_market_buy_is_checked_against_what_walking_the_book_costs() -> None:
    market, probe = setup({"USDT": Decimal(10**7)})
    touch_cost = Decimal(5) * market.quote("BTCUSDT").ask * Decimal("1.001")
    probe.submit(child("probe", "5", Side.BUY), START)  # walks several levels
    probe_fills = fills_of(probe.poll(START))
    cost = sum((f.notional + f.fee for f in probe_fills), ZERO)
    assert len(probe_fills) > 1 and cost > touch_cost
    _, enough = setup({"USDT": cost})
    _, short = setup({"USDT": cost - Decimal("0.01")})  # covers the touch price, not the walk

    enough.submit(child("b", "5", Side.BUY), START)
    short.submit(child("b", "5", Side.BUY), START)

    assert sum(f.quantity for f in fills_of(enough.poll(START))) == Decimal(5)
    assert enough.balances() == {"BTC": Balance(Decimal(5), ZERO), "USDT": Balance(ZERO, ZERO)}
    assert rejections(short.poll(START)) == {"b": INSUFFICIENT}


def test_the_balance_is_checked_when_the_order_reaches_the_exchange() -> None:
    slow = INSTANT.model_copy(update={"latency_ms": 40.0})
    _market, venue = setup({"BTC": Decimal("0.5")}, slow)

    venue.submit(child("s1", "0.5", Side.SELL), START)
    venue.set_balances({"BTC": ZERO})  # gone before the order arrives (20 ms later)
    venue.poll(START + timedelta(milliseconds=20))
    events = venue.poll(START + timedelta(milliseconds=40))

    assert rejections(events) == {"s1": INSUFFICIENT}


# ---------------------------------------------------------------- locks come back


def test_a_cancel_releases_the_lock_and_the_balance_sells_again() -> None:
    market, venue = setup({"BTC": Decimal(1)})
    away = market.quote("BTCUSDT").ask + 500

    venue.submit(child("s1", "1", Side.SELL, OrderType.LIMIT, price=away), START)
    venue.poll(START)
    locked = venue.balances()["BTC"]
    venue.cancel("s1", START)
    canceled = venue.poll(START)
    released = venue.balances()["BTC"]
    venue.submit(child("s2", "1", Side.SELL), START)
    events = venue.poll(START)

    assert locked == Balance(ZERO, Decimal(1))
    assert [type(e) for e in canceled] == [OrderCanceled]
    assert released == Balance(Decimal(1), ZERO)
    assert sum(f.quantity for f in fills_of(events)) == Decimal(1)
    assert venue.balances()["BTC"] == Balance(ZERO, ZERO)


def test_an_expired_order_releases_its_lock() -> None:
    market, venue = setup()
    bid = market.quote("BTCUSDT").bid

    venue.submit(child("ioc", "1", Side.BUY, OrderType.LIMIT, price=bid - 100,
                       tif=TimeInForce.IOC), START)
    events = venue.poll(START)

    assert [type(e) for e in events] == [OrderAccepted, OrderExpired]
    assert venue.balances() == {"USDT": Balance(Decimal(100_000), ZERO)}


def test_a_partly_filled_resting_buy_keeps_the_lock_of_its_remaining_quantity() -> None:
    market, venue = setup({"USDT": Decimal(10**6)}, FEES)  # maker fee below the lock's taker fee
    bid = market.quote("SOLUSDT").bid
    rate = Decimal("1.00075")

    venue.submit(child("rest", "2000", Side.BUY, OrderType.LIMIT, price=bid, symbol="SOLUSDT"),
                 START)
    fills: list[Fill] = []
    now = START
    while not fills and now < START + timedelta(minutes=30):
        now += timedelta(seconds=1)
        market.advance_to(now)
        fills += fills_of(venue.poll(now))
    report = venue.query("rest")

    assert fills and report is not None and report.state is ChildState.PARTIALLY_FILLED
    remaining = Decimal(2000) - report.filled_quantity
    spent = sum((f.notional + f.fee for f in fills), ZERO)
    assert venue.balances()["USDT"] == Balance(Decimal(10**6) - spent - remaining * bid * rate,
                                               remaining * bid * rate)
    assert venue.balances()["SOL"] == Balance(report.filled_quantity, ZERO)


def test_a_partly_filled_resting_sell_keeps_the_lock_of_its_remaining_quantity() -> None:
    market, venue = setup({"SOL": Decimal(3000)}, FEES)
    ask = market.quote("SOLUSDT").ask + Decimal("0.01")  # one tick up: fills in parts (seed 3)

    venue.submit(child("rest", "2000", Side.SELL, OrderType.LIMIT, price=ask, symbol="SOLUSDT"),
                 START)
    fills: list[Fill] = []
    now = START
    while not fills and now < START + timedelta(minutes=30):
        now += timedelta(seconds=1)
        market.advance_to(now)
        fills += fills_of(venue.poll(now))
    report = venue.query("rest")

    assert fills and report is not None and report.state is ChildState.PARTIALLY_FILLED
    remaining = Decimal(2000) - report.filled_quantity
    assert venue.balances()["SOL"] == Balance(Decimal(1000), remaining)
    assert venue.balances()["USDT"] == Balance(
        sum((f.notional - f.fee for f in fills), ZERO), ZERO)


# ---------------------------------------------------------------- setting balances


def test_set_balances_replaces_the_account_and_keeps_open_locks() -> None:
    market, venue = setup({"USDT": Decimal(1000), "BTC": Decimal(1)})
    away = market.quote("BTCUSDT").ask + 500
    venue.submit(child("s1", "0.4", Side.SELL, OrderType.LIMIT, price=away), START)
    venue.poll(START)

    venue.set_balances({"BTC": Decimal("0.5"), "ETH": Decimal(2)})

    assert venue.balances() == {"BTC": Balance(Decimal("0.1"), Decimal("0.4")),
                                "ETH": Balance(Decimal(2), ZERO)}
    with pytest.raises(ValueError, match="below what open orders lock"):
        venue.set_balances({"BTC": Decimal("0.3")})
    with pytest.raises(ValueError, match="never negative"):
        venue.set_balances({"BTC": Decimal(1), "USDT": Decimal(-1)})
    assert venue.balances()["BTC"] == Balance(Decimal("0.1"), Decimal("0.4"))  # unchanged


def test_restart_balances_from_the_fills_let_the_venue_sell_what_was_bought() -> None:
    _market, venue = setup()
    venue.submit(child("b", "0.5", Side.BUY), START)
    account = Account(cash=Decimal(100_000))
    for fill in fills_of(venue.poll(START)):
        account.apply_fill(fill)
    _market, restarted = setup()  # a new process: the venue starts from its settings

    restarted.set_balances(account_balances(account, "USDT",
                                            lambda symbol: restarted.filters(symbol).assets()))
    restored = totals(restarted)
    restarted.submit(child("s", "0.5", Side.SELL), START)
    events = restarted.poll(START)

    assert restored == {"USDT": account.cash, "BTC": Decimal("0.5")}
    assert not rejections(events) and sum(f.quantity for f in fills_of(events)) == Decimal("0.5")


# ---------------------------------------------------------------- assets of a symbol


@pytest.mark.parametrize(("symbol", "assets"), [
    ("BTCUSDT", ("BTC", "USDT")), ("ETHBTC", ("ETH", "BTC")), ("BTCFDUSD", ("BTC", "FDUSD")),
    ("SOLUSDC", ("SOL", "USDC")), ("BNBETH", ("BNB", "ETH")), ("WBTCBTC", ("WBTC", "BTC")),
])
def test_symbols_split_by_their_quote_suffix(symbol: str, assets: tuple[str, str]) -> None:
    assert split_symbol(symbol) == assets
    assert SymbolFilters(symbol).assets() == assets


def test_filters_that_carry_their_assets_win_over_the_suffix() -> None:
    assert SymbolFilters("1000SATSUSDT", base_asset="1000SATS").assets() == ("1000SATS", "USDT")
    assert SymbolFilters("XYZ", base_asset="X", quote_asset="YZ").assets() == ("X", "YZ")
    with pytest.raises(ValueError, match="no known quote asset"):
        split_symbol("USDT")


def test_an_order_in_a_symbol_without_known_assets_is_rejected_invalid_symbol() -> None:
    _market, venue = setup()

    venue.submit(child("x", "1", Side.BUY, symbol="FOOBAR"), START)

    assert rejections(venue.poll(START)) == {"x": (-1121, "Invalid symbol.")}


# ---------------------------------------------------------------- random sequences

# first choices are what hypothesis tries most: sizes that rest and fill in parts come first
_QUANTITIES = {"BTCUSDT": ["0.5", "1", "0.1", "2", "0.01", "0.001"],
               "ETHUSDT": ["10", "3", "40", "0.5", "0.01"],
               "SOLUSDT": ["400", "100", "900", "5", "0.1"]}
_limit = st.tuples(st.just("limit"), st.sampled_from(SYMBOLS), st.sampled_from(list(Side)),
                   st.integers(0, 4), st.sampled_from([0, 1, -1, 5, -5, 50, -50]),  # bps off mid
                   st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.GTC,
                                    TimeInForce.IOC, TimeInForce.FOK]))
_step = st.one_of(  # resting limits most often: their partial fills and locks are the subtle part
    _limit,
    st.tuples(st.just("market"), st.sampled_from(SYMBOLS), st.sampled_from(list(Side)),
              st.integers(0, 5)),
    _limit,
    st.tuples(st.just("cancel"), st.integers(0, 40)),
    st.tuples(st.just("wait"), st.sampled_from([60, 300, 1, 10])),  # seconds
)


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(_step, min_size=3, max_size=40),
       usdt=st.sampled_from([Decimal(100_000), Decimal(5_000), Decimal(0)]),
       btc=st.sampled_from([Decimal(2), Decimal("0.3"), Decimal(0)]),
       sol=st.sampled_from([Decimal(1000), Decimal(0)]))
def test_balances_equal_what_the_fills_imply_after_any_sequence(
        steps: list[tuple[Any, ...]], usdt: Decimal, btc: Decimal, sol: Decimal) -> None:
    """Free and locked never negative; totals equal the start plus the fills (and the OMS's
    Account of the same fills); locks equal what open orders still need; a limit order is
    rejected for balance exactly when its lock exceeds the free balance."""
    market, venue = setup({"USDT": usdt, "BTC": btc, "SOL": sol}, FEES)
    account = Account(cash=usdt)  # the OMS's own book of the same fills
    lock_rate = Decimal(1) + Decimal("0.00075")
    orders: dict[str, ChildOrder] = {}
    now = START
    for k, step in enumerate(steps):
        kind = step[0]
        before = venue.balances()
        cid = f"c{k}"
        if kind == "wait":
            now += timedelta(seconds=int(step[1]))
            market.advance_to(now)
        elif kind == "cancel":
            ids = sorted(orders)
            if ids:
                venue.cancel(ids[int(step[1]) % len(ids)], now)
        else:
            symbol, side = str(step[1]), Side(step[2])
            quantity = Decimal(_QUANTITIES[symbol][int(step[3]) % len(_QUANTITIES[symbol])])
            if kind == "market":
                order = child(cid, quantity, side, symbol=symbol)
            else:
                mid = market.quote(symbol).mid
                price = venue.filters(symbol).round_price(
                    mid * (1 + Decimal(int(step[4])) / 10_000), side)
                order = child(cid, quantity, side, OrderType.LIMIT, price=price,
                              tif=TimeInForce(step[5]), symbol=symbol)
            orders[cid] = order
            venue.submit(order, now)
        events = venue.poll(now)
        for fill in fills_of(events):
            account.apply_fill(fill)
        rejected = rejections(events)

        # a rejection for balance is exactly a lock the free balance did not cover
        if cid in orders and orders[cid].order_type is OrderType.LIMIT:
            order = orders[cid]
            base, quote = venue.filters(order.symbol).assets()
            need = order.quantity if order.side is Side.SELL else (
                order.quantity * order.limit_price * lock_rate)  # type: ignore[operator]
            asset = base if order.side is Side.SELL else quote
            free = before.get(asset, Balance(ZERO, ZERO)).free
            assert (rejected.get(cid) == INSUFFICIENT) == (need > free), (cid, need, free)
        for cid_rejected in rejected:
            assert not [f for f in fills_of(events) if f.client_order_id == cid_rejected]

        balances = venue.balances()
        assert all(b.free >= 0 and b.locked >= 0 for b in balances.values()), balances
        implied = account_balances(account, "USDT")
        implied["BTC"] = implied.get("BTC", ZERO) + btc
        implied["SOL"] = implied.get("SOL", ZERO) + sol
        assert {a: v for a, v in implied.items() if v} == totals(venue)
        locked = {"USDT": ZERO, "BTC": ZERO, "ETH": ZERO, "SOL": ZERO}
        for order in orders.values():
            report = venue.query(order.client_order_id)
            assert report is not None
            if report.state.is_terminal:
                continue
            base, quote = venue.filters(order.symbol).assets()
            remaining = order.quantity - report.filled_quantity
            if order.side is Side.SELL:
                locked[base] += remaining
            else:
                locked[quote] += remaining * order.limit_price * lock_rate  # type: ignore[operator]
        assert {a: b.locked for a, b in balances.items() if b.locked} == {
            a: v for a, v in locked.items() if v}
