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
from oms.venues.binance_errors import (
    CODE_ORDER_NOT_FOUND,
    CODE_UNKNOWN_ORDER,
)
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
from oms.venues.binance_reconcile import ReconcileResult, reconcile
from oms.venues.binance_rest import RestGateway
from oms.venues.binance_stream import StreamTransport, UserStreamHandler
from oms.venues.events import OrderRejected, VenueEvent
from oms.venues.filters import SymbolFilters, filters_from_exchange_info

__all__ = ["BinanceVenue"]

log = logging.getLogger(__name__)

_RECONNECT_SPACING_S = 30.0  # a failing stream is retried this often (REST polls meanwhile)
_UNCERTAIN_GRACE_S = 5.0  # beyond recvWindow: a request this old can no longer be accepted


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
    ) -> None:
        super().__init__(gate)
        self._client = client
        self.settings = settings
        self.symbols = list(symbols)
        self.testnet = testnet
        self.name = "binance-testnet" if testnet else "binance"
        self._clock = clock or LiveClock()
        self.market = market
        self.limiter = RateLimiter(margin=settings.rate_limit_margin)
        self.rest = RestGateway(client, self.limiter, self._clock, gate, self.name,
                                on_clock_error=self.sync_time)
        self.tracker = OrderTracker(self.name)
        self.stream = UserStreamHandler(self._clock)
        self._transport = transport
        self._filters: dict[str, SymbolFilters] = {}
        self._symbol_hint: dict[str, str] = {}  # client order id -> symbol, for untracked ids
        self._events: list[VenueEvent] = []
        self._next_time_sync = 0.0
        self._next_info_refresh = 0.0
        self._next_rest_poll = 0.0
        self._next_reconnect = 0.0
        self._next_uncertain_check = 0.0
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
        """One line for the dashboard, e.g. "binance-testnet: OK"."""
        return f"{self.name}: {self.limiter.describe(self._epoch())}"

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
        log.warning("%s user stream: %s; reconnecting, checking orders by REST", self.name, why)
        self.stream.reconnects += 1
        self.connect_stream()
        self.rest_check()

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

    def _send(self, order: ChildOrder, now: datetime) -> None:
        tracked = self.tracker.orders.get(order.client_order_id)
        earlier = tracked is not None and (tracked.uncertain_since is not None or tracked.accepted)
        if earlier and self._may_resend(order.client_order_id) is False:
            return  # the earlier send reached Binance: never send it twice
        rejected = precheck(order, self.filters(order.symbol), self._reference(order),
                            len(self.tracker.working_ids(order.symbol)), now)
        if rejected is not None:
            log.info("not sent %s: %s", order.client_order_id, rejected.reason)
            self._events.append(rejected)
            return
        tracked = self.tracker.track(order)
        tracked.sent_at = now
        sent_epoch = self._epoch()
        try:
            response = self.rest.call("create_order", placing=True, orders=1, **order_params(order))
        except OrderStatusUnknown:
            tracked.uncertain_since = sent_epoch
            log.warning("order %s: status unknown after send; querying", order.client_order_id)
            if self._may_resend(order.client_order_id) is False:
                return
            raise
        except VenueError as exc:
            if isinstance(exc, VenueUnavailable | VenueBanned):
                del self.tracker.orders[order.client_order_id]  # never reached Binance
                raise
            self.tracker.finish(order.client_order_id)
            self._events.append(OrderRejected(order.client_order_id, exc.code or -1, str(exc), now))
            return
        self._apply_rest(update_from_rest_order(response))

    def _may_resend(self, cid: str) -> bool:
        """Resolve an earlier send of ``cid`` by query before any resend.

        False: Binance has the order (its state is applied; do not send). True: Binance does not
        have it and the earlier request is too old to be accepted any more. Raises
        OrderStatusUnknown when neither can be said yet.
        """
        tracked = self.tracker.orders[cid]
        try:
            found = self._query_update(cid)
        except VenueError as exc:
            raise OrderStatusUnknown(f"order {cid}: status unknown, query failed ({exc})") from exc
        if found is not None:
            self._apply_rest(found)
            return False
        sent = tracked.uncertain_since
        window_s = self.settings.recv_window_ms / 1000 + _UNCERTAIN_GRACE_S
        if sent is not None and self._epoch() - sent <= window_s:
            raise OrderStatusUnknown(f"order {cid}: not visible at Binance yet; not resent")
        tracked.uncertain_since = None
        tracked.accepted = False
        tracked.done = False
        return True

    def cancel(self, client_order_id: str, now: datetime) -> None:
        """Cancel one order; the outcome arrives as events (a filled order reports its fills)."""
        tracked = self.tracker.orders.get(client_order_id)
        if tracked is not None and not tracked.working:
            return
        symbol = tracked.order.symbol if tracked else self._symbol_hint.get(client_order_id)
        if symbol is None:  # not sent by this process: find it first (start-up recovery)
            if self._query_update(client_order_id) is None:
                return
            symbol = self._symbol_hint[client_order_id]
        try:
            response = self.rest.call("cancel_order", symbol=symbol,
                                  origClientOrderId=client_order_id)
        except VenueError as exc:
            if exc.code not in (CODE_UNKNOWN_ORDER, CODE_ORDER_NOT_FOUND):
                raise
            found = self._query_update(client_order_id)  # no longer open: learn how it ended
            if found is not None:
                self._apply_rest(found)
            return
        self._apply_rest(update_from_rest_order(response))

    def cancel_all(self, now: datetime, symbol: str | None = None) -> list[str]:
        """Cancel every open order of ``symbol`` (else of each symbol with working orders)."""
        symbols = [symbol] if symbol is not None else self.tracker.working_symbols()
        asked: list[str] = []
        first_error: VenueError | None = None
        for sym in symbols:
            asked.extend(self.tracker.working_ids(sym))
            try:
                rows = self.rest.call("cancel_all_open_orders", symbol=sym)
            except VenueError as exc:
                if exc.code != CODE_UNKNOWN_ORDER:
                    log.error("cancel-all %s failed: %s", sym, exc)
                    first_error = first_error or exc
                continue
            for row in rows or []:
                if "orderId" in row and "status" in row:
                    self._apply_rest(update_from_rest_order(row))
        if first_error is not None:
            raise first_error
        return asked

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
        """Binance's view of one order by client order id; None if Binance does not know it."""
        update = self._query_update(client_order_id)
        return None if update is None else report_from_update(update)

    # --- events -----------------------------------------------------------------------------

    def _apply_rest(self, update: OrderUpdate) -> None:
        """Apply a REST view, fetching trades first when it shows fills not seen yet."""
        if self.tracker.missing_quantity(update) > 0:
            rows = self.rest.call("get_my_trades", symbol=update.symbol,
                              orderId=int(update.venue_order_id))
            for row in rows:
                self._events.extend(self.tracker.apply_trade(
                    update.client_order_id, trade_from_rest(row, update.symbol)))
        self._events.extend(self.tracker.apply(update))

    def rest_check(self) -> None:
        """REST view of every working order: open orders per symbol, then query the rest."""
        for sym in self.tracker.working_symbols():
            rows = self.rest.call("get_open_orders", symbol=sym)
            seen: set[str] = set()
            for row in rows:
                update = update_from_rest_order(row)
                seen.add(update.client_order_id)
                if update.client_order_id in self.tracker.orders:
                    self._apply_rest(update)
            for cid in self.tracker.working_ids(sym):
                if cid not in seen:
                    self._resolve_gone(cid)

    def _resolve_gone(self, cid: str) -> None:
        tracked = self.tracker.orders[cid]
        found = self._query_update(cid)
        if found is not None:
            self._apply_rest(found)
            return
        sent = tracked.uncertain_since
        window_s = self.settings.recv_window_ms / 1000 + _UNCERTAIN_GRACE_S
        if sent is None or self._epoch() - sent > window_s:
            self.tracker.finish(cid)
            self._events.append(OrderRejected(cid, CODE_ORDER_NOT_FOUND,
                                              "Order does not exist at Binance", self._clock.now()))

    def poll(self, now: datetime) -> list[VenueEvent]:
        """Stream reports, then housekeeping (time sync, exchangeInfo, REST fallback)."""
        for msg in self.stream.drain():
            self._events.extend(self.tracker.apply(update_from_execution_report(msg)))
        if self.started:
            try:
                self._housekeeping(now.timestamp())
            except (VenueUnavailable, OrderStatusUnknown) as exc:
                log.warning("%s housekeeping deferred: %s", self.name, exc)
        events, self._events = self._events, []
        return [with_market_mid(e, self.market) for e in events]

    def _housekeeping(self, epoch: float) -> None:
        if self.limiter.status(epoch) is not VenueStatus.OK:
            return
        if epoch >= self._next_time_sync:
            self.sync_time()
        if epoch >= self._next_info_refresh:
            self.refresh_exchange_info()
        stream_on = self._transport is not None and self.settings.use_user_stream
        if stream_on and not self.stream.connected and epoch >= self._next_reconnect:
            self._reconnect("the user stream is down")
        elif (stream_on and self.stream.connected and self.tracker.working_ids()
              and self.stream.is_silent(epoch, self.settings.stream_silence_s)):
            # a user stream is quiet while nothing happens; REST tells quiet from dead
            before = len(self._events)
            self.rest_check()
            if len(self._events) > before:
                self._reconnect("the user stream missed updates REST found")
            else:
                self.stream.mark_connected(epoch)
        if (not stream_on or not self.stream.connected) and epoch >= self._next_rest_poll:
            self.rest_check()
            self._next_rest_poll = epoch + self.settings.rest_poll_interval_s
        if epoch >= self._next_uncertain_check:  # GET order costs weight 4: not every tick
            self._next_uncertain_check = epoch + self.settings.rest_poll_interval_s
            for cid, tracked in list(self.tracker.orders.items()):
                if tracked.uncertain_since is not None and tracked.working:
                    self._resolve_gone(cid)
        self.tracker.prune()

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
                         now=self._clock.now)

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
