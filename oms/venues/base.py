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
  the paper venue, which has no memory across restarts, starts from them.

Contract: called from the engine thread only, except ``submit``'s halt check, which reads the
thread-safe HaltGate; a venue never invents a fill twice (fill ids are unique).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from oms.model.enums import ChildState
from oms.model.orders import ChildOrder
from oms.risk.halt import HaltGate
from oms.venues.events import VenueEvent
from oms.venues.filters import SymbolFilters

__all__ = ["Balance", "OrderStatusReport", "Venue"]


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

    def set_balances(self, totals: Mapping[str, Decimal]) -> None:  # noqa: B027 - optional hook
        """After a restart: per-asset totals rebuilt from the stored fills. Default: ignored,
        for a venue that keeps the account itself."""

    def status_text(self) -> str:
        """One line for the dashboard: OK, or why the venue is degraded or halted."""
        return "OK"

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (optional)."""
