"""A minimal engine loop for one parent: drives an algorithm against a market and a venue.

Used by the algorithm tests and ``benchmarks/algo_eval.py`` (the real engine lives in
oms/engine.py). It follows the engine's calling convention: ``on_start`` intents are deferred to
the first tick, then each tick polls the venue (fills, rejects, cancels dispatched to the
algorithm), calls ``on_market_data`` and ``on_timer``, applies an optional pre-trade ``deny`` hook
and sends. It stops when the algorithm is finished and no child is working.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from oms.algos.base import AlgoContext, CancelIntent, ChildIntent, ExecutionAlgo, Intent
from oms.errors import MarketClosed, TradingHalted
from oms.market.base import MarketData
from oms.model.enums import ChildState, ParentState
from oms.model.orders import ChildOrder, Fill, ParentOrder
from oms.venues.base import Venue
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)

__all__ = ["SimResult", "run_parent"]


@dataclass(slots=True)
class SimResult:
    """What happened to one parent: its children, fills and the reason it ended."""

    parent: ParentOrder
    children: list[ChildOrder] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)
    ended_at: datetime | None = None
    end_reason: str = ""
    ticks: int = 0


class _Loop:
    def __init__(self, algo: ExecutionAlgo, parent: ParentOrder, market: MarketData, venue: Venue,
                 deny: Callable[[ChildOrder, datetime], str | None] | None,
                 trading_allowed: Callable[[datetime], bool] | None) -> None:
        self.algo, self.parent, self.market, self.venue = algo, parent, market, venue
        self.deny = deny
        self.trading_allowed = trading_allowed
        self.working: dict[str, ChildOrder] = {}
        self.result = SimResult(parent)
        self.ids = itertools.count(1)
        self.deferred: list[Intent] = []

    def context(self, now: datetime) -> AlgoContext:
        try:
            quote = self.market.quote(self.parent.symbol)
        except MarketClosed:
            quote = None
        allowed = self.trading_allowed(now) if self.trading_allowed is not None else True
        return AlgoContext(now=now, parent=self.parent, quote=quote,
                           filters=self.venue.filters(self.parent.symbol), market=self.market,
                           working_children=list(self.working.values()), trading_allowed=allowed)

    def apply(self, event: VenueEvent, now: datetime) -> None:
        child = self.working.get(event.client_order_id)
        if child is None:
            return
        if isinstance(event, OrderAccepted):
            child.venue_order_id = event.venue_order_id
            if child.state is ChildState.PENDING_NEW:
                child.transition(ChildState.NEW, now)
        elif isinstance(event, OrderFilled):
            if child.apply_fill(event.fill):
                self.parent.record_fill(event.fill)
                self.result.fills.append(event.fill)
            if child.state.is_terminal:
                del self.working[child.client_order_id]
            self.deferred += self.algo.on_fill(self.context(now), child, event.fill)
        elif isinstance(event, OrderRejected):
            self.close(child, ChildState.REJECTED, now, f"{event.code} {event.reason}")
        elif isinstance(event, OrderCanceled | OrderExpired):
            state = ChildState.CANCELED if isinstance(event, OrderCanceled) else ChildState.EXPIRED
            self.close(child, state, now, event.reason)

    def close(self, child: ChildOrder, state: ChildState, now: datetime, reason: str) -> None:
        child.transition(state, now, reason)
        self.working.pop(child.client_order_id, None)
        ctx = self.context(now)
        if state is ChildState.REJECTED:
            self.result.rejects.append(reason)
            self.deferred += self.algo.on_reject(ctx, child, reason)
        else:
            self.deferred += self.algo.on_cancel(ctx, child)

    def send(self, intent: ChildIntent, now: datetime) -> None:
        child = ChildOrder(
            client_order_id=f"sim-{self.parent.parent_id}-{next(self.ids)}",
            parent_id=self.parent.parent_id, symbol=self.parent.symbol, side=self.parent.side,
            quantity=intent.quantity, order_type=intent.order_type, created_at=now,
            venue=self.venue.name, limit_price=intent.limit_price,
            time_in_force=intent.time_in_force)
        self.result.children.append(child)
        self.working[child.client_order_id] = child
        reason = self.deny(child, now) if self.deny is not None else None
        if reason is not None:
            self.close(child, ChildState.REJECTED, now, reason)
            return
        try:
            self.venue.submit(child, now)
        except TradingHalted as exc:
            self.close(child, ChildState.REJECTED, now, f"HALTED: {exc}")
            return
        child.sent_at = now

    def dispatch(self, intents: list[Intent], now: datetime) -> None:
        for intent in intents:
            if isinstance(intent, CancelIntent):
                if intent.client_order_id in self.working:
                    child = self.working[intent.client_order_id]
                    if child.state is not ChildState.PENDING_CANCEL:
                        child.transition(ChildState.PENDING_CANCEL, now)
                    self.venue.cancel(intent.client_order_id, now)
            else:
                self.send(intent, now)


def run_parent(
    algo: ExecutionAlgo,
    parent: ParentOrder,
    market: MarketData,
    venue: Venue,
    *,
    start: datetime,
    tick: timedelta = timedelta(milliseconds=250),
    max_duration: timedelta | None = None,
    deny: Callable[[ChildOrder, datetime], str | None] | None = None,
    trading_allowed: Callable[[datetime], bool] | None = None,
) -> SimResult:
    """Run ``algo`` on ``parent`` from ``start`` until it is finished and nothing is working."""
    loop = _Loop(algo, parent, market, venue, deny, trading_allowed)
    limit = start + (max_duration or timedelta(minutes=parent.duration_minutes + 30))
    market.advance_to(start)
    parent.transition(ParentState.WORKING, start)
    if parent.arrival_price is None:
        try:
            parent.arrival_price = market.quote(parent.symbol).mid
        except MarketClosed:
            parent.arrival_price = None
    loop.deferred += algo.on_start(loop.context(start))
    now = start
    while now <= limit:
        market.advance_to(now)
        for event in venue.poll(now):
            loop.apply(event, now)
        ctx = loop.context(now)
        intents, loop.deferred = loop.deferred, []
        intents += algo.on_market_data(ctx) + algo.on_timer(ctx)
        loop.dispatch(intents, now)
        loop.result.ticks += 1
        filled = parent.filled_quantity >= parent.quantity
        if (filled or algo.is_finished(loop.context(now))) and not loop.working:
            loop.result.ended_at = now
            loop.result.end_reason = "filled" if filled else (
                getattr(algo, "stop_reason", None) or f"unfilled {parent.remaining}")
            parent.transition(
                ParentState.COMPLETED if filled else ParentState.CANCELED, now,
                loop.result.end_reason)
            return loop.result
        if (filled or algo.is_finished(loop.context(now))) and loop.working:
            for cid in list(loop.working):
                loop.venue.cancel(cid, now)
        now += tick
    loop.result.end_reason = f"simulation limit reached with {parent.remaining} unfilled"
    return loop.result


def total_filled(result: SimResult) -> Decimal:
    """Sum of the fills of a run (equals ``parent.filled_quantity``)."""
    return sum((f.quantity for f in result.fills), Decimal(0))
