"""Paper venue matching: market orders walk the book, limit/IOC/FOK/post-only, fees, filters."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from oms.config import PaperVenueSettings
from oms.errors import TradingHalted
from oms.market.synthetic import SyntheticMarket
from oms.market.types import Bar, Book, Quote
from oms.model.enums import Liquidity, OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder, Fill
from oms.risk.halt import HaltGate
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)
from oms.venues.filters import filters_from_exchange_info
from oms.venues.paper import PaperVenue

START = datetime(2024, 5, 1, 14, tzinfo=UTC)
INSTANT = PaperVenueSettings(latency_ms=0, latency_jitter_ms=0)
RICH = {"USDT": Decimal(10_000_000)}  # for orders of several BTC: spot buys need the cash


def data_dir() -> Path | None:
    env = os.environ.get("OMS_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance")
    return next((c for c in candidates if c.is_dir()), None)


def child(cid: str, quantity: str, order_type: OrderType = OrderType.MARKET, *,
          side: Side = Side.BUY, price: Decimal | None = None,
          tif: TimeInForce = TimeInForce.GTC, symbol: str = "BTCUSDT") -> ChildOrder:
    return ChildOrder(cid, "p1", symbol, side, Decimal(quantity), order_type, START, "paper",
                      limit_price=price, time_in_force=tif)


def setup(settings: PaperVenueSettings = INSTANT, seed: int = 3,
          balances: dict[str, Decimal] | None = None) -> tuple[SyntheticMarket, PaperVenue]:
    market = SyntheticMarket(["BTCUSDT", "ETHUSDT", "SOLUSDT"], START, seed=seed)
    return market, PaperVenue(HaltGate(), market, settings, seed=seed, balances=balances)


def fills_of(events: list[VenueEvent]) -> list[Fill]:
    return [e.fill for e in events if isinstance(e, OrderFilled)]


def run(market: SyntheticMarket, venue: PaperVenue, seconds: int) -> list[VenueEvent]:
    events: list[VenueEvent] = []
    now = market.now
    for _ in range(seconds):
        now += timedelta(seconds=1)
        market.advance_to(now)
        events += venue.poll(now)
    return events


def test_market_order_fills_at_the_touch_with_taker_fee_and_tca_fields() -> None:
    market, venue = setup()
    quote = market.quote("BTCUSDT")

    venue.submit(child("c1", "0.01"), START)
    events = venue.poll(START)

    assert [type(e) for e in events] == [OrderAccepted, OrderFilled]
    fill = fills_of(events)[0]
    assert fill.price == quote.ask and fill.quantity == Decimal("0.01")
    assert fill.liquidity is Liquidity.TAKER
    assert fill.fee == fill.price * fill.quantity * Decimal("0.001")  # 10 bps
    assert fill.mid_price == quote.mid and fill.half_spread == (quote.ask - quote.bid) / 2
    assert fill.submitted_at == START
    assert venue.query("c1").state.value == "FILLED"  # type: ignore[union-attr]
    assert venue.accepted_log == [("c1", START)]


def test_configured_fees_are_charged_in_quote() -> None:
    settings = INSTANT.model_copy(update={"taker_fee_bps": Decimal("7.5"),
                                          "maker_fee_bps": Decimal("2")})
    _market, venue = setup(settings)

    venue.submit(child("c1", "0.5", symbol="ETHUSDT"), START)
    fill = fills_of(venue.poll(START))[0]

    assert fill.fee == fill.price * Decimal("0.5") * Decimal("0.00075")


def test_large_market_order_walks_the_book_level_by_level() -> None:
    market, venue = setup(balances=RICH)
    touch = market.quote("BTCUSDT")

    venue.submit(child("big", "25"), START)
    fills = fills_of(venue.poll(START))

    assert len(fills) > 3
    prices = [f.price for f in fills]
    assert prices == sorted(prices) and prices[0] == touch.ask and prices[-1] > touch.ask
    assert sum(f.quantity for f in fills) == Decimal("25")
    assert len({f.fill_id for f in fills}) == len(fills)
    assert market.quote("BTCUSDT").mid > touch.mid  # our flow moved the market


def test_post_only_rejects_when_it_would_cross_and_rests_otherwise() -> None:
    market, venue = setup()
    quote = market.quote("BTCUSDT")

    venue.submit(child("take", "0.01", OrderType.LIMIT_MAKER, price=quote.ask), START)
    venue.submit(child("make", "0.01", OrderType.LIMIT_MAKER, price=quote.bid), START)
    events = venue.poll(START)

    rejected = [e for e in events if isinstance(e, OrderRejected)]
    assert [(e.client_order_id, e.code) for e in rejected] == [("take", -2010)]
    assert rejected[0].reason == "Order would immediately match and take."
    assert venue.open_order_ids() == ["make"]


def test_ioc_partially_fills_then_expires_and_fok_is_all_or_nothing() -> None:
    market, venue = setup(balances=RICH)
    ask = market.quote("BTCUSDT").ask

    venue.submit(child("ioc", "30", OrderType.LIMIT, price=ask, tif=TimeInForce.IOC), START)
    venue.submit(child("fok", "30", OrderType.LIMIT, price=ask, tif=TimeInForce.FOK), START)
    venue.submit(child("fok2", "0.01", OrderType.LIMIT, price=ask + 50, tif=TimeInForce.FOK),
                 START)
    events = venue.poll(START)

    ioc_fills = [f for f in fills_of(events) if f.client_order_id == "ioc"]
    assert ioc_fills and 0 < sum(f.quantity for f in ioc_fills) < Decimal("30")
    assert all(f.price <= ask for f in ioc_fills)
    expired = {e.client_order_id for e in events if isinstance(e, OrderExpired)}
    assert expired == {"ioc", "fok"}
    assert not [f for f in fills_of(events) if f.client_order_id == "fok"]
    assert sum(f.quantity for f in fills_of(events) if f.client_order_id == "fok2") == Decimal(
        "0.01")


def test_non_marketable_ioc_expires_without_fills() -> None:
    market, venue = setup()
    bid = market.quote("BTCUSDT").bid

    venue.submit(child("ioc", "0.1", OrderType.LIMIT, price=bid - 100, tif=TimeInForce.IOC), START)
    events = venue.poll(START)

    assert [type(e) for e in events] == [OrderAccepted, OrderExpired]


def test_resting_limit_fills_passively_in_parts_after_its_queue() -> None:
    market, venue = setup(balances=RICH)
    bid = market.quote("SOLUSDT").bid

    venue.submit(child("rest", "2000", OrderType.LIMIT, price=bid, symbol="SOLUSDT"), START)
    first = venue.poll(START)
    queue_ahead = venue._resting["rest"].queue_ahead
    events = run(market, venue, 300)

    assert [type(e) for e in first] == [OrderAccepted]
    assert queue_ahead > 0  # it joined the back of the displayed bid
    fills = fills_of(events)
    assert len(fills) >= 2 and fills[0].quantity < Decimal("2000")  # partial fills
    assert all(f.liquidity is Liquidity.MAKER and f.price == bid for f in fills)
    assert sum(f.quantity for f in fills) <= Decimal("2000")
    assert fills[0].fee == bid * fills[0].quantity * Decimal("0.001")
    report = venue.query("rest")
    assert report is not None and report.filled_quantity == sum(f.quantity for f in fills)


def test_trade_through_fills_a_resting_order_in_full() -> None:
    market, venue = setup(balances=RICH)
    bid = market.quote("BTCUSDT").bid

    venue.submit(child("rest", "3", OrderType.LIMIT, price=bid), START)
    events = run(market, venue, 600)

    fills = fills_of(events)
    assert sum(f.quantity for f in fills) == Decimal("3")
    assert min(b.low for b in market.bars("BTCUSDT", START, market.now)) < float(bid)


def test_deep_limit_order_never_fills_and_cancel_confirms() -> None:
    market, venue = setup()
    bid = market.quote("BTCUSDT").bid

    venue.submit(child("deep", "0.01", OrderType.LIMIT, price=bid * Decimal("0.9")), START)
    events = run(market, venue, 60)
    venue.cancel("deep", market.now)
    after = venue.poll(market.now)

    assert not fills_of(events)
    assert [type(e) for e in after] == [OrderCanceled]
    assert venue.open_order_ids() == []
    venue.cancel("deep", market.now)  # a second cancel is a no-op
    assert venue.poll(market.now) == []


@pytest.mark.parametrize(("quantity", "price_offset", "message"), [
    ("0.000001", None, "Filter failure: LOT_SIZE"),
    ("0.000015", None, "Filter failure: LOT_SIZE"),
    ("0.00005", None, "Filter failure: MIN_NOTIONAL"),
    ("0.01", "0.001", "Filter failure: PRICE_FILTER"),
])
def test_exchange_filters_reject_with_binance_codes(quantity: str, price_offset: str | None,
                                                    message: str) -> None:
    base = data_dir()
    if base is None:
        pytest.skip("../shared/data/binance is not available")
    info = json.loads((base / "exchange_info" /
                       "binance_spot_exchangeInfo_2021-10-22_BTCUSDT_ETHUSDT_nautilus.json"
                       ).read_text())
    market = SyntheticMarket(["BTCUSDT"], START)
    venue = PaperVenue(HaltGate(), market, INSTANT,
                       filters={"BTCUSDT": filters_from_exchange_info(info, "BTCUSDT")})
    price = None if price_offset is None else market.quote("BTCUSDT").bid - Decimal(price_offset)
    order_type = OrderType.MARKET if price is None else OrderType.LIMIT

    venue.submit(child("bad", quantity, order_type, price=price), START)
    events = venue.poll(START)

    assert len(events) == 1 and isinstance(events[0], OrderRejected)
    assert events[0].code == -1013
    assert events[0].reason == message.replace("MIN_NOTIONAL", "NOTIONAL")
    assert venue.accepted_log == []


def test_max_open_orders_per_symbol() -> None:
    market, venue = setup(INSTANT.model_copy(update={"max_open_orders": 2}))
    bid = market.quote("BTCUSDT").bid

    for k in range(3):
        venue.submit(child(f"o{k}", "0.01", OrderType.LIMIT, price=bid - 10 * (k + 1)), START)
    events = venue.poll(START)

    rejected = [e for e in events if isinstance(e, OrderRejected)]
    assert [(e.client_order_id, e.reason) for e in rejected] == [
        ("o2", "Filter failure: MAX_NUM_ORDERS")]


def test_halt_gate_blocks_sending() -> None:
    _market, venue = setup()
    venue.gate.halt("kill switch")

    with pytest.raises(TradingHalted):
        venue.submit(child("c1", "0.01"), START)
    assert venue.accepted_log == []


def test_default_rules_are_binance_spot_step_sizes() -> None:
    _market, venue = setup()

    venue.submit(child("sol-ok", "1.25", symbol="SOLUSDT"), START)
    venue.submit(child("sol-bad", "1.255", symbol="SOLUSDT"), START)
    venue.submit(child("eth-bad", "0.00015", symbol="ETHUSDT"), START)
    events = venue.poll(START)

    rejected = {e.client_order_id: e.reason for e in events if isinstance(e, OrderRejected)}
    assert rejected == {"sol-bad": "Filter failure: LOT_SIZE",
                        "eth-bad": "Filter failure: LOT_SIZE"}
    assert venue.filters("SOLUSDT").step_size == Decimal("0.01")


def test_cancel_that_arrives_after_the_fill_changes_nothing() -> None:
    market, venue = setup(PaperVenueSettings(latency_ms=200, latency_jitter_ms=0))
    ask = market.quote("BTCUSDT").ask

    venue.submit(child("quick", "0.01", OrderType.LIMIT, price=ask + 5), START)
    venue.cancel("quick", START + timedelta(milliseconds=150))  # reaches it after the fill
    events = run(market, venue, 2)

    assert [type(e) for e in events] == [OrderAccepted, OrderFilled]
    report = venue.query("quick")
    assert report is not None and report.state.value == "FILLED"


def test_our_second_order_at_a_price_queues_behind_the_first() -> None:
    market, venue = setup(balances=RICH)
    bid = market.quote("SOLUSDT").bid

    venue.submit(child("first", "500", OrderType.LIMIT, price=bid, symbol="SOLUSDT"), START)
    venue.submit(child("second", "500", OrderType.LIMIT, price=bid, symbol="SOLUSDT"), START)
    venue.poll(START)

    first, second = venue._resting["first"], venue._resting["second"]
    assert second.queue_ahead == pytest.approx(first.queue_ahead + 500)


class _QuoteOnlyMarket:
    """A MarketData that only knows its quote (like a live feed)."""

    symbols = ("BTCUSDT",)

    def __init__(self) -> None:
        self.bid, self.ask = Decimal("100.00"), Decimal("100.02")

    def advance_to(self, ts: datetime) -> None:
        del ts

    def is_open(self, symbol: str) -> bool:
        return True

    def quote(self, symbol: str) -> Quote:
        return Quote(symbol, START, self.bid, self.ask, Decimal(1), Decimal(1))

    def book(self, symbol: str, depth: int = 20) -> Book:
        raise NotImplementedError

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        return []

    def traded_volume(self, symbol: str, start: datetime, end: datetime) -> Decimal:
        return Decimal(0)

    def vwap(self, symbol: str, start: datetime, end: datetime) -> Decimal | None:
        return None


def test_any_market_data_works_from_its_quote_alone() -> None:
    market = _QuoteOnlyMarket()
    venue = PaperVenue(HaltGate(), market, INSTANT)

    venue.submit(child("m", "1"), START)
    venue.submit(child("l", "1", OrderType.LIMIT, price=Decimal("99.99")), START)
    first = fills_of(venue.poll(START))
    market.bid, market.ask = Decimal("99.97"), Decimal("99.99")
    later = fills_of(venue.poll(START + timedelta(seconds=1)))

    assert [(f.client_order_id, f.price) for f in first] == [("m", Decimal("100.02"))]
    assert [(f.client_order_id, f.price, f.liquidity) for f in later] == [
        ("l", Decimal("99.99"), Liquidity.MAKER)]
