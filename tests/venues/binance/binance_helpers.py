"""Shared test helpers for the Binance venue tests (keys, settings, child orders, transport)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fake_binance_server import FakeBinance

from oms.bootstrap import Oms, build_oms
from oms.clock import LiveClock
from oms.config import BinanceSettings, Settings
from oms.model.enums import OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.binance_factory import build_binance_market, build_binance_venue

API_KEY = "tEsTkEy0123456789abcdefKEY"
API_SECRET = "fake-secret-for-loopback-tests-9876543210"  # not a real key
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class FakeTransport:
    """A user stream the test drives: ``deliver()`` pushes the server's new execution reports.

    Faults a real stream has, each opt-in: ``drop_next(n)`` loses the next n reports,
    ``duplicate_next(n)`` sends the next n twice, ``reorder`` sends each batch newest first,
    ``disconnect()`` drops the connection (nothing arrives, and what happens meanwhile is lost,
    until the venue calls ``start`` again), ``silent`` looks connected but sends nothing.
    """

    def __init__(self, server: FakeBinance) -> None:
        self.server = server
        self.callback: Callable[[dict[str, Any]], None] | None = None
        self.starts = 0
        self.delivered = 0
        self.silent = False
        self.reorder = False
        self.disconnected = False
        self.dropped: list[dict[str, Any]] = []
        self._drop = 0
        self._duplicate = 0

    def start(self, callback: Callable[[dict[str, Any]], None]) -> None:
        if self.disconnected:  # a new connection: what was sent meanwhile is gone
            self.delivered = len(self.server.execution_reports)
            self.disconnected = False
        self.callback = callback
        self.starts += 1

    def stop(self) -> None:
        self.callback = None

    def disconnect(self) -> None:
        """The connection drops: no report arrives until the venue calls ``start`` again."""
        self.callback = None
        self.disconnected = True

    def drop_next(self, n: int = 1) -> None:
        """Lose the next ``n`` reports (Binance never resends them)."""
        self._drop += n

    def duplicate_next(self, n: int = 1) -> None:
        """Send each of the next ``n`` reports twice."""
        self._duplicate += n

    def deliver(self, *, replay_from: int | None = None) -> int:
        """Send reports not yet delivered (or again from ``replay_from``); how many were sent."""
        reports = self.server.execution_reports
        start = self.delivered if replay_from is None else replay_from
        if self.silent or self.callback is None:
            return 0
        batch = reports[start:]
        self.delivered = len(reports)
        sent = 0
        for msg in reversed(batch) if self.reorder else batch:
            if self._drop:
                self._drop -= 1
                self.dropped.append(msg)
                continue
            copies = 1
            if self._duplicate:
                self._duplicate -= 1
                copies = 2
            for _ in range(copies):
                self.callback(dict(msg))
                sent += 1
        return sent


REQUEST_TIMEOUT_S = 1.5
TIMED_OUT_S = 2.0  # how long a timeout fault holds its answer: past REQUEST_TIMEOUT_S


def make_settings(server: FakeBinance, **binance: Any) -> Settings:
    """Settings for the testnet venue pointed at the fake server."""
    # 1.5 s: the fake server answers in milliseconds, but a busy 2-core CI machine has held an
    # answer past 0.5 s (a venue that failed to start); the timeout faults hold theirs 2 s
    opts: dict[str, Any] = {"rest_base_url": server.url, "request_timeout_s": REQUEST_TIMEOUT_S,
                            "recv_window_ms": 5000, **binance}
    return Settings(venue="binance-testnet", symbols=["BTCUSDT", "ETHUSDT"],
                    binance=BinanceSettings(**opts))


ENV = {"BINANCE_TESTNET_API_KEY": API_KEY, "BINANCE_TESTNET_API_SECRET": API_SECRET}





_counter = iter(range(1, 1_000_000))


def child(symbol: str = "BTCUSDT", side: Side = Side.BUY, qty: str = "0.01",
          order_type: OrderType = OrderType.LIMIT, price: str | None = "49000.00",
          tif: TimeInForce = TimeInForce.GTC, cid: str | None = None) -> ChildOrder:
    """A child order as the engine would persist and submit it."""
    return ChildOrder(
        client_order_id=cid or f"oms-c{next(_counter)}", parent_id="P1", symbol=symbol,
        side=side, quantity=Decimal(qty), order_type=order_type, created_at=START,
        venue="binance-testnet", limit_price=Decimal(price) if price else None,
        time_in_force=tif)


def live_oms(server: FakeBinance, db: Path, **overrides: Any) -> tuple[Oms, BinanceVenue]:
    """The whole OMS (engine, service, SQLite at ``db``) on the live venue and market feed,
    pointed at ``server``, on the wall clock (``overrides``: more settings)."""
    settings = Settings(venue="binance-testnet", symbols=["BTCUSDT", "ETHUSDT"],
                        database_url=f"sqlite:///{db}",
                        binance=BinanceSettings(rest_base_url=server.url, request_timeout_s=2),
                        **overrides)
    clock = LiveClock()
    market = build_binance_market(settings, clock=clock)
    venue = build_binance_venue(settings, HaltGate(), production_confirmed=False, clock=clock,
                                market=market, env=ENV)
    return build_oms(settings, clock=clock, market=market, venue=venue), venue
