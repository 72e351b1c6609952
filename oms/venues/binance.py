"""BinanceVenue: the Venue contract over python-binance (spot), testnet unless told otherwise.

Every REST call goes through ``self.rest`` (RestGateway): nothing is sent while a 429
Retry-After runs or after a 418, usage headers are read back, python-binance's exceptions become
oms.errors. Fills come from the user stream when it is healthy and from REST polling when it is
not; the OrderTracker reports each event once.

Build one with ``oms.venues.binance_factory.build_binance_venue`` (started, keys checked);
``start()`` if built by hand. Imports go one way: factory -> venue -> reconcile.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from oms.clock import Clock, LiveClock
from oms.config import BinanceSettings
from oms.errors import (
    ConfigError,
    MarketClosed,
    OrderStatusUnknown,
    VenueBanned,
    VenueError,
    VenueUnavailable,
)
from oms.market.base import MarketData
from oms.model.enums import OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder
from oms.risk.halt import HaltGate
from oms.venues.base import Balance, OrderStatusReport, Venue, VenueOrder
from oms.venues.binance_control import OrderControl
from oms.venues.binance_errors import CODE_ORDER_NOT_FOUND
from oms.venues.binance_fees import FeeValuer
from oms.venues.binance_limits import RateLimiter, VenueStatus, limits_from_exchange_info
from oms.venues.binance_orders import (
    OrderTracker,
    OrderUpdate,
    order_params,
    precheck,
    report_from_update,
    trade_from_rest,
    update_from_execution_report,
    update_from_rest_order,
    with_market_mid,
)
from oms.venues.binance_pending import AbsenceRule
from oms.venues.binance_reconcile import ReconcileResult, reconcile
from oms.venues.binance_rest import RestGateway
from oms.venues.binance_stream import StreamTransport, UserStreamHandler
from oms.venues.events import OrderRejected, VenueEvent
from oms.venues.filters import SymbolFilters, filters_from_exchange_info

__all__ = ["BinanceVenue"]

log = logging.getLogger(__name__)

_AVG_PRICE_TTL_S = 60.0
_RECONNECT_SPACING_S = 30.0  # a failing stream is retried this often (REST polls meanwhile)


class BinanceVenue(Venue):
    """Spot trading on Binance (or its testnet) through a python-binance ``Client``."""

    name = "binance"

    def __init__(
        self,
        gate: HaltGate,
        client: Any,
        settings: BinanceSettings,
        *,
        symbols: list[str],
        testnet: bool = True,
        clock: Clock | None = None,
        market: MarketData | None = None,
        transport: StreamTransport | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        super().__init__(gate)
        self._client = client
        self.settings = settings
        self.symbols = list(symbols)
        self.testnet = testnet
        self.name = "binance-testnet" if testnet else "binance"
        self._clock = clock or LiveClock()
        self.market = market
        # one limiter per IP: the market feed's REST calls share it (binance_factory)
        self.limiter = limiter or RateLimiter(margin=settings.rate_limit_margin)
        self.rest = RestGateway(client, self.limiter, self._clock, gate, self.name,
                                on_clock_error=self.sync_time)
        self.tracker = OrderTracker(
            self.name, value_fee=FeeValuer(self.rest.call, market, clock=self._clock))
        self.stream = UserStreamHandler(self._clock)
        self._transport = transport
        self._filters: dict[str, SymbolFilters] = {}
        self._symbol_hint: dict[str, str] = {}  # client order id -> symbol, for untracked ids
        self._events: list[VenueEvent] = []
        self._next_time_sync = 0.0
        self._next_info_refresh = 0.0
        self._next_rest_poll = 0.0
        self._next_reconnect = 0.0
        self._next_audit = 0.0
        self.control = OrderControl(  # what Binance has not settled yet: unknown sends, cancels
            tracker=self.tracker, rest=self.rest,
            absence=AbsenceRule(settings.recv_window_ms / 1000, settings.request_timeout_s,
                                settings.order_visibility_s),
            query=self._query_update, emit=lambda event: self._events.append(event),
            now=self._clock.now,
            apply=lambda update, owed: self._apply_rest(update, reported_at=owed),
            symbol_of=self._symbol_hint.get)
        self.last_problem = ""
        self._avg_prices: dict[str, tuple[float, Decimal]] = {}
        self.time_offset_ms = 0
        self.started = False

    def __repr__(self) -> str:
        return (f"BinanceVenue(name={self.name!r}, symbols={self.symbols!r}, "
                f"status={self.status().value}, credentials=****)")

    # --- status -------------------------------------------------------------------------------

    def _epoch(self) -> float:
        return self._clock.now().timestamp()

    def status(self) -> VenueStatus:
        """OK, BACKING_OFF (429 / local limit) or BANNED (418): for the dashboard."""
        return self.limiter.status(self._epoch())

    def status_text(self) -> str:
        """One line for the dashboard, e.g. "binance-testnet: OK" or "binance-testnet: OK ·
        user stream down: ... · 2 cancels pending"."""
        epoch = self._epoch()
        parts = [f"{self.name}: {self.limiter.describe(epoch)}"]
        if self._transport is not None and self.settings.use_user_stream:
            dead = self.stream.dead_reason(epoch)
            if dead is not None:
                parts.append(f"user stream {dead} (REST polling)")
        if self.control.cancels:
            parts.append(f"{len(self.control.cancels)} cancels pending")
        if self.control.unknown:
            parts.append(f"{len(self.control.unknown)} sends unresolved")
        if self.last_problem:
            parts.append(self.last_problem)
        return " · ".join(parts)

    # --- start and housekeeping ---------------------------------------------------------------

    def start(self) -> None:
        """Measure the clock offset, load exchangeInfo and connect the user stream."""
        self._client.REQUEST_RECVWINDOW = self.settings.recv_window_ms
        self.sync_time()
        self.refresh_exchange_info()
        self.connect_stream()
        self.started = True

    def sync_time(self) -> int:
        """Measure the server clock offset (ms) and give it to the client's request signing."""
        self.time_offset_ms = self.rest.sync_time()
        self._next_time_sync = self._epoch() + self.settings.time_sync_interval_s
        return self.time_offset_ms

    def refresh_exchange_info(self) -> None:
        """Reload filters and rate limits from exchangeInfo."""
        info = self.rest.call("get_exchange_info")
        self.limiter.set_limits(limits_from_exchange_info(info))
        self.rest.observe_last_response(self._epoch())  # count this very request too
        for symbol in self.symbols:
            try:
                flt = filters_from_exchange_info(info, symbol)
            except KeyError as exc:
                if not self.started:
                    raise ConfigError(f"{symbol} is not traded on {self.name}") from exc
                log.error("%s: %s missing from exchangeInfo; old filters kept", self.name, symbol)
                continue
            self._filters[symbol] = flt
            self.tracker.assets[symbol] = flt.assets()
        self._next_info_refresh = self._epoch() + self.settings.exchange_info_refresh_s

    def connect_stream(self) -> None:
        """(Re)connect the user stream (if configured); on failure REST polling takes over."""
        if self._transport is None or not self.settings.use_user_stream:
            return
        epoch = self._epoch()
        self._next_reconnect = epoch + _RECONNECT_SPACING_S
        try:
            self._transport.stop()
            self._transport.start(self.stream.on_message)
        except Exception as exc:  # the REST fallback keeps working meanwhile
            log.error("%s user stream connect failed: %s", self.name, type(exc).__name__)
            self.stream.mark_down()
            return
        self.stream.mark_connected(epoch)

    def _reconnect(self, why: str) -> None:
        log.warning("%s user stream: %s; reconnecting", self.name, why)
        self.stream.reconnects += 1
        self.connect_stream()  # the gap is filled from REST once it is subscribed (resync)

    def close(self) -> None:
        """Stop the user stream."""
        if self._transport is not None:
            self._transport.stop()

    def filters(self, symbol: str) -> SymbolFilters:
        """The symbol's exchange rules (exchangeInfo, refreshed hourly)."""
        flt = self._filters.get(symbol)
        if flt is None:
            raise KeyError(f"{symbol} is not configured for {self.name}")
        return flt

    # --- orders -----------------------------------------------------------------------------

    def _reference(self, order: ChildOrder) -> Decimal:
        """Mid price for notional / percent-price checks: the feed, else REST bookTicker."""
        if self.market is not None:
            try:
                return self.market.quote(order.symbol).mid
            except (MarketClosed, KeyError):
                pass
        mid = self.rest.book_mid(order.symbol)
        return mid if mid is not None else order.limit_price or Decimal(0)

    def _avg_price(self, symbol: str) -> Decimal | None:
        """Binance's average price (GET avgPrice, weight 2; cached a minute): what percent
        price and market notional are checked against. None if it cannot be had."""
        epoch = self._epoch()
        cached = self._avg_prices.get(symbol)
        if cached is not None and epoch - cached[0] < _AVG_PRICE_TTL_S:
            return cached[1]
        try:
            price = Decimal(str(self.rest.call("get_avg_price", symbol=symbol)["price"]))
        except (VenueError, KeyError, TypeError) as exc:
            log.info("%s avgPrice %s unavailable: %s", self.name, symbol, exc)
            return cached[1] if cached is not None else None
        self._avg_prices[symbol] = (epoch, price)
        return price

    def _send(self, order: ChildOrder, now: datetime) -> None:
        cid = order.client_order_id
        if cid in self.tracker.orders:  # sent before: a client order id goes out once
            self.control.resolve(cid)
            if cid in self.control.unknown:
                raise OrderStatusUnknown(f"order {cid}: status unknown; not resent")
            return  # Binance has it (its state is applied), or it was proven never placed
        rejected = precheck(order, self.filters(order.symbol), self._reference(order),
                            len(self.tracker.working_ids(order.symbol)), now,
                            avg_price=self._avg_price(order.symbol))
        if rejected is not None:
            log.info("not sent %s: %s", cid, rejected.reason)
            self._events.append(rejected)
            return
        tracked = self.tracker.track(order)
        tracked.sent_at = now
        sent_epoch = self._epoch()
        try:
            response = self.rest.call("create_order", placing=True, orders=1, **order_params(order))
        except OrderStatusUnknown:
            log.warning("order %s: status unknown after send; querying", cid)
            self.control.send_unknown(cid, sent_epoch)
            if cid in self.control.unknown:
                raise
            return
        except VenueError as exc:
            if isinstance(exc, VenueUnavailable | VenueBanned):
                del self.tracker.orders[cid]  # never reached Binance
                raise
            self.tracker.finish(cid)
            self._events.append(OrderRejected(cid, exc.code or -1, str(exc), now))
            return
        self._apply_rest(update_from_rest_order(response), reported_at=sent_epoch)

    def cancel(self, client_order_id: str, now: datetime) -> None:
        """Cancel one order until Binance confirms it closed: the request is retried with
        back-off (poll) through errors, rate limits and bans, so this never raises for them;
        the outcome arrives as events (a filled order reports its fills)."""
        tracked = self.tracker.orders.get(client_order_id)
        if tracked is not None and not tracked.working:
            return
        if tracked is None and client_order_id not in self._symbol_hint and \
                self._query_update(client_order_id) is None:
            return  # not sent by this process and unknown to Binance: nothing to cancel
        self.control.cancel(client_order_id)

    def cancel_all(self, now: datetime, symbol: str | None = None) -> list[str]:
        """The kill switch's cancel: every open order of ``symbol`` (else of each symbol with
        working orders) by cancel-all, then verified with openOrders; each order not confirmed
        closed stays pending and is retried one by one (poll) until Binance confirms it."""
        return self.control.cancel_all(
            [symbol] if symbol is not None else self.tracker.working_symbols())

    def unconfirmed_cancels(self) -> list[str]:
        """Client order ids whose cancel Binance has not confirmed yet (dashboard)."""
        return self.control.cancels.ids()

    def unknown_outcomes(self) -> list[str]:
        """Client order ids sent with an unknown outcome, not resolved yet (dashboard)."""
        return self.control.unknown.ids()

    def open_order_ids(self, symbol: str | None = None) -> list[str]:
        """Client order ids of the OMS's orders still working at Binance."""
        return self.tracker.working_ids(symbol)

    def _query_update(self, cid: str) -> OrderUpdate | None:
        tracked = self.tracker.orders.get(cid)
        symbols = [tracked.order.symbol] if tracked is not None else self.symbols
        for sym in symbols:
            try:
                row = self.rest.call("get_order", symbol=sym, origClientOrderId=cid)
            except VenueError as exc:
                if exc.code == CODE_ORDER_NOT_FOUND:
                    continue
                raise
            self._symbol_hint[cid] = sym
            return update_from_rest_order(row)
        return None

    def query(self, client_order_id: str) -> OrderStatusReport | None:
        """Binance's view of one order by client order id; None if Binance does not know it.

        The view of an order this venue still tracks is applied as well (its fills and end are
        reported by the next poll): what the stream lost must not stay unbooked because a
        reader (the running reconciliation) was the one to see it.
        """
        update = self._query_update(client_order_id)
        if update is None:
            return None
        tracked = self.tracker.orders.get(client_order_id)
        if tracked is not None and not tracked.done:
            self._apply_rest(update)
        return report_from_update(update)

    # --- events -----------------------------------------------------------------------------

    def _apply_rest(self, update: OrderUpdate, *, reported_at: float | None = None) -> None:
        """Apply a REST view, fetching trades first when it shows fills not seen yet.

        ``reported_at``: the user stream owes an execution report for a change this view shows
        (an order or cancel response, a REST audit while the stream is live); one that never
        comes proves the stream deaf (``UserStreamHandler.expect``)."""
        cid = update.client_order_id
        events: list[VenueEvent] = []
        if self.tracker.missing_quantity(update) > 0:
            rows = self.rest.call("get_my_trades", symbol=update.symbol,
                                  orderId=int(update.venue_order_id))
            for row in rows:
                events += self.tracker.apply_trade(cid, trade_from_rest(row, update.symbol))
        self.control.known(cid)  # Binance has it: the outcome is known
        events += self.tracker.apply(update)
        if events and reported_at is not None:
            self.stream.expect(cid, reported_at)
        self._events.extend(events)

    def rest_check(self, *, audit: bool = False) -> None:
        """REST view of every working order: open orders per symbol, then query the rest.

        ``audit``: the stream is live and in sync, so each change found here is one it owes a
        report for. After a reconnect or while it is down the changes found happened in a gap
        the stream never replays: nothing is owed then."""
        epoch = self._epoch() if audit else None
        for sym in self.tracker.working_symbols():
            rows = self.rest.call("get_open_orders", symbol=sym)
            seen: set[str] = set()
            for row in rows:
                update = update_from_rest_order(row)
                seen.add(update.client_order_id)
                if update.client_order_id in self.tracker.orders:
                    self._apply_rest(update, reported_at=epoch)
            for cid in self.tracker.working_ids(sym):
                if cid not in seen:
                    self._resolve_gone(cid, reported_at=epoch)

    def _resolve_gone(self, cid: str, *, reported_at: float | None = None) -> None:
        """A working order missing from openOrders: its end by query; an order Binance does
        not show at all is never ended here (visibility lag): it is resolved with back-off."""
        if cid in self.control.unknown:
            self.control.resolve(cid)
            return
        found = self._query_update(cid)
        if found is not None:
            self._apply_rest(found, reported_at=reported_at)
        else:
            log.warning("order %s: acknowledged, but Binance does not show it (yet)", cid)

    def poll(self, now: datetime) -> list[VenueEvent]:
        """Stream reports, then housekeeping (retries, time sync, exchangeInfo, REST fallback).
        A housekeeping error never escapes: it is logged and retried in a later poll."""
        for msg in self.stream.drain():
            update = update_from_execution_report(msg)
            self.control.known(update.client_order_id)  # Binance has it: the outcome is known
            self._events.extend(self.tracker.apply(update))
        if self.started:
            try:
                self._housekeeping(now.timestamp())
                self.last_problem = ""
            except VenueError as exc:
                self.last_problem = f"housekeeping deferred: {exc}"
                log.warning("%s housekeeping deferred: %s", self.name, exc)
        events, self._events = self._events, []
        return [with_market_mid(e, self.market) for e in events]

    def _housekeeping(self, epoch: float) -> None:
        self.control.retry_due(epoch)  # cancels may use what a local throttle leaves
        if self.limiter.status(epoch) is not VenueStatus.OK:
            return
        if epoch >= self._next_time_sync:
            self.sync_time()
        if epoch >= self._next_info_refresh:
            self.refresh_exchange_info()
        self._follow_stream(epoch)
        self.tracker.prune()

    def _follow_stream(self, epoch: float) -> None:
        """Trust the user stream only while it is subscribed and owes nothing; fill each gap
        from REST after a (re)subscription; poll REST whenever it cannot be trusted."""
        stream_on = self._transport is not None and self.settings.use_user_stream
        dead = self.stream.dead_reason(epoch) if stream_on else "no user stream"
        if stream_on:
            if dead is None:
                self._next_reconnect = epoch + _RECONNECT_SPACING_S  # a drop may heal itself
                if self.stream.needs_resync():  # events of the gap are never replayed
                    self.rest_check()
                    self.stream.resynced()
                    self._next_audit = epoch + self.settings.stream_silence_s
                elif self.tracker.working_ids() and epoch >= self._next_audit:
                    # a live stream that delivers nothing would go unnoticed for passive fills
                    self.rest_check(audit=True)
                    self._next_audit = epoch + self.settings.stream_silence_s
            elif self.stream.connected or epoch >= self._next_reconnect:
                self._reconnect(dead)  # subscribed but deaf: at once; down: after the spacing
        if dead is not None and epoch >= self._next_rest_poll:
            self.rest_check()
            self._next_rest_poll = epoch + self.settings.rest_poll_interval_s

    def adopt(self, working: dict[str, ChildOrder]) -> set[str]:
        """Reconcile, then keep reporting on every child Binance knows or will resolve."""
        result = self.reconcile(working)
        log.info("reconciled at start: %s", result.summary())
        return (set(result.resumed) | set(result.resolved) | set(result.not_found)
                | set(result.unresolved))

    def reconcile(self, known_working: dict[str, ChildOrder]) -> ReconcileResult:
        """Start-up reconciliation against Binance; see oms.venues.binance_reconcile."""
        return reconcile(known_working, tracker=self.tracker, rest=self.rest,
                         apply_rest=self._apply_rest, emit=self._events.append,
                         now=self._clock.now, defer=self.control.defer_unseen)

    def balances(self) -> dict[str, Balance]:
        """The spot account per asset (GET /api/v3/account): Balance(free, locked)."""
        account = self.rest.call("get_account")
        return {str(row["asset"]): Balance(Decimal(str(row["free"])), Decimal(str(row["locked"])))
                for row in account.get("balances", [])}

    # -- reconciliation (oms.engine.reconcile)
    def open_orders(self, now: datetime) -> list[VenueOrder]:
        """Every order open at Binance, the OMS's and any other (GET /api/v3/openOrders for
        all symbols at once, weight 80; orders of symbols the OMS does not trade included)."""
        rows = self.rest.call("get_open_orders", weight=80)
        orders: list[VenueOrder] = []
        for row in rows:
            price = Decimal(str(row.get("price", "0")))
            kind = str(row.get("type", "LIMIT"))
            tif = str(row.get("timeInForce", "GTC"))
            orders.append(VenueOrder(
                client_order_id=str(row["clientOrderId"]), symbol=str(row["symbol"]),
                side=Side(str(row["side"])), quantity=Decimal(str(row["origQty"])),
                filled_quantity=Decimal(str(row.get("executedQty", "0"))),
                order_type=OrderType(kind) if kind in OrderType.__members__ else OrderType.LIMIT,
                limit_price=price if price > 0 else None,
                time_in_force=TimeInForce(tif) if tif in TimeInForce.__members__
                else TimeInForce.GTC,
                venue_order_id=str(row["orderId"])))
        return orders

    def follow(self, order: ChildOrder) -> bool:
        """Track an order the OMS adopts (placed outside it): its later fills and end are
        reported like those of the OMS's own orders. False if Binance no longer has it open."""
        found = self._query_update(order.client_order_id)
        if found is None or found.state.is_terminal:
            return False
        tracked = self.tracker.track(order)
        tracked.venue_order_id = found.venue_order_id
        tracked.accepted = True  # the OMS adopts it as acknowledged: no second acceptance
        tracked.executed = order.filled_quantity
        self._apply_rest(found)
        return True
