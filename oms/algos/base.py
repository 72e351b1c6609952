"""The execution-algorithm interface: every algorithm turns events into child-order intents.

The engine calls, for each working parent:
``on_start`` once, then every tick ``on_market_data`` and ``on_timer``; ``on_fill`` for each fill of
one of its children; ``on_reject`` when a child is denied by risk or rejected by the venue;
``on_cancel`` when a child is canceled or expires. Each returns a list of intents (new children or
cancels). After a restart, ``resume`` replaces ``on_start``: the algorithm is rebuilt from its
parent (quantities, seed, options), the parent's children so far and the time now, and re-plans
the remaining quantity over the remaining window. ``is_finished`` tells the engine the algorithm
is done: the parent is then COMPLETED when filled, otherwise it ends with the unfilled rest
reported (never silently dropped).

Each child the engine creates keeps the ``intent_id`` of the ChildIntent it answers
(``ChildOrder.intent_id``), so an algorithm knows which of its requests a child is; a child whose
``intent_id`` it never issued is not its own (its callbacks say nothing about its requests).

Algorithms never touch the venue, the database or the clock directly: everything comes in
through the AlgoContext, which makes them deterministic for a seed and testable alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from oms.market.base import MarketData
from oms.market.types import Quote
from oms.model.enums import OrderType, TimeInForce
from oms.model.orders import ChildOrder, Fill, ParentOrder
from oms.venues.filters import SymbolFilters

__all__ = ["AlgoContext", "CancelIntent", "ChildIntent", "ExecutionAlgo", "Intent"]


@dataclass(frozen=True, slots=True)
class ChildIntent:
    """Ask the engine to create and send a child order (symbol and side are the parent's).

    ``intent_id`` is chosen by the algorithm, deterministic and unique within its parent (e.g.
    ``"twap-3"``); the engine copies it onto the child (``ChildOrder.intent_id``), so every
    later callback says which request the child answers.
    """

    quantity: Decimal
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    tag: str = ""  # e.g. "slice-3", "passive", "cross"
    intent_id: str = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class CancelIntent:
    """Ask the engine to cancel one of the parent's working children."""

    client_order_id: str
    reason: str = ""


Intent = ChildIntent | CancelIntent


@dataclass(slots=True)
class AlgoContext:
    """What an algorithm may see on a call: time, market, rules, its parent and its children."""

    now: datetime
    parent: ParentOrder
    quote: Quote | None  # None when the market is closed
    filters: SymbolFilters
    market: MarketData
    working_children: list[ChildOrder] = field(default_factory=list)
    trading_allowed: bool = True  # False while the account is HALTED (or REDUCING and we'd add)

    @property
    def working_quantity(self) -> Decimal:
        """Quantity sent but not yet filled or ended."""
        return sum((c.remaining for c in self.working_children), Decimal(0))

    @property
    def unsent_quantity(self) -> Decimal:
        """Parent quantity neither filled nor working."""
        return self.parent.remaining - self.working_quantity

    @property
    def window_end(self) -> datetime:
        """When the parent's execution window closes."""
        start = self.parent.started_at or self.parent.created_at
        return start + timedelta(minutes=self.parent.duration_minutes)


class ExecutionAlgo(ABC):
    """Base class of all execution algorithms (one module each under oms/algos)."""

    #: why the algorithm stopped sending (rejections, window end, unsendable rest); None while
    #: it runs normally. The engine may put it in the parent's end reason.
    stop_reason: str | None = None
    #: the engine calls neither ``on_market_data`` nor ``on_timer`` before this instant (None:
    #: every tick). An algorithm sets it only when nothing it could do changes before then
    #: but through one of its callbacks (a fill, reject or cancel, which the engine delivers
    #: whatever the wake-up time), so a parent with nothing due costs nothing in a tick.
    wake_at: datetime | None = None

    def __init__(self, parent: ParentOrder, *, seed: int = 0) -> None:
        self.parent = parent
        self.seed = seed

    @abstractmethod
    def on_start(self, ctx: AlgoContext) -> list[Intent]:
        """Called once when the parent starts working."""

    def on_market_data(self, ctx: AlgoContext) -> list[Intent]:
        """Called every tick with fresh market data (default: nothing)."""
        return []

    def resume(self, ctx: AlgoContext, history: Sequence[ChildOrder]) -> list[Intent]:
        """Called once instead of ``on_start`` when the engine rebuilds the algorithm after a
        restart; ``history``: every child of the parent so far (``ctx.working_children`` are the
        ones still working). Default: start afresh."""
        return self.on_start(ctx)

    @abstractmethod
    def on_timer(self, ctx: AlgoContext) -> list[Intent]:
        """Called every tick; schedules slices that are due."""

    def on_fill(self, ctx: AlgoContext, child: ChildOrder, fill: Fill) -> list[Intent]:
        """A child filled (partly); default: nothing."""
        return []

    def on_reject(self, ctx: AlgoContext, child: ChildOrder, reason: str) -> list[Intent]:
        """A child was denied by risk or rejected by the venue; default: nothing."""
        return []

    def on_cancel(self, ctx: AlgoContext, child: ChildOrder) -> list[Intent]:
        """A child was canceled or expired; default: nothing."""
        return []

    @abstractmethod
    def is_finished(self, ctx: AlgoContext) -> bool:
        """True when the algorithm will send nothing more (filled, or its window is over)."""
