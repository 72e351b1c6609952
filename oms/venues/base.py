"""The Venue base class: the one I/O boundary for orders.

Required of every venue (paper, Binance):

- ``name`` (class attribute): how fills and reports name the venue.
- ``_send(order, now)``: put a child order on the way; must not block for long. Results come back
  as events from ``poll``. Raise VenueRejected / VenueUnavailable / OrderStatusUnknown /
  VenueBanned (oms.errors) for failures known at send time.
- ``cancel(client_order_id, now)``: request a cancel; confirmation comes back as an event.
- ``poll(now)``: return the events that happened up to ``now`` (acks, fills, rejects, cancels,
  expiries), each once, in time order.
- ``query(client_order_id)``: the venue's view of one order, for reconciliation.
- ``filters(symbol)``: the symbol's exchange rules.

Optional:

- ``balances()``: the spot account per asset, ``Balance(free, locked)`` (Binance: GET
  /api/v3/account; paper: its own ledger). For tests and reconciliation.
- ``set_balances(totals)``: after a restart, the per-asset totals rebuilt from the stored fills
  (``oms.model.account_balances``). A venue that keeps the account itself (Binance) ignores them;
  a paper venue that has no stored state of its own (a database older than its tables) starts
  from them.
- ``state_changes()`` / ``restore(load, now)``: a venue whose exchange state lives in the OMS
  database (the paper venue) returns the rows it changed since the last call (the engine writes
  them in the same transaction as its own rows), and at start reads them back (``load(table)``
  returns a state table's rows); ``restore`` returns False when there was nothing to restore.
- ``open_orders(now)`` / ``follow(order)`` (running reconciliation, oms.engine.reconcile): every
  order open at the exchange, the OMS's and any other (paper: its books; Binance: GET
  /api/v3/openOrders), and, when the OMS adopts an order it did not place, start reporting its
  events (default: True if the venue already reports on every order it holds open).

Contract: called from the engine thread only, except ``submit``'s halt check, which reads the
thread-safe HaltGate; a venue never invents a fill twice (fill ids are unique).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from oms.model.enums import ChildState, OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder
from oms.risk.halt import HaltGate
from oms.venues.events import VenueEvent
from oms.venues.filters import SymbolFilters

__all__ = ["Balance", "OrderStatusReport", "Venue", "VenueOrder"]


class Balance(NamedTuple):
    """One asset of a spot account: ``free`` to trade, ``locked`` by open orders."""

    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        """Free plus locked."""
        return self.free + self.locked


@dataclass(frozen=True, slots=True)
class OrderStatusReport:
    """What the venue says about one order."""

    client_order_id: str
    venue_order_id: str | None
    state: ChildState
    filled_quantity: Decimal
    avg_price: Decimal | None


# -- reconciliation (oms.engine.reconcile)
@dataclass(frozen=True, slots=True)
class VenueOrder:
    """One order open at the venue, as the venue reports it (whoever placed it)."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    filled_quantity: Decimal
    order_type: OrderType
    limit_price: Decimal | None
    time_in_force: TimeInForce
    venue_order_id: str | None


class Venue(ABC):
    """Base class of all venues; see the module docstring for the contract."""

    name: str = "venue"

    def __init__(self, gate: HaltGate) -> None:
        self.gate = gate

    def submit(self, order: ChildOrder, now: datetime) -> None:
        """Send ``order`` unless the halt gate is closed (raises TradingHalted then)."""
        self.gate.ensure_open()
        self._send(order, now)

    @abstractmethod
    def _send(self, order: ChildOrder, now: datetime) -> None:
        """Venue-specific send."""

    @abstractmethod
    def cancel(self, client_order_id: str, now: datetime) -> None:
        """Request the cancel of one order."""

    def cancel_all(self, now: datetime, symbol: str | None = None) -> list[str]:
        """Request the cancel of every open order (of ``symbol``); returns the ids asked."""
        ids = self.open_order_ids(symbol)
        for client_order_id in ids:
            self.cancel(client_order_id, now)
        return ids

    @abstractmethod
    def open_order_ids(self, symbol: str | None = None) -> list[str]:
        """Client order ids of orders open at the venue (of ``symbol``)."""

    @abstractmethod
    def poll(self, now: datetime) -> list[VenueEvent]:
        """Events up to ``now``, each reported once."""

    @abstractmethod
    def query(self, client_order_id: str) -> OrderStatusReport | None:
        """The venue's view of an order, or None if it does not know it."""

    @abstractmethod
    def filters(self, symbol: str) -> SymbolFilters:
        """The exchange rules of ``symbol``."""

    def adopt(self, working: dict[str, ChildOrder]) -> set[str]:
        """After a restart: which of the previous process's ``working`` children this venue
        will keep reporting on (its later events settle them). Default: none, for a venue
        without memory across restarts (the engine then settles them itself)."""
        return set()

    def balances(self) -> dict[str, Balance]:
        """The account's balances per asset (optional; see the module docstring)."""
        raise NotImplementedError(f"{self.name} does not report balances")

    # -- reconciliation (oms.engine.reconcile)
    def open_orders(self, now: datetime) -> list[VenueOrder]:
        """Every order open at the exchange at ``now``, the OMS's and any other (optional)."""
        raise NotImplementedError(f"{self.name} does not list its open orders")

    def follow(self, order: ChildOrder) -> bool:
        """Start reporting the events of ``order``, open at the venue but not placed by the OMS,
        which the OMS now adopts; False if this venue cannot. Default: True when the venue
        lists it open (a venue that reports on every order it holds)."""
        return order.client_order_id in self.open_order_ids(order.symbol)

    def set_balances(self, totals: Mapping[str, Decimal]) -> None:  # noqa: B027 - optional hook
        """After a restart: per-asset totals rebuilt from the stored fills. Default: ignored,
        for a venue that keeps the account itself."""

    def state_changes(self) -> Mapping[str, Mapping[str, dict[str, Any] | None]] | None:
        """Rows of the venue's state tables changed since the last call (table -> key -> row,
        None deletes the key). Default: None, for a venue that keeps its own state."""
        return None

    def restore(self, load: Callable[[str], list[dict[str, Any]]], now: datetime) -> bool:
        """At start: rebuild the venue's state from its tables; False when there was none."""
        return False

    def status_text(self) -> str:
        """One line for the dashboard: OK, or why the venue is degraded or halted."""
        return "OK"

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (optional)."""
