"""Paper venue: a simulated Binance spot exchange over a (simulated) market.

Timing. Every request draws a seeded round-trip latency L (oms.venues.paper_faults; cancels
may have their own median, ``cancel_latency_ms``). It reaches
the exchange at ``send + L/2``, is matched against the market at that instant, and its ack, fills
or reject become visible to ``poll(now)`` once ``now >= send + L``. Fills of resting orders are
visible half a (fresh) latency after they happen. Events of one order never overtake each other.

Matching. Market orders, and the marketable part of limit orders, walk the simulated L2 book
level by level (taker fee); the taker flow is reported to the market's impact model, which moves
later prices; passive (maker) fills are reported too, with the smaller passive weight
(oms.market.impact). IOC keeps what fills and expires the rest, FOK fills completely or expires,
GTC rests the rest, LIMIT_MAKER is rejected (-2010) if it would take liquidity.

Queue model (resting orders, maker fee). A resting order joins the back of its price level:
``queue_ahead`` = the level's displayed quantity when it arrives x ``queue_ahead_factor`` (0 if it
improves the best price), plus our own earlier orders resting at that price. At each poll, the
market's aggressor volume traded while the touch was at or through the order's price
(sell-aggressor volume for a resting buy: bar volume x taker-sell share, released along the
sub-minute path) first consumes ``queue_ahead``, then fills the order.
If the opposite touch reaches the order's price, the level has been traded through and the order
fills in full. A cancel that arrives within a poll interval is applied before that interval's
passive fills (conservative). Fills are rounded down to the step size; sub-step volume carries.

Balances (spot is spot). The venue keeps its account's free and locked amount per asset
(``balances``), base and quote from the symbol's filters, across restarts (see Persistence). When
an order reaches the exchange it locks what it may spend: a sell its quantity of the base asset, a
limit buy price x quantity of the quote asset plus the largest fee it may pay, a market buy what
walking the book would cost now, fee included. Short of free balance it is rejected with
Binance's -2010 "Account has insufficient balance for requested action.". Fills spend from the
lock and credit the other asset; fees are paid in the quote asset, as the OMS's Account pays them
(Binance takes a buy's fee from the base asset or BNB), so the venue's balances and the OMS's cash
and positions agree after every fill. A cancel or an expiry unlocks the rest.

Rules. Exchange filters (tick, step, min/max quantity, notional, percent price) reject with
Binance's codes (-1013 "Filter failure: LOT_SIZE", ...); at most ``max_open_orders`` (default the
MAX_NUM_ORDERS filter) open orders per symbol; a closed market rejects "-1013 Market is closed.".
Faults: ``faults`` (reject rate, outages -> VenueUnavailable, latency spikes), ``price_shock``.
Everything is deterministic for a seed.

Several venues. ``name`` (default "paper") names the venue in fills, errors and its database rows;
``shape`` (oms.venues.venue_shape) gives it its own basis, depth and tick over the shared market.
oms.venues.paper_factory builds one from an exchange's profile (oms.venues.profiles).

Persistence (an exchange, not a cache). Its state lives in the OMS database (oms.venues.
paper_store): ``state_changes`` gives the engine the rows of what changed (orders with their
queue position, locks, requests in flight and undelivered events; balances, id counters, RNG),
written in the same transaction as the engine's own rows; ``restore`` reads them back at start
(``set_balances`` only for a database without them). Nothing happens while the OMS is down: at
restore resting orders consume market volume from the restart on, and requests that should have
arrived meanwhile arrive then. Venue order ids and fill ids never repeat across restarts. An order
that has finished and whose last event was delivered is forgotten (memory and table); ``query``
still answers for the last ``FINISHED_KEPT`` of them.
"""

from __future__ import annotations

import contextlib
import itertools
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.config import PaperVenueSettings
from oms.errors import MarketClosed, VenueUnavailable
from oms.market.base import MarketData
from oms.market.impact import ImpactParams
from oms.market.simulated import Top
from oms.model.enums import ChildState, Liquidity, OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder, Fill
from oms.risk.halt import HaltGate
from oms.venues.base import Balance, OrderStatusReport, Venue, VenueOrder
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)
from oms.venues.filters import SymbolFilters
from oms.venues.paper_balances import INSUFFICIENT_BALANCE, SpotLedger
from oms.venues.paper_book import MarketView
from oms.venues.paper_faults import FaultPlan, LatencyModel
from oms.venues.paper_state import DEFAULT_SPOT_FILTERS, WorkingOrder, crosses, crosses_top
from oms.venues.paper_store import (
    FINISHED_KEPT,
    REQUEST_CANCEL,
    REQUEST_NEW,
    PaperStore,
    load_venue,
    peek,
    state_values,
)
from oms.venues.paper_walk import BookWalk, TakePlan
from oms.venues.venue_shape import VenueShape

__all__ = ["ACCEPTED_KEPT", "DEFAULT_BALANCES", "DEFAULT_SPOT_FILTERS", "FINISHED_KEPT",
           "PaperVenue"]

_BPS = Decimal(10_000)
_EPSILON_S = 1e-6  # float epoch seconds carry ~0.2 µs of rounding; never delay an event for it
_ZERO = Decimal(0)
_ONE = Decimal(1)
_CLOSED = (-1013, "Market is closed.")
_WOULD_TAKE = (-2010, "Order would immediately match and take.")
_INVALID_SYMBOL = (-1121, "Invalid symbol.")

# what the account holds when nobody says: Settings.starting_balance's default, in USDT
DEFAULT_BALANCES: Mapping[str, Decimal] = {"USDT": Decimal(100_000)}
ACCEPTED_KEPT = 4096  # entries of ``accepted_log``


class PaperVenue(Venue):
    """A simulated exchange over a MarketData source (see the module docstring)."""

    name = "paper"

    def __init__(
        self,
        gate: HaltGate,
        market: MarketData,
        settings: PaperVenueSettings | None = None,
        filters: dict[str, SymbolFilters] | None = None,
        seed: int = 7,
        *,
        faults: FaultPlan | None = None,
        balances: Mapping[str, Decimal] | None = None,
        name: str | None = None,
        shape: VenueShape | None = None,
    ) -> None:
        """``balances``: what the account holds at start, asset -> amount (default
        DEFAULT_BALANCES; the composition root passes Settings.starting_balance in its quote).
        ``name``: this venue's name in fills and in its database rows (several paper venues
        share one database, each restores its own: oms.venues.paper_store); ``shape``: its
        basis and depth against the market (oms.venues.venue_shape; None: the market as is)."""
        super().__init__(gate)
        if name is not None:
            if not name or ":" in name:
                raise ValueError(f"paper venue name {name!r}: not empty, no ':'")
            self.name = name
        self.market = market
        self.settings = settings or PaperVenueSettings()
        self._filters = dict(filters or {})
        self._view = MarketView(market, shape)
        self._walk = BookWalk(self._view, self.filters)
        self._rng = random.Random(seed)
        self.latency = LatencyModel(self.settings.latency_ms, self.settings.latency_jitter_ms,
                                    self._rng)
        cancel_ms = self.settings.cancel_latency_ms
        self.cancel_latency = self.latency if cancel_ms is None else LatencyModel(
            cancel_ms, self.settings.latency_jitter_ms * cancel_ms / max(
                self.settings.latency_ms, 1e-9), self._rng)
        self.faults = faults or FaultPlan(reject_rate=self.settings.reject_rate)
        self._taker_rate = self.settings.taker_fee_bps / _BPS
        self._maker_rate = self.settings.maker_fee_bps / _BPS
        # a limit buy may take (taker) or rest (maker): it locks the larger fee
        self._buy_lock_rate = _ONE + max(self._taker_rate, self._maker_rate)
        self._ledger = SpotLedger(DEFAULT_BALANCES if balances is None else balances)
        self._assets: dict[str, tuple[str, str]] = {}
        # orders and queues, persisted (rows of a venue not named "paper" carry its name)
        self._namespace = None if self.name == PaperVenue.name else self.name
        self._store = store = PaperStore(self._namespace)
        self._orders, self._pending, self._resting = store.orders, store.pending, store.resting
        self._seq = itertools.count()
        self._venue_ids = itertools.count(1)
        self._open_by_symbol: dict[str, int] = {}
        self._accepted: deque[tuple[str, datetime]] = deque(maxlen=ACCEPTED_KEPT)
        self._now: datetime | None = None  # the latest time the venue was called at
        # set_balances or restore since the last state_changes (everything else that moves the
        # paper_state values, the balances, counters and the RNG, moves an order too)
        self._state_touched = True
        if self._view.sim is not None:
            params = ImpactParams(
                kind=self.settings.impact_model, coefficient=self.settings.impact_coefficient,
                permanent_fraction=self.settings.impact_permanent_fraction,
                decay_s=self.settings.impact_decay_s)
            if self.settings.impact_passive_ratio is not None:
                params = replace(params, passive_ratio=self.settings.impact_passive_ratio)
            self._view.sim.configure_impact(params)

    # ------------------------------------------------------------------ rules and faults
    def filters(self, symbol: str) -> SymbolFilters:
        """Exchange rules: as given, else Binance's for BTC/ETH/SOL-USDT, else the defaults."""
        flt = self._filters.get(symbol)
        if flt is None:
            flt = self._filters[symbol] = DEFAULT_SPOT_FILTERS.get(symbol) or SymbolFilters(symbol)
        return flt

    def balances(self) -> dict[str, Balance]:
        """The account per asset: Balance(free, locked), locked by orders open at the exchange."""
        return self._ledger.snapshot()

    def set_balances(self, totals: Mapping[str, Decimal]) -> None:
        """Make each asset's total ``totals[asset]`` (absent assets: 0); open orders keep their
        locks. At a start on a database without the venue's state (``restore`` found nothing):
        the totals the stored fills imply (oms.model.account_balances).
        Raises ValueError for a negative total or one below what open orders lock."""
        self._ledger.reset(totals)
        self._state_touched = True

    @property
    def accepted_log(self) -> list[tuple[str, datetime]]:
        """The last ACCEPTED_KEPT orders the venue accepted, and when (oldest first)."""
        return list(self._accepted)

    # ------------------------------------------------------------------ persistence
    def state_changes(self) -> dict[str, dict[str, dict[str, Any] | None]]:
        """Rows of ``paper_orders`` / ``paper_state`` changed since the last call; nothing to
        compute in a tick where no order moved (most ticks), since every change of the
        ``paper_state`` values (balances, counters, the RNG) comes with an order's."""
        if not self._state_touched and self._store.quiet:
            return {}
        self._state_touched = False
        next_venue_id, self._venue_ids = peek(self._venue_ids)
        next_seq, self._seq = peek(self._seq)
        values = state_values(self._ledger.snapshot(), next_venue_id, next_seq,
                              self._open_by_symbol)
        return self._store.changes(values, self._rng.getstate(), self._now or datetime.now(UTC))

    def restore(self, load: Callable[[str], list[dict[str, Any]]], now: datetime) -> bool:
        """Rebuild the exchange from its tables as of ``now`` (the market is not asked)."""
        stored = load_venue(load, now, self._namespace)
        if stored is None:
            return False
        self._ledger = stored.ledger
        self._venue_ids = itertools.count(stored.next_venue_order_id)
        self._seq = itertools.count(stored.next_seq)
        self._open_by_symbol = stored.open_orders
        if stored.rng_state is not None:
            self._rng.setstate(stored.rng_state)
        self._store.install(stored, now)
        self._now = now
        self._state_touched = True
        return True

    def adopt(self, working: dict[str, ChildOrder]) -> set[str]:
        """The children the venue still holds: open here, or with events still to deliver."""
        return {cid for cid in working if cid in self._orders}

    def _assets_of(self, symbol: str) -> tuple[str, str]:
        assets = self._assets.get(symbol)
        if assets is None:
            assets = self._assets[symbol] = self.filters(symbol).assets()
        return assets

    def touch_book(self, symbol: str, t: float, depth: int, quantity: float = 0.0
                   ) -> tuple[float, float, list[tuple[float, float]],
                              list[tuple[float, float]]] | None:
        """The venue's book as the router sees it, deep enough for ``quantity``
        (MarketView.book)."""
        return self._view.book(symbol, t, depth, quantity)

    def price_shock(self, symbol: str, bps: float, at: datetime | None = None) -> None:
        """Move the market mid of ``symbol`` by ``bps`` from ``at`` on (simulated markets)."""
        if self._view.sim is None:
            raise TypeError("price shocks need a simulated market")
        self._view.sim.shock(symbol, bps, at)

    def _max_open(self, symbol: str) -> int:
        configured = self.settings.max_open_orders
        return configured if configured is not None else self.filters(symbol).max_num_orders

    def _open_count(self, symbol: str) -> int:
        return self._open_by_symbol.get(symbol, 0)

    def _finish(self, w: WorkingOrder, state: ChildState) -> None:
        """Move ``w`` to a terminal state and out of the open-order books."""
        w.state = state
        self._ledger.release(w)
        cid = w.order.client_order_id
        if self._resting.pop(cid, None) is not None or w.open_counted:
            w.open_counted = False
            self._open_by_symbol[w.order.symbol] -= 1

    def _validate(self, order: ChildOrder, now_t: float) -> tuple[int, str] | None:
        symbol = order.symbol
        try:
            self._assets_of(symbol)
        except ValueError:
            return _INVALID_SYMBOL
        if not self.market.is_open(symbol):
            return _CLOSED
        try:
            quote = self.market.quote(symbol)
        except MarketClosed:
            return _CLOSED
        if self._view.shape is not None:
            quote = self._view.quote(quote, now_t)
        if order.order_type is not OrderType.MARKET and order.limit_price is None:
            return -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."
        violation = self.filters(symbol).check(order.order_type, order.quantity,
                                               order.limit_price, quote.mid, side=order.side)
        if violation is not None:
            return violation.code, violation.message
        if order.order_type is OrderType.LIMIT_MAKER and crosses(order, quote.bid, quote.ask):
            return _WOULD_TAKE
        if self._open_count(symbol) >= self._max_open(symbol):
            return -1013, "Filter failure: MAX_NUM_ORDERS"
        if self.faults.reject_rate > 0 and self._rng.random() < self.faults.reject_rate:
            return -2010, "New order rejected (simulated fault)."
        return None

    # ------------------------------------------------------------------ requests
    def _send(self, order: ChildOrder, now: datetime) -> None:
        self._now = now
        if self.faults.outages and self.faults.unreachable(now):
            raise VenueUnavailable(f"{self.name} venue unreachable (simulated outage)",
                                   code=-1001)
        rtt = self.latency.draw(self.faults.extra_latency_ms(now) if self.faults.spikes else 0.0)
        now_t = now.timestamp()
        half = rtt * 0.5
        cid = order.client_order_id
        rejection = self._validate(order, now_t)
        if rejection is not None:
            working = WorkingOrder(order, "", now, now_t + half, ChildState.REJECTED)
            self._store.add(working)
            self._emit(working, now_t + rtt, OrderRejected(cid, rejection[0], rejection[1], now))
            return
        working = WorkingOrder(order, str(next(self._venue_ids)), now, now_t + half)
        self._store.add(working)
        self._pending[cid] = working
        working.open_counted = True
        self._open_by_symbol[order.symbol] = self._open_by_symbol.get(order.symbol, 0) + 1
        self._accepted.append((cid, now))
        self._store.push_action((now_t + half, next(self._seq), REQUEST_NEW, working,
                                 now + timedelta(seconds=half), now_t + rtt))

    def cancel(self, client_order_id: str, now: datetime) -> None:
        """Request a cancel; a no-op for orders unknown or already finished."""
        self._now = now
        if self.faults.outages and self.faults.unreachable(now):
            raise VenueUnavailable(f"{self.name} venue unreachable (simulated outage)",
                                   code=-1001)
        working = self._orders.get(client_order_id)
        if working is None or working.state.is_terminal or working.cancel_requested:
            return
        working.cancel_requested = True
        spike = self.faults.extra_latency_ms(now) if self.faults.spikes else 0.0
        rtt = self.cancel_latency.draw(spike)
        now_t = now.timestamp()
        arrival = max(now_t + rtt * 0.5, working.arrival_t)
        ts = now + timedelta(seconds=arrival - now_t)
        self._store.push_action((arrival, next(self._seq), REQUEST_CANCEL, working, ts,
                                 arrival + rtt * 0.5))

    def open_order_ids(self, symbol: str | None = None) -> list[str]:
        """Orders accepted and not finished (resting or on their way)."""
        return [cid for book in (self._pending, self._resting) for cid, w in book.items()
                if symbol is None or w.order.symbol == symbol]

    # -- reconciliation (oms.engine.reconcile)
    def open_orders(self, now: datetime) -> list[VenueOrder]:
        """Every order accepted and not finished, whoever placed it (VenueUnavailable during
        a simulated outage, as every other request)."""
        if self.faults.outages and self.faults.unreachable(now):
            raise VenueUnavailable(f"{self.name} venue unreachable (simulated outage)",
                                   code=-1001)
        return [VenueOrder(cid, w.order.symbol, w.order.side, w.order.quantity, w.filled,
                           w.order.order_type, w.order.limit_price, w.order.time_in_force,
                           w.venue_id or None)
                for book in (self._pending, self._resting) for cid, w in book.items()]

    def query(self, client_order_id: str) -> OrderStatusReport | None:
        """The venue's view of an order."""
        return self._store.report(client_order_id)

    def poll(self, now: datetime) -> list[VenueEvent]:
        """Match what reached the exchange by ``now``; return the events visible at ``now``."""
        self._now = now
        now_t = now.timestamp()
        due = now_t + _EPSILON_S
        store = self._store
        actions = store.actions
        while actions and actions[0][0] <= due:
            t_ex, _, kind, working, ts, visible = store.pop_action()
            if kind == REQUEST_NEW:
                self._arrive(working, t_ex, ts, visible)
            else:
                self._apply_cancel(working, ts, visible)
                store.forget_if_done(working)  # a cancel that came after the end
        if self._resting:
            self._match_resting(now, now_t)
        if self.faults.outages and self.faults.unreachable(now):
            return []
        outbox = store.outbox
        events: list[VenueEvent] = []
        while outbox and outbox[0][0] <= due:
            events.append(store.pop_event())
        return events

    # ------------------------------------------------------------------ matching
    def _emit(self, working: WorkingOrder, visible: float, event: VenueEvent) -> None:
        if visible < working.last_visible:
            visible = working.last_visible
        working.last_visible = visible
        self._store.push_event((visible, next(self._seq), event))

    def _arrive(self, w: WorkingOrder, t_ex: float, ts: datetime, visible: float) -> None:
        order = w.order
        self._pending.pop(order.client_order_id, None)
        try:
            top = self._view.top(order.symbol, t_ex)
        except MarketClosed:
            self._finish(w, ChildState.REJECTED)
            self._emit(w, visible, OrderRejected(order.client_order_id, *_CLOSED, ts))
            return
        kind = order.order_type
        if kind is OrderType.LIMIT_MAKER and crosses_top(order.side, w.limit_f, top):
            self._finish(w, ChildState.REJECTED)
            self._emit(w, visible, OrderRejected(order.client_order_id, *_WOULD_TAKE, ts))
            return
        plan = self._walk.plan(w, top, None, fill_or_kill=False) if kind is OrderType.MARKET \
            else None
        if not self._reserve(w, plan):
            self._finish(w, ChildState.REJECTED)
            self._emit(w, visible, OrderRejected(order.client_order_id, *INSUFFICIENT_BALANCE, ts))
            return
        self._emit(w, visible, OrderAccepted(order.client_order_id, w.venue_id, ts))
        if plan is not None:
            self._execute_take(w, plan, top, ts, visible)
            if w.state is not ChildState.FILLED:
                self._expire(w, ts, visible, "insufficient liquidity in the book")
            return
        tif = order.time_in_force
        if kind is OrderType.LIMIT and crosses_top(order.side, w.limit_f, top):
            self._take(w, top, w.limit_f, ts, visible, fill_or_kill=tif is TimeInForce.FOK)
            if w.state is ChildState.FILLED:
                return
            if tif is not TimeInForce.GTC:
                self._expire(w, ts, visible, f"{tif.value}: not fully marketable")
                return
            w.queue_ahead = 0.0  # it now sits at a level it just cleared
        elif tif is not TimeInForce.GTC:
            self._expire(w, ts, visible, f"{tif.value}: not marketable")
            return
        else:
            displayed = self._view.book_quantity_at(order.symbol, order.side, w.limit_f, top)
            ours = sum(o.remaining_f for o in self._resting.values()
                       if o.order.symbol == order.symbol and o.order.side is order.side
                       and o.limit_f == w.limit_f)
            w.queue_ahead = displayed * self.settings.queue_ahead_factor + ours
        w.checked_t = t_ex
        self._resting[order.client_order_id] = w

    def _reserve(self, w: WorkingOrder, plan: TakePlan | None) -> bool:
        """Lock what ``w`` may spend (a market buy: ``plan``'s cost); False if it does not fit."""
        order = w.order
        base, quote = self._assets_of(order.symbol)
        if order.side is Side.SELL:
            return self._ledger.reserve(w, base, order.quantity, _ONE)
        if plan is None:
            assert order.limit_price is not None
            unit = order.limit_price * self._buy_lock_rate
            return self._ledger.reserve(w, quote, order.quantity * unit, unit)
        rate = self._taker_rate
        cost = sum((price * quantity + price * quantity * rate for quantity, price in plan), _ZERO)
        return self._ledger.reserve(w, quote, cost, _ZERO)

    def _take(self, w: WorkingOrder, top: Top, limit: float | None, ts: datetime, visible: float,
              *, fill_or_kill: bool) -> None:
        """Walk the book for ``w`` (up to ``limit``) and emit taker fills."""
        plan = self._walk.plan(w, top, limit, fill_or_kill=fill_or_kill)
        self._execute_take(w, plan, top, ts, visible)

    def _execute_take(self, w: WorkingOrder, plan: TakePlan, top: Top,
                      ts: datetime, visible: float) -> None:
        """Emit the taker fills of ``plan`` and feed them to the impact model."""
        if not plan:
            return
        order = w.order
        mid, half = self._walk.mid_half(order.symbol, top)
        total = 0.0
        for quantity, price in plan:
            self._fill(w, quantity, price, Liquidity.TAKER, ts, visible, mid, half)
            total += float(quantity)
        self._view.record_own_trade(order.symbol, order.side, total, top.ts)

    def _fill(self, w: WorkingOrder, quantity: Decimal, price: Decimal, liquidity: Liquidity,
              ts: datetime, visible: float, mid: Decimal | None, half: Decimal | None) -> None:
        order = w.order
        rate = self._taker_rate if liquidity is Liquidity.TAKER else self._maker_rate
        notional = price * quantity
        fee = notional * rate
        base, quote = self._assets_of(order.symbol)
        self._ledger.settle(w, base, quote, quantity, notional, fee)
        w.filled += quantity
        w.notional += notional
        w.remaining_f = float(order.quantity - w.filled)
        if w.filled >= order.quantity:
            self._finish(w, ChildState.FILLED)
        else:
            w.state = ChildState.PARTIALLY_FILLED
        fill = Fill(
            fill_id=f"{order.client_order_id}:{next(self._seq)}",
            client_order_id=order.client_order_id, parent_id=order.parent_id,
            symbol=order.symbol, side=order.side, price=price, quantity=quantity,
            fee=fee, liquidity=liquidity, ts=ts, venue=self.name,
            mid_price=mid, half_spread=half, submitted_at=w.sent_at,
        )
        self._emit(w, visible, OrderFilled(fill))

    def _expire(self, w: WorkingOrder, ts: datetime, visible: float, reason: str) -> None:
        self._finish(w, ChildState.EXPIRED)
        self._emit(w, visible, OrderExpired(w.order.client_order_id, ts, reason))

    def _apply_cancel(self, w: WorkingOrder, ts: datetime, visible: float) -> None:
        if w.state.is_terminal:
            return  # filled (or ended) before the cancel arrived: Binance answers -2011
        self._finish(w, ChildState.CANCELED)
        self._emit(w, visible, OrderCanceled(w.order.client_order_id, ts, "canceled by request"))

    def _match_resting(self, now: datetime, now_t: float) -> None:
        for w in list(self._resting.values()):
            if now_t <= w.checked_t:
                continue
            order = w.order
            volume, crossed = self._view.volume_through(order.symbol, order.side, w.limit_f,
                                                        w.checked_t, now_t)
            w.checked_t = now_t  # not a change to write: a restore moves it to the restart
            if volume or crossed:
                self._store.touch(order.client_order_id)
            if crossed:
                quantity = w.remaining
            else:
                if volume <= w.queue_ahead:
                    w.queue_ahead -= volume
                    continue
                available = volume - w.queue_ahead + w.credit
                w.queue_ahead = 0.0
                step_f, step = self._walk.step(order.symbol)
                quantity = min(Decimal(int(available / step_f + 1e-9)) * step, w.remaining)
                w.credit = available - float(quantity)
                if quantity <= 0:
                    continue
            mid: Decimal | None = None
            half: Decimal | None = None
            with contextlib.suppress(MarketClosed):  # a fill can complete a bar before a gap
                mid, half = self._walk.mid_half(order.symbol, self._view.top(order.symbol, now_t))
            visible = now_t + self.latency.draw() * 0.5
            assert order.limit_price is not None
            self._fill(w, quantity, order.limit_price, Liquidity.MAKER, now, visible, mid, half)
            # our resting order absorbed flow that would have moved the touch: it moves the
            # price too, less than a take (oms.market.impact, passive_ratio)
            self._view.record_own_trade(order.symbol, order.side, float(quantity), now_t,
                                        passive=True)
