"""The paper venue's exchange state as rows of the OMS database, so that it survives a restart.

``paper_orders``: one row per order the venue still holds (open, or finished with a request in
flight or an event not yet delivered); the columns say its id, venue order id, symbol and state,
``data`` the rest::

    {"order": {"parent_id", "side", "quantity", "order_type", "time_in_force", "limit_price",
               "created_at", "venue"},                    # enough to rebuild the ChildOrder
     "sent_at", "arrival_t", "filled", "notional",        # arrival_t: float epoch seconds
     "queue_ahead", "credit", "checked_t",                # queue position (floats, as matched)
     "last_visible", "cancel_requested", "open_counted",
     "lock": {"asset", "locked", "unit"},                 # what it locks of the account
     "requests": [{"kind": "new"|"cancel", "arrival_t", "seq", "arrival", "visible"}],
     "events": [{"visible", "seq", "event": {"type": "accepted"|"filled"|..., ...}}]}

``paper_state``: ``balances`` ({"free": {asset: amount}, "locked": {...}}), ``counters``
({"next_venue_order_id", "next_seq", "open_orders": {symbol: count}}; ``next_seq`` orders the
venue's queues and numbers its fill ids) and ``rng`` (``random.Random.getstate()``).
Decimals are stored as strings, datetimes as ISO strings, times in float epoch seconds as JSON
numbers (they round-trip exactly).

Several paper venues in one database: a venue named other than "paper" (its ``namespace``) keys
its ``paper_state`` rows ``f"{namespace}:balances"`` etc. and marks its ``paper_orders`` rows
``data["venue"] = namespace``; each restores only its own. The default venue's rows are exactly
those of a database written before venues had names (no prefix, no mark), so old databases
restore as they did. (Client order ids, the table's key, are unique across venues: the OMS
makes them.)

``PaperStore`` holds the venue's orders and queues and tracks what of them changed, so that
``changes`` costs O(changed orders): the venue queues and takes requests and events through it and
tells it each order whose matching state it changes. A batch carries the net change per order:
one row of its final state, or a delete if the table holds it; an order that came and went
between two batches (a market order that filled and was delivered) writes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from heapq import heappop, heappush
from typing import Any

from oms.model.enums import ChildState, Liquidity, OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder, Fill
from oms.venues.base import Balance, OrderStatusReport
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)
from oms.venues.paper_balances import SpotLedger
from oms.venues.paper_state import WorkingOrder

__all__ = [
    "FINISHED_KEPT",
    "ORDERS_TABLE",
    "REQUEST_CANCEL",
    "REQUEST_NEW",
    "STATE_TABLE",
    "Action",
    "Outgoing",
    "PaperStore",
    "StoredVenue",
    "load_venue",
    "peek",
    "state_key",
    "state_values",
    "status_report",
]

ORDERS_TABLE = "paper_orders"
STATE_TABLE = "paper_state"
REQUEST_NEW, REQUEST_CANCEL = 0, 1
FINISHED_KEPT = 1024  # forgotten orders ``query`` still answers for (in memory only)
_KINDS = {REQUEST_NEW: "new", REQUEST_CANCEL: "cancel"}
_KIND_OF = {name: kind for kind, name in _KINDS.items()}

#: a request on its way to the exchange: (arrival there, seq, kind, order, arrival ts, visible)
Action = tuple[float, int, int, WorkingOrder, datetime, float]
#: an event on its way to the OMS: (visible from, seq, event)
Outgoing = tuple[float, int, VenueEvent]
Row = dict[str, Any]
Rows = dict[str, dict[str, Row | None]]
RngState = tuple[Any, ...]


def peek(counter: itertools.count[int]) -> tuple[int, itertools.count[int]]:
    """The next value of ``counter`` and a counter that still starts there."""
    value = next(counter)
    return value, itertools.count(value)


class PaperStore:
    """The venue's orders and its two queues (requests on their way to the exchange, events on
    their way to the OMS: heaps in time order), and what of them changed since ``changes``."""

    __slots__ = ("_events", "_requests", "_rng_written", "_stored", "_written", "actions",
                 "dirty", "finished", "namespace", "orders", "outbox", "pending", "resting")

    def __init__(self, namespace: str | None = None) -> None:
        self.namespace = namespace  # None: the default venue's rows (module docstring)
        self.orders: dict[str, WorkingOrder] = {}  # every order the venue holds
        self.pending: dict[str, WorkingOrder] = {}  # accepted, not yet at the exchange
        self.resting: dict[str, WorkingOrder] = {}  # in the book, in the order they arrived
        self.actions: list[Action] = []
        self.outbox: list[Outgoing] = []
        self.finished: dict[str, WorkingOrder] = {}  # the last FINISHED_KEPT forgotten
        # None until the state is first written (or restored): then ``changes`` writes it all,
        # and a venue that is never persisted tracks nothing
        self.dirty: set[str] | None = None
        self._requests: dict[str, list[Action]] = {}  # per order: its entries of ``actions``
        self._events: dict[str, list[Outgoing]] = {}  # per order: its entries of ``outbox``
        self._stored: set[str] = set()  # the orders the table holds (as the batches left it)
        self._written: dict[str, dict[str, Any]] = {}
        self._rng_written: RngState | None = None

    @property
    def quiet(self) -> bool:
        """True when the state was written and no order moved since (``changes`` has nothing)."""
        return self.dirty is not None and not self.dirty

    def touch(self, client_order_id: str) -> None:
        """The order's row changed."""
        if self.dirty is not None:
            self.dirty.add(client_order_id)

    # the methods below are called several times per order: they mark it in ``dirty`` inline
    def add(self, w: WorkingOrder) -> None:
        """A new order reached the venue."""
        cid = w.order.client_order_id
        self.orders[cid] = w
        if self.dirty is not None:
            self.dirty.add(cid)

    def push_action(self, action: Action) -> None:
        """Put a request of ``action[3]`` on its way to the exchange."""
        heappush(self.actions, action)
        cid = action[3].order.client_order_id
        _queue(self._requests, cid, action)
        if self.dirty is not None:
            self.dirty.add(cid)

    def pop_action(self) -> Action:
        """The request that reaches the exchange first (the caller applies it)."""
        action = heappop(self.actions)
        cid = action[3].order.client_order_id
        _take(self._requests, cid, action)
        if self.dirty is not None:
            self.dirty.add(cid)
        return action

    def push_event(self, entry: Outgoing) -> None:
        """Put an event on its way to the OMS."""
        heappush(self.outbox, entry)
        cid = entry[2].client_order_id
        _queue(self._events, cid, entry)
        if self.dirty is not None:
            self.dirty.add(cid)

    def pop_event(self) -> VenueEvent:
        """Deliver the first visible event; its order is forgotten if that was its last."""
        entry = heappop(self.outbox)
        event = entry[2]
        cid = event.client_order_id
        _take(self._events, cid, entry)
        if self.dirty is not None:
            self.dirty.add(cid)
        w = self.orders.get(cid)
        if w is not None and w.state.is_terminal:
            self.forget_if_done(w)
        return event

    def forget_if_done(self, w: WorkingOrder) -> None:
        """A finished order with nothing on its way leaves the venue (memory and table)."""
        cid = w.order.client_order_id
        if (w.state.is_terminal and cid not in self._requests and cid not in self._events
                and self.orders.get(cid) is w):
            del self.orders[cid]
            self.touch(cid)
            finished = self.finished
            finished[cid] = w  # it changes no more: its report is built if asked
            if len(finished) > FINISHED_KEPT:
                del finished[next(iter(finished))]

    def report(self, client_order_id: str) -> OrderStatusReport | None:
        """The venue's view of an order it holds or finished lately, else None."""
        w = self.orders.get(client_order_id) or self.finished.get(client_order_id)
        return None if w is None else status_report(w)

    def install(self, stored: StoredVenue, now: datetime) -> None:
        """Take the orders ``load_venue`` read; resting ones match market volume from ``now``
        on (what traded while the OMS was down fills nothing)."""
        now_t = now.timestamp()
        for order in stored.orders:  # in the order the venue accepted them, as before
            w = order.working
            cid = w.order.client_order_id
            self.orders[cid] = w
            for action in order.actions:
                heappush(self.actions, action)
                _queue(self._requests, cid, action)
            for entry in order.events:
                heappush(self.outbox, entry)
                _queue(self._events, cid, entry)
            if order.pending:
                self.pending[cid] = w
            elif not w.state.is_terminal:
                w.checked_t = now_t
                self.resting[cid] = w
        self.dirty = set()  # the database holds it all: from now on write what changes
        self._stored = {order.working.order.client_order_id for order in stored.orders}
        self._rng_written = stored.rng_state

    def changes(self, state: dict[str, dict[str, Any]], rng_state: RngState,
                now: datetime) -> Rows:
        """Rows changed since the last call: the touched orders (the row of their state now;
        None: forgotten since a batch wrote them) and the ``paper_state`` values that differ
        from what was written last."""
        orders, dirty, stored = self.orders, self.dirty, self._stored
        requests, events = self._requests, self._events
        order_rows: dict[str, Row | None] = {}
        for cid in orders if dirty is None else dirty:
            w = orders.get(cid)
            if w is not None:
                order_rows[cid] = row = order_row(w, requests.get(cid, ()), events.get(cid, ()),
                                                  now)
                if self.namespace is not None:
                    row["data"]["venue"] = self.namespace
                stored.add(cid)
            elif cid in stored:  # forgotten: delete its row (one that came and went since
                order_rows[cid] = None  # the last batch has none, and writes nothing)
                stored.discard(cid)
        self.dirty = set()
        if rng_state != self._rng_written:
            self._rng_written = rng_state
            state["rng"] = {"state": [rng_state[0], list(rng_state[1]), rng_state[2]]}
        state_rows: dict[str, Row | None] = {}
        for key, value in state.items():
            if self._written.get(key) != value:
                self._written[key] = value
                stored_key = state_key(key, self.namespace)
                state_rows[stored_key] = {"key": stored_key, "value": value, "updated_at": now}
        changed: Rows = {}
        if order_rows:
            changed[ORDERS_TABLE] = order_rows
        if state_rows:
            changed[STATE_TABLE] = state_rows
        return changed


def _queue(book: dict[str, list[Any]], client_order_id: str, entry: Any) -> None:
    entries = book.get(client_order_id)
    if entries is None:
        book[client_order_id] = [entry]
    else:
        entries.append(entry)


def _take(book: dict[str, list[Any]], client_order_id: str, entry: Any) -> None:
    entries = book[client_order_id]
    if entries[0] is entry:  # an order's requests and events leave in the order they came
        del entries[0]
    else:
        entries.remove(entry)
    if not entries:
        del book[client_order_id]


def status_report(w: WorkingOrder) -> OrderStatusReport:
    """What ``query`` answers about ``w``."""
    avg = w.notional / w.filled if w.filled else None
    return OrderStatusReport(w.order.client_order_id, w.venue_id or None, w.state, w.filled, avg)


def state_values(balances: Mapping[str, Balance], next_venue_order_id: int, next_seq: int,
                 open_orders: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """The ``paper_state`` values of the account and the counters (the store adds ``rng``)."""
    return {
        "balances": {"free": {a: str(b.free) for a, b in balances.items()},
                     "locked": {a: str(b.locked) for a, b in balances.items()}},
        "counters": {"next_venue_order_id": next_venue_order_id, "next_seq": next_seq,
                     "open_orders": dict(open_orders)},
    }


# ---------------------------------------------------------------------- orders to rows
def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _opt_dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _opt_ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@lru_cache(maxsize=4096)
def _utc_iso(value: datetime) -> str:
    return value.isoformat()


def _iso(value: datetime) -> str:
    """``value.isoformat()``; a batch repeats the same few instants (a tick's time), so UTC
    datetimes are cached (only those: an equal instant in another zone, or a subclass such as
    a pandas Timestamp, prints differently)."""
    if value.tzinfo is UTC and type(value) is datetime:
        return _utc_iso(value)
    return value.isoformat()


def order_row(w: WorkingOrder, requests: Iterable[Action], events: Iterable[Outgoing],
              updated_at: datetime) -> Row:
    """The ``paper_orders`` row of ``w`` with its requests in flight and undelivered events."""
    order = w.order
    data = {
        "order": {"parent_id": order.parent_id, "side": order.side.value,
                  "quantity": str(order.quantity), "order_type": order.order_type.value,
                  "time_in_force": order.time_in_force.value,
                  "limit_price": _opt(order.limit_price),
                  "created_at": _iso(order.created_at), "venue": order.venue},
        "sent_at": _iso(w.sent_at), "arrival_t": w.arrival_t,
        "filled": str(w.filled), "notional": str(w.notional),
        "queue_ahead": w.queue_ahead, "credit": w.credit, "checked_t": w.checked_t,
        "last_visible": w.last_visible, "cancel_requested": w.cancel_requested,
        "open_counted": w.open_counted,
        "lock": {"asset": w.lock_asset, "locked": str(w.locked), "unit": str(w.lock_unit)},
        "requests": [{"kind": _KINDS[kind], "arrival_t": t_ex, "seq": seq,
                      "arrival": _iso(ts), "visible": visible}
                     for t_ex, seq, kind, _, ts, visible in requests],
        "events": [{"visible": visible, "seq": seq, "event": event_json(event)}
                   for visible, seq, event in events],
    }
    return {"client_order_id": order.client_order_id, "venue_order_id": w.venue_id,
            "symbol": order.symbol, "state": w.state.value, "updated_at": updated_at,
            "data": data}


def event_json(event: VenueEvent) -> dict[str, Any]:
    """A venue event as plain JSON (its client order id is the row's)."""
    if isinstance(event, OrderFilled):
        f = event.fill
        return {"type": "filled", "fill_id": f.fill_id, "parent_id": f.parent_id,
                "symbol": f.symbol, "side": f.side.value, "price": str(f.price),
                "quantity": str(f.quantity), "fee": str(f.fee), "liquidity": f.liquidity.value,
                "ts": _iso(f.ts), "venue": f.venue, "mid_price": _opt(f.mid_price),
                "half_spread": _opt(f.half_spread),
                "submitted_at": None if f.submitted_at is None else _iso(f.submitted_at)}
    ts = _iso(event.ts)
    if isinstance(event, OrderAccepted):
        return {"type": "accepted", "venue_order_id": event.venue_order_id, "ts": ts}
    if isinstance(event, OrderRejected):
        return {"type": "rejected", "code": event.code, "reason": event.reason, "ts": ts}
    kind = "canceled" if isinstance(event, OrderCanceled) else "expired"
    return {"type": kind, "reason": event.reason, "ts": ts}


def event_from_json(cid: str, data: Mapping[str, Any]) -> VenueEvent:
    """The event ``event_json`` wrote for order ``cid``."""
    kind = data["type"]
    ts = datetime.fromisoformat(data["ts"])
    if kind == "filled":
        return OrderFilled(Fill(
            fill_id=data["fill_id"], client_order_id=cid, parent_id=data["parent_id"],
            symbol=data["symbol"], side=Side(data["side"]), price=Decimal(data["price"]),
            quantity=Decimal(data["quantity"]), fee=Decimal(data["fee"]),
            liquidity=Liquidity(data["liquidity"]), ts=ts, venue=data["venue"],
            mid_price=_opt_dec(data["mid_price"]), half_spread=_opt_dec(data["half_spread"]),
            submitted_at=_opt_ts(data["submitted_at"])))
    if kind == "accepted":
        return OrderAccepted(cid, data["venue_order_id"], ts)
    if kind == "rejected":
        return OrderRejected(cid, int(data["code"]), data["reason"], ts)
    if kind == "canceled":
        return OrderCanceled(cid, ts, data["reason"])
    if kind == "expired":
        return OrderExpired(cid, ts, data["reason"])
    raise ValueError(f"paper_orders {cid}: unknown event type {kind!r}")


# ---------------------------------------------------------------------- rows to the venue
@dataclass(slots=True)
class StoredOrder:
    """One restored order with its requests in flight and its undelivered events."""

    working: WorkingOrder
    actions: list[Action]
    events: list[Outgoing]

    @property
    def pending(self) -> bool:
        """Accepted and not yet at the exchange (its new-order request is in flight)."""
        return any(kind == REQUEST_NEW for _, _, kind, _, _, _ in self.actions)


@dataclass(slots=True)
class StoredVenue:
    """What ``load_venue`` read back: the account, the counters, the RNG and the orders
    (in the order the venue accepted them)."""

    ledger: SpotLedger
    next_venue_order_id: int
    next_seq: int
    open_orders: dict[str, int]
    rng_state: RngState | None
    orders: list[StoredOrder]


def _order_from_row(row: Mapping[str, Any], now: datetime) -> StoredOrder:
    """Rebuild one order; requests whose arrival time has passed arrive at ``now`` instead
    (nothing happens at the exchange while the OMS is down), keeping their latency."""
    cid, data = row["client_order_id"], row["data"]
    spec = data["order"]
    order = ChildOrder(
        cid, spec["parent_id"], row["symbol"], Side(spec["side"]), Decimal(spec["quantity"]),
        OrderType(spec["order_type"]), datetime.fromisoformat(spec["created_at"]), spec["venue"],
        limit_price=_opt_dec(spec["limit_price"]),
        time_in_force=TimeInForce(spec["time_in_force"]))
    w = WorkingOrder(order, row["venue_order_id"], datetime.fromisoformat(data["sent_at"]),
                     float(data["arrival_t"]), ChildState(row["state"]))
    w.filled, w.notional = Decimal(data["filled"]), Decimal(data["notional"])
    w.remaining_f = float(order.quantity - w.filled)
    w.queue_ahead, w.credit = float(data["queue_ahead"]), float(data["credit"])
    w.checked_t, w.last_visible = float(data["checked_t"]), float(data["last_visible"])
    w.cancel_requested, w.open_counted = bool(data["cancel_requested"]), bool(data["open_counted"])
    lock = data["lock"]
    w.lock_asset, w.locked, w.lock_unit = lock["asset"], Decimal(lock["locked"]), Decimal(
        lock["unit"])
    now_t = now.timestamp()
    actions: list[Action] = []
    for request in data["requests"]:
        kind, t_ex, visible = _KIND_OF[request["kind"]], float(request["arrival_t"]), float(
            request["visible"])
        ts = datetime.fromisoformat(request["arrival"])
        if t_ex < now_t:
            t_ex, ts, visible = now_t, now, visible + (now_t - t_ex)
        if kind == REQUEST_NEW:
            w.arrival_t = t_ex
        actions.append((t_ex, int(request["seq"]), kind, w, ts, visible))
    events: list[Outgoing] = [(float(e["visible"]), int(e["seq"]), event_from_json(cid, e["event"]))
                              for e in data["events"]]
    return StoredOrder(w, actions, events)


def _ledger(value: Mapping[str, Any] | None) -> SpotLedger:
    if value is None:
        return SpotLedger({})
    free = {a: Decimal(v) for a, v in value["free"].items()}
    locked = {a: Decimal(v) for a, v in value["locked"].items()}
    ledger = SpotLedger({a: free.get(a, Decimal(0)) + locked.get(a, Decimal(0))
                         for a in set(free) | set(locked)})
    for asset, amount in locked.items():
        if amount and not ledger.lock(asset, amount):
            raise ValueError(f"paper_state balances: {asset} locks more than it holds")
    return ledger


def _accepted_order(stored: StoredOrder) -> tuple[int, str]:
    venue_id = stored.working.venue_id
    return (int(venue_id), "") if venue_id.isdigit() else (0, stored.working.order.client_order_id)


def state_key(key: str, namespace: str | None) -> str:
    """The ``paper_state`` key of value ``key`` of the venue ``namespace`` (None: default)."""
    return key if namespace is None else f"{namespace}:{key}"


def _own_values(rows: Iterable[Mapping[str, Any]], namespace: str | None) -> dict[str, Any]:
    """The venue's ``paper_state`` values by their bare key (others' rows left alone)."""
    if namespace is None:
        return {row["key"]: row["value"] for row in rows if ":" not in row["key"]}
    prefix = f"{namespace}:"
    return {row["key"][len(prefix):]: row["value"] for row in rows
            if row["key"].startswith(prefix)}


def load_venue(load: Callable[[str], list[dict[str, Any]]], now: datetime,
               namespace: str | None = None) -> StoredVenue | None:
    """Read the venue's tables back (None when they hold nothing of it); ``now``: the restart's
    market time, at which requests that should have arrived meanwhile arrive; ``namespace``:
    which venue's rows (module docstring)."""
    values = _own_values(load(STATE_TABLE), namespace)
    rows = [row for row in load(ORDERS_TABLE) if row["data"].get("venue") == namespace]
    if not values and not rows:
        return None
    now = now.astimezone(UTC)
    counters = values.get("counters") or {}
    rng = values.get("rng")
    orders = sorted((_order_from_row(row, now) for row in rows), key=_accepted_order)
    return StoredVenue(
        ledger=_ledger(values.get("balances")),
        next_venue_order_id=int(counters.get("next_venue_order_id", 1)),
        next_seq=int(counters.get("next_seq", 0)),
        open_orders={s: int(n) for s, n in (counters.get("open_orders") or {}).items()},
        rng_state=None if rng is None else (rng["state"][0], tuple(rng["state"][1]),
                                            rng["state"][2]),
        orders=orders)
