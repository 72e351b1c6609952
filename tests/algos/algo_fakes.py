"""Deterministic fakes for the algorithm tests: a scripted market and a scripted venue, and
``execute`` to run one parent on them through the real engine (oms.execution_harness)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oms.errors import MarketClosed
from oms.execution_harness import ExecutionResult, VenueFactory, run_parent
from oms.market.base import MarketData
from oms.market.types import Bar, Book, BookLevel, Quote
from oms.model.enums import AlgoName, Liquidity, OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder, Fill, ParentOrder
from oms.risk.halt import HaltGate
from oms.venues.base import OrderStatusReport, Venue
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)
from oms.venues.filters import SymbolFilters

T0 = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
BTC = SymbolFilters("BTCUSDT")


class FakeMarket:
    """Mid from ``price_fn(t)``; a constant volume rate; one-tick spread; optional closed spans."""

    def __init__(self, price_fn: Callable[[datetime], float] | None = None,
                 volume_per_minute: float = 10.0, spread: float = 0.02,
                 closed: Callable[[datetime], bool] | None = None,
                 volume_fn: Callable[[datetime], float] | None = None) -> None:
        self.price_fn = price_fn or (lambda t: 50_000.0)
        self.volume_per_minute = volume_per_minute
        self.volume_fn = volume_fn  # volume per minute at t (overrides the constant)
        self.spread = spread
        self.closed = closed or (lambda t: False)
        self.now = T0 - timedelta(hours=2)

    @property
    def symbols(self) -> tuple[str, ...]:
        return ("BTCUSDT",)

    def advance_to(self, ts: datetime) -> None:
        self.now = max(self.now, ts)

    def is_open(self, symbol: str) -> bool:
        return not self.closed(self.now)

    def quote(self, symbol: str) -> Quote:
        if self.closed(self.now):
            raise MarketClosed("closed")
        mid = Decimal(repr(round(self.price_fn(self.now), 2)))
        half = Decimal(repr(self.spread / 2))
        return Quote(symbol, self.now, mid - half, mid + half, Decimal(1), Decimal(1))

    def book(self, symbol: str, depth: int = 20) -> Book:
        top = self.quote(symbol)
        tick = Decimal("0.01")
        bids = tuple(BookLevel(top.bid - tick * i, Decimal("0.1")) for i in range(depth))
        asks = tuple(BookLevel(top.ask + tick * i, Decimal("0.1")) for i in range(depth))
        return Book(symbol, self.now, bids, asks)

    def _rate(self, t: datetime) -> float:
        return self.volume_fn(t) if self.volume_fn is not None else self.volume_per_minute

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        out = []
        t = start.replace(second=0, microsecond=0)
        while t < min(end, self.now - timedelta(minutes=1)):
            p = self.price_fn(t)
            out.append(Bar(symbol, t, p, p, p, p, self._rate(t), self._rate(t) * p))
            t += timedelta(minutes=1)
        return out

    def traded_volume(self, symbol: str, start: datetime, end: datetime) -> Decimal:
        end = min(end, self.now)
        if self.volume_fn is None:
            seconds = max((end - start).total_seconds(), 0.0)
            return Decimal(repr(round(self.volume_per_minute * seconds / 60, 8)))
        total = 0.0
        t = start
        while t < end:
            step = min(timedelta(seconds=15), end - t)
            total += self._rate(t) * step.total_seconds() / 60
            t += step
        return Decimal(repr(round(total, 8)))

    def vwap(self, symbol: str, start: datetime, end: datetime) -> Decimal | None:
        return None


class ScriptedVenue(Venue):
    """Market orders fill at the touch; limits fill when the touch crosses them, or partly.

    ``reject(child) -> (code, reason) | None`` scripts venue rejections; ``passive_fill_share``
    fills that share of each resting limit on the first poll after it is placed.
    """

    name = "scripted"

    def __init__(self, market: MarketData, *, gate: HaltGate | None = None,
                 filters: SymbolFilters = BTC,
                 reject: Callable[[ChildOrder], tuple[int, str] | None] | None = None,
                 passive_fill_share: Decimal = Decimal(0)) -> None:
        super().__init__(gate or HaltGate())
        self.market = market
        self._filters = filters
        self.reject = reject
        self.passive_fill_share = passive_fill_share
        self.events: list[VenueEvent] = []
        self.open: dict[str, ChildOrder] = {}
        self.partly: set[str] = set()
        self.filled: dict[str, Decimal] = {}
        self.ids = itertools.count(1)
        self.sent: list[ChildOrder] = []

    def _fill(self, order: ChildOrder, qty: Decimal, price: Decimal, liq: Liquidity,
              now: datetime) -> None:
        fill = Fill(f"{order.client_order_id}:{next(self.ids)}", order.client_order_id,
                    order.parent_id, order.symbol, order.side, price, qty,
                    price * qty / 1000, liq, now, self.name)
        self.events.append(OrderFilled(fill))

    def _send(self, order: ChildOrder, now: datetime) -> None:
        self.sent.append(order)
        scripted = self.reject(order) if self.reject else None
        if scripted is not None:
            self.events.append(OrderRejected(order.client_order_id, scripted[0], scripted[1], now))
            return
        quote = self.market.quote(order.symbol)
        violation = self._filters.check(order.order_type, order.quantity, order.limit_price,
                                        quote.mid)
        if violation is not None:
            self.events.append(OrderRejected(order.client_order_id, violation.code,
                                             violation.message, now))
            return
        self.events.append(OrderAccepted(order.client_order_id, str(next(self.ids)), now))
        touch = quote.touch(order.side)
        if order.order_type is OrderType.MARKET:
            self._fill(order, order.quantity, touch, Liquidity.TAKER, now)
            return
        assert order.limit_price is not None
        marketable = touch <= order.limit_price if order.side is Side.BUY \
            else touch >= order.limit_price
        if marketable:
            self._fill(order, order.quantity, touch, Liquidity.TAKER, now)
        elif order.time_in_force is TimeInForce.IOC:
            self.events.append(OrderExpired(order.client_order_id, now, "IOC"))
        else:
            self.open[order.client_order_id] = order

    def cancel(self, client_order_id: str, now: datetime) -> None:
        if self.open.pop(client_order_id, None) is not None:
            self.events.append(OrderCanceled(client_order_id, now, "requested"))

    def open_order_ids(self, symbol: str | None = None) -> list[str]:
        return list(self.open)

    def poll(self, now: datetime) -> list[VenueEvent]:
        for cid, order in list(self.open.items()):
            if not self.market.is_open(order.symbol):
                continue
            quote = self.market.quote(order.symbol)
            assert order.limit_price is not None
            crossed = quote.ask <= order.limit_price if order.side is Side.BUY \
                else quote.bid >= order.limit_price
            if crossed:
                del self.open[cid]
                rest = order.quantity - self.filled.get(cid, Decimal(0))
                self._fill(order, rest, order.limit_price, Liquidity.MAKER, now)
            elif self.passive_fill_share > 0 and cid not in self.partly:
                self.partly.add(cid)
                part = BTC.round_quantity(order.quantity * self.passive_fill_share)
                self.filled[cid] = part
                if part > 0:
                    self._fill(order, part, order.limit_price, Liquidity.MAKER, now)
        events, self.events = self.events, []
        return events

    def query(self, client_order_id: str) -> OrderStatusReport | None:
        return None

    def filters(self, symbol: str) -> SymbolFilters:
        return self._filters


def make_parent(quantity: str = "0.5", *, algo: AlgoName = AlgoName.TWAP, side: Side = Side.BUY,
                duration: float = 30.0, urgency: float = 0.5,
                limit_price: Decimal | None = None) -> ParentOrder:
    """A parent order starting at T0."""
    return ParentOrder(parent_id="p1", session_id="s1", symbol="BTCUSDT", side=side,
                       quantity=Decimal(quantity), algo=algo, created_at=T0,
                       duration_minutes=duration, urgency=urgency, limit_price=limit_price)


def shared_kline_file(symbol: str = "BTCUSDT") -> Path:
    """The shared kline file of ``symbol`` (OMS_SHARED_DATA or <repo>/../shared/data/binance);
    skips the test when absent."""
    env = os.environ.get("OMS_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [p / "shared" / "data" / "binance" for p in Path(__file__).resolve().parents]
    for base in candidates:
        files = sorted((base / "klines_1m").glob(f"{symbol}-1m-*.csv*"))
        if files:
            return files[0]
    pytest.skip("shared Binance kline data not found")


def scripted(**options: Any) -> VenueFactory:
    """A factory of the ScriptedVenue (``reject``, ``passive_fill_share``, ``filters``) on the
    engine's halt gate."""
    def build(gate: HaltGate, market: MarketData) -> Venue:
        return ScriptedVenue(market, gate=gate, **options)
    return build


def execute(algo: AlgoName, quantity: str = "0.5", *, market: MarketData,
            venue: VenueFactory | None = None, side: Side = Side.BUY, duration: float = 30.0,
            urgency: float = 0.5, limit_price: Decimal | None = None, start: datetime = T0,
            options: dict[str, Any] | None = None, **run: Any) -> ExecutionResult:
    """Run one BTCUSDT parent from ``start`` through the real engine (default venue: a
    ScriptedVenue); ``options`` are the algorithm's keywords, ``run`` goes to ``run_parent``."""
    return run_parent(market, symbol="BTCUSDT", side=side, quantity=Decimal(quantity),
                      algo=algo, start=start, duration_minutes=duration, urgency=urgency,
                      limit_price=limit_price, algo_options=options,
                      venue=venue or scripted(), **run)
