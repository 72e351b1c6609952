"""VenueSet: several venues behind the one ``Venue`` the engine holds.

The engine keeps its seams: it sees one venue. Each child carries the name of the venue it goes
to (``ChildOrder.venue``, chosen by the router before the child's row is committed); the set
sends it there, routes its cancel and its queries to the same venue, and merges every venue's
events in time order. Balances are the sum over venues per asset (``balances``), and kept per
venue (``venue_balances``). The kill switch acts on all: the halt gate is shared, and
``cancel_all`` asks every venue.

A venue outage degrades that venue only: ``VenueHealth`` counts failures (unreachable, rejects,
slow acknowledgements) in a sliding window; past the threshold the venue is unhealthy for a
cool-down and the router sends nothing there, while the others keep trading. A child already
committed for a venue is never re-sent elsewhere (its row names that venue, and a restart asks
that venue about it): it is refused, and the algorithm re-plans the rest.

``filters(symbol)`` answers the strictest rules of all venues (the largest tick, step and minimum
notional, the tightest maxima), so whatever an algorithm rounds is valid on every venue.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from oms.errors import ConfigError, VenueRejected, VenueUnavailable
from oms.model.orders import ChildOrder
from oms.risk.halt import HaltGate
from oms.venues.base import Balance, OrderStatusReport, Venue, VenueOrder
from oms.venues.events import OrderAccepted, OrderRejected, VenueEvent
from oms.venues.filters import SymbolFilters

__all__ = ["HealthSettings", "VenueHealth", "VenueSet", "VenueTerms", "split_evenly", "strictest"]

_ZERO = Decimal(0)


_SHARE_QUANTUM = Decimal("0.00000001")  # balances are split to 8 decimals (the rest: the first)


def split_evenly(totals: Mapping[str, Decimal], parts: int) -> list[dict[str, Decimal]]:
    """``totals`` in ``parts`` equal shares (rounded down to 8 decimals, the first share taking
    the remainder), so that the shares add up to the totals exactly."""
    shares: list[dict[str, Decimal]] = [{} for _ in range(parts)]
    for asset, amount in totals.items():
        each = (amount / parts).quantize(_SHARE_QUANTUM, rounding=ROUND_DOWN)
        for share in shares:
            share[asset] = each
        shares[0][asset] = amount - each * (parts - 1)
    return shares


def strictest(rules: Sequence[SymbolFilters]) -> SymbolFilters:
    """One symbol's rules that every venue's accept: largest increments and minima, smallest
    maxima (a maximum of 0, "none", never tightens another)."""
    first = rules[0]
    if len(rules) == 1:
        return first

    def low_max(values: Iterable[Decimal]) -> Decimal:
        set_ = [v for v in values if v > 0]
        return min(set_) if set_ else _ZERO

    return replace(
        first,
        tick_size=max(r.tick_size for r in rules), step_size=max(r.step_size for r in rules),
        min_qty=max(r.min_qty for r in rules), max_qty=min(r.max_qty for r in rules),
        min_price=max(r.min_price for r in rules), max_price=min(r.max_price for r in rules),
        min_notional=max(r.min_notional for r in rules),
        max_notional=low_max(r.max_notional for r in rules),
        max_num_orders=min(r.max_num_orders for r in rules),
        bid_multiplier_up=min(r.bid_multiplier_up for r in rules),
        bid_multiplier_down=max(r.bid_multiplier_down for r in rules),
        ask_multiplier_up=min(r.ask_multiplier_up for r in rules),
        ask_multiplier_down=max(r.ask_multiplier_down for r in rules),
        market_min_qty=max(r.market_min_qty for r in rules),
        market_max_qty=low_max(r.market_max_qty for r in rules),
        market_step_size=max(r.market_step_size for r in rules),
        apply_min_to_market=any(r.apply_min_to_market for r in rules),
        apply_max_to_market=any(r.apply_max_to_market for r in rules))


@dataclass(frozen=True, slots=True)
class VenueTerms:
    """What the router is told of a venue besides its book: fees, latency, and the chance a
    resting order at its touch fills in time."""

    maker_fee_bps: float
    taker_fee_bps: float
    latency_ms: float
    passive_fill_probability: float = 0.8


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """When a venue counts as sick: ``failures`` within ``window``, or an acknowledgement
    slower than ``slow_ack``, makes it unhealthy for ``cooldown``."""

    failures: int = 3
    window: timedelta = timedelta(seconds=60)
    cooldown: timedelta = timedelta(seconds=120)
    slow_ack: timedelta = timedelta(seconds=5)


@dataclass(slots=True)
class VenueHealth:
    """Failures of one venue in a sliding window, and the cool-down they caused."""

    settings: HealthSettings
    failures: deque[datetime] = field(default_factory=deque)
    sick_until: datetime | None = None
    reason: str = ""

    def failed(self, now: datetime, reason: str) -> None:
        """A failure at ``now`` (an outage, a reject, a slow acknowledgement)."""
        failures = self.failures
        failures.append(now)
        while failures and now - failures[0] > self.settings.window:
            failures.popleft()
        if len(failures) >= self.settings.failures or reason.startswith("unreachable"):
            self.sick_until = now + self.settings.cooldown
            self.reason = f"{reason} ({len(failures)} failure(s) in "\
                          f"{self.settings.window.total_seconds():.0f} s)"

    def healthy(self, now: datetime) -> bool:
        """False while the cool-down of the last trip runs."""
        return self.sick_until is None or now >= self.sick_until


class VenueSet(Venue):
    """Several venues as one (module docstring); engine thread only, like every venue."""

    def __init__(self, gate: HaltGate, venues: Sequence[Venue], *,
                 terms: Mapping[str, VenueTerms] | None = None,
                 health: HealthSettings | None = None, split_balances: bool = True) -> None:
        super().__init__(gate)
        names = [v.name for v in venues]
        if not venues:
            raise ConfigError("venues: at least one venue is needed")
        if len(set(names)) != len(names):
            raise ConfigError(f"venues: a venue is listed twice ({', '.join(names)})")
        self.name = "+".join(names)
        self.venues: dict[str, Venue] = {v.name: v for v in venues}
        self.terms = {name: (terms or {}).get(name) or VenueTerms(10.0, 10.0, 20.0)
                      for name in names}
        self.health = {name: VenueHealth(health or HealthSettings()) for name in names}
        self._owner: dict[str, str] = {}  # client order id -> venue name
        self._sent_at: dict[str, datetime] = {}  # awaiting an acknowledgement
        self._filters: dict[str, SymbolFilters] = {}
        self._now: datetime | None = None
        self.split_balances = split_balances

    # -- which venue ---------------------------------------------------------------------
    def venue_of(self, client_order_id: str) -> Venue | None:
        """The venue a child was sent to (None if this set never sent or adopted it)."""
        name = self._owner.get(client_order_id)
        return None if name is None else self.venues[name]

    def healthy(self, name: str, now: datetime) -> bool:
        """True unless the venue's health breaker is in its cool-down."""
        return self.health[name].healthy(now)

    def _venue_for(self, order: ChildOrder) -> Venue:
        venue = self.venues.get(order.venue)
        if venue is None:
            raise VenueRejected(f"no venue {order.venue!r} in this set ({self.name})",
                                code=-1121)
        return venue

    # -- orders --------------------------------------------------------------------------
    def _send(self, order: ChildOrder, now: datetime) -> None:
        self._now = now
        venue = self._venue_for(order)
        try:
            venue.submit(order, now)
        except VenueUnavailable as exc:
            self.health[venue.name].failed(now, f"unreachable: {exc}")
            raise
        self._owner[order.client_order_id] = venue.name
        self._sent_at[order.client_order_id] = now

    def cancel(self, client_order_id: str, now: datetime) -> None:
        """Cancel at the venue that holds the order (each venue asked when none is known)."""
        venue = self.venue_of(client_order_id)
        targets = [venue] if venue is not None else list(self.venues.values())
        for target in targets:
            try:
                target.cancel(client_order_id, now)
            except VenueUnavailable as exc:
                self.health[target.name].failed(now, f"unreachable: {exc}")
                if venue is not None:
                    raise

    def cancel_all(self, now: datetime, symbol: str | None = None) -> list[str]:
        """Every venue's open orders (of ``symbol``), each asked at its own venue."""
        asked: list[str] = []
        for venue in self.venues.values():
            asked += venue.cancel_all(now, symbol)
        return asked

    def open_order_ids(self, symbol: str | None = None) -> list[str]:
        return [cid for venue in self.venues.values() for cid in venue.open_order_ids(symbol)]

    def poll(self, now: datetime) -> list[VenueEvent]:
        """Every venue's events up to ``now``, merged in time order."""
        self._now = now
        batches = []
        for name, venue in self.venues.items():
            try:
                events = venue.poll(now)
            except VenueUnavailable as exc:
                self.health[name].failed(now, f"unreachable: {exc}")
                continue
            if events:
                self._observe(name, events, now)
                batches.append(events)
        if len(batches) == 1:
            return batches[0]
        return list(heapq.merge(*batches, key=lambda e: e.ts))

    def _observe(self, name: str, events: list[VenueEvent], now: datetime) -> None:
        """Rejects and slow acknowledgements count against the venue's health."""
        health = self.health[name]
        slow = health.settings.slow_ack
        for event in events:
            sent = self._sent_at.pop(event.client_order_id, None) \
                if isinstance(event, OrderAccepted | OrderRejected) else None
            if isinstance(event, OrderRejected):
                health.failed(now, f"rejected {event.code}")
            elif sent is not None and event.ts - sent > slow:
                health.failed(now, f"acknowledged after {(event.ts - sent).total_seconds():.1f} s")

    def query(self, client_order_id: str) -> OrderStatusReport | None:
        venue = self.venue_of(client_order_id)
        if venue is not None:
            return venue.query(client_order_id)
        for candidate in self.venues.values():
            report = candidate.query(client_order_id)
            if report is not None:
                return report
        return None

    def filters(self, symbol: str) -> SymbolFilters:
        """The strictest rules of ``symbol`` over all venues (module docstring)."""
        rules = self._filters.get(symbol)
        if rules is None:
            rules = self._filters[symbol] = strictest(
                [v.filters(symbol) for v in self.venues.values()])
        return rules

    def adopt(self, working: dict[str, ChildOrder]) -> set[str]:
        """After a restart: each venue adopts the children whose rows name it."""
        kept: set[str] = set()
        for name, venue in self.venues.items():
            mine = {cid: c for cid, c in working.items() if c.venue == name}
            for cid in venue.adopt(mine):
                self._owner[cid] = name
                kept.add(cid)
        return kept

    # -- the account -----------------------------------------------------------------------
    def venue_balances(self) -> dict[str, dict[str, Balance]]:
        """Balances per venue, then per asset."""
        return {name: venue.balances() for name, venue in self.venues.items()}

    def balances(self) -> dict[str, Balance]:
        """The sum over venues, per asset."""
        total: dict[str, Balance] = {}
        for balances in self.venue_balances().values():
            for asset, balance in balances.items():
                held = total.get(asset)
                total[asset] = balance if held is None else Balance(
                    held.free + balance.free, held.locked + balance.locked)
        return total

    def set_balances(self, totals: Mapping[str, Decimal]) -> None:
        """The account's ``totals`` split equally across the venues (the sum over venues is the
        account), or each venue holding them all (``split_balances`` False: comparisons)."""
        if not self.split_balances:
            for venue in self.venues.values():
                venue.set_balances(totals)
            return
        for venue, share in zip(self.venues.values(), split_evenly(totals, len(self.venues)),
                                strict=True):
            venue.set_balances(share)

    def open_orders(self, now: datetime) -> list[VenueOrder]:
        return [order for venue in self.venues.values() for order in venue.open_orders(now)]

    def follow(self, order: ChildOrder) -> bool:
        venue = self.venues.get(order.venue)
        if venue is None or not venue.follow(order):
            return False
        self._owner[order.client_order_id] = venue.name
        return True

    # -- persistence, status -----------------------------------------------------------------
    def state_changes(self) -> dict[str, dict[str, dict[str, Any] | None]] | None:
        merged: dict[str, dict[str, dict[str, Any] | None]] = {}
        for venue in self.venues.values():
            for table, rows in (venue.state_changes() or {}).items():
                merged.setdefault(table, {}).update(rows)
        return merged or None

    def restore(self, load: Callable[[str], list[dict[str, Any]]], now: datetime) -> bool:
        restored = [venue.restore(load, now) for venue in self.venues.values()]
        return any(restored)

    def status_text(self) -> str:
        now = self._now
        parts = []
        for name, venue in self.venues.items():
            health = self.health[name]
            text = venue.status_text()
            if now is not None and not health.healthy(now):
                text = f"UNHEALTHY: {health.reason}"
            parts.append(f"{name} {text}")
        return " · ".join(parts)

    def close(self) -> None:
        for venue in self.venues.values():
            venue.close()
