"""The planned children of one parent, before it is sent: asked of the real algorithm.

TWAP and IS lay a fixed list of slices when they start (``plan``): the estimate builds the very
algorithm the engine would (``create_algo``, the same options and filters) on a stand-in parent
and market and reads its slices. The executor then sends each slice as one child, split into
several when it is over the child notional cap (``max_child_notional``, the fat-finger limit).
VWAP, POV and ICEBERG size their children from what the market prints and fills while they run,
so their plan is an estimate from their documented slicing, marked ``exact=False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from oms.algos.base import AlgoContext
from oms.algos.executor import notional_cap
from oms.algos.iceberg import IcebergAlgo
from oms.algos.pov import PovAlgo
from oms.algos.registry import create_algo
from oms.algos.schedule import default_slice_count, is_tradable
from oms.algos.twap import SliceScheduleAlgo
from oms.algos.vwap import VwapAlgo, profile_weights
from oms.market.types import Bar, Book, Quote
from oms.model import AlgoName, ParentOrder
from oms.model.filters import SymbolFilters

__all__ = ["PlannedSchedule", "planned_schedule"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PlannedSchedule:
    """The children a parent will send: how many, when, how big, and how sure we are."""

    children: tuple[Decimal, ...]  # quantity of each planned child, in order
    first_at: datetime
    last_at: datetime
    exact: bool  # True: the algorithm's own plan; False: estimated from its documented slicing
    basis: str  # how the plan was obtained, and why it has this many children
    participation_cap: float | None = None  # share of printed volume the algorithm stays under

    @property
    def count(self) -> int:
        """Number of planned children."""
        return len(self.children)

    @property
    def typical_child(self) -> Decimal:
        """The median child's quantity."""
        ordered = sorted(self.children)
        return ordered[len(ordered) // 2] if ordered else _ZERO

    @property
    def largest_child(self) -> Decimal:
        """The largest child's quantity."""
        return max(self.children, default=_ZERO)

    @property
    def total(self) -> Decimal:
        """What the children add up to (the parent's quantity)."""
        return sum(self.children, _ZERO)

    @property
    def horizon_min(self) -> float:
        """Minutes over which the children go out (one child: sent at once)."""
        span = (self.last_at - self.first_at) / timedelta(minutes=1)
        if self.count <= 1:
            return 0.0
        return span * self.count / (self.count - 1)  # the last child's interval counts too


class _NoHistory:
    """The market an estimate plans on: the current quote and no bars, so algorithms fall
    back to the calibrated volatility and the volume the estimate gives them."""

    def __init__(self, quote: Quote) -> None:
        self._quote = quote

    @property
    def symbols(self) -> tuple[str, ...]:
        return (self._quote.symbol,)

    def advance_to(self, ts: datetime) -> None:
        return None

    def is_open(self, symbol: str) -> bool:
        return True

    def quote(self, symbol: str) -> Quote:
        return self._quote

    def book(self, symbol: str, depth: int = 20) -> Book:
        return Book(symbol, self._quote.ts, (), ())

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        return []

    def traded_volume(self, symbol: str, start: datetime, end: datetime) -> Decimal:
        return _ZERO

    def vwap(self, symbol: str, start: datetime, end: datetime) -> Decimal | None:
        return None


def _capped(quantity: Decimal, cap: Decimal | None, price: Decimal,
            filters: SymbolFilters) -> list[Decimal]:
    """One slice as the executor sends it: pieces of at most ``cap``; an untradable rest rides
    with the last piece (the executor never leaves an unsendable rest behind)."""
    if cap is None or cap <= 0 or quantity <= cap:
        return [quantity]
    pieces = [cap] * int(quantity // cap)
    rest = quantity - cap * len(pieces)
    if rest > 0:
        if is_tradable(rest, price, filters):
            pieces.append(rest)
        else:
            pieces[-1] += rest
    return pieces


def planned_schedule(parent: ParentOrder, quote: Quote, filters: SymbolFilters, *,
                     volume_per_minute: float, max_child_notional: Decimal | None,
                     ) -> PlannedSchedule:
    """The children ``parent`` (algorithm resolved, ``created_at`` now) will send."""
    now = parent.created_at
    end = now + timedelta(minutes=parent.duration_minutes)
    price = quote.mid
    cap = notional_cap(max_child_notional, price, filters)
    cap_note = (f"; pieces over {max_child_notional} USD (the fat-finger limit per order) are "
                "split into several children" if cap is not None and parent.quantity > cap
                else "")
    if parent.algo is AlgoName.MARKET:
        pieces = _capped(parent.quantity, cap, price, filters)
        return PlannedSchedule(tuple(pieces), now, now, True,
                               f"MARKET sends the whole quantity at once{cap_note}")
    algo = create_algo(parent, seed=parent.seed or 0, filters=filters, **parent.algo_params)
    if isinstance(algo, SliceScheduleAlgo):
        return _sliced(parent, algo, quote, filters, volume_per_minute, cap, cap_note)
    if isinstance(algo, VwapAlgo):
        return _vwap(parent, algo, now, end, price, filters, cap, cap_note)
    if isinstance(algo, PovAlgo):
        return _pov(parent, algo, now, end, price, filters, volume_per_minute, cap)
    if isinstance(algo, IcebergAlgo):
        algo.plan(_context(parent, quote, filters))  # a display clears the venue minimum
        return _iceberg(parent, algo, now, end, price, filters)
    raise ValueError(f"no pre-trade plan for {parent.algo}")  # every AlgoName is covered above


def _context(parent: ParentOrder, quote: Quote, filters: SymbolFilters) -> AlgoContext:
    """What the algorithm sees at its start, on the stand-in market."""
    return AlgoContext(now=parent.created_at, parent=parent, quote=quote, filters=filters,
                       market=_NoHistory(quote))


def _sliced(parent: ParentOrder, algo: SliceScheduleAlgo, quote: Quote, filters: SymbolFilters,
            volume_per_minute: float, cap: Decimal | None, cap_note: str) -> PlannedSchedule:
    """TWAP / IS: the algorithm's own slices (``plan`` on the stand-in market)."""
    algo.started_at = parent.created_at
    algo.volume_per_minute = volume_per_minute
    algo.plan(_context(parent, quote, filters))
    children: list[Decimal] = []
    times: list[datetime] = []
    for piece in algo.slices:
        for child in _capped(piece.quantity, cap, quote.mid, filters):
            children.append(child)
            times.append(piece.due)
    name = parent.algo.value.upper()
    slices = getattr(algo, "slice_count", len(algo.slices))
    why = f"{name} plans {slices} slice{'s' if slices != 1 else ''}"
    if parent.algo is AlgoName.TWAP and getattr(algo, "slice_count", 0) == default_slice_count(
            parent.duration_minutes):
        why += (f" (default: max(1, min(20, duration_minutes // 2)) = {slices} for "
                f"{parent.duration_minutes:g} min)")
    if len(algo.slices) < slices:
        why += (f"; {slices - len(algo.slices)} merged into neighbours (below the venue minimum "
                f"{filters.min_notional} USD or {filters.min_qty})")
    why += cap_note
    if len(children) == 1:
        why += ": ONE child for the whole quantity"
    cap_share = algo.options.participation_cap
    return PlannedSchedule(tuple(children), times[0], times[-1], True, why, cap_share)


def _vwap(parent: ParentOrder, algo: VwapAlgo, now: datetime, end: datetime, price: Decimal,
          filters: SymbolFilters, cap: Decimal | None, cap_note: str) -> PlannedSchedule:
    """VWAP: one child every ``child_interval`` over the plan window (which ends early by
    min(3 intervals, 5% of the window)), sized by the volume profile of each interval."""
    window = max(end - now, timedelta(seconds=1))
    plan_end = now + window - min(algo.child_interval * 3, window * 0.05)
    interval = algo.child_interval
    count = max(1, math.ceil((plan_end - now) / interval))
    weights = profile_weights(parent.symbol, now, plan_end)  # one per (partial) minute
    per_child = [0.0] * count
    minute = timedelta(minutes=1)
    for index, weight in enumerate(weights):
        bucket = min(int(minute * index / interval), count - 1)
        per_child[bucket] += weight
    total_weight = sum(per_child) or 1.0
    children: list[Decimal] = []
    done = _ZERO
    cumulative = 0.0
    for index, weight in enumerate(per_child):
        cumulative += weight
        share = Decimal(repr(cumulative / total_weight))
        target = parent.quantity if index == count - 1 else filters.round_quantity(
            parent.quantity * share)
        piece = max(target - done, _ZERO)
        done += piece
        children.extend(_capped(piece, cap, price, filters) if piece > 0 else [])
    children = _merge_dust(children, price, filters)
    basis = (f"VWAP sizes each child from the volume the market prints while it runs; estimated "
             f"as one child every {interval.total_seconds():g} s until "
             f"{(plan_end - now).total_seconds() / 60:.1f} min in, sized by the volume profile"
             f"{cap_note}")
    return PlannedSchedule(tuple(children), now, now + interval * (count - 1), False, basis,
                           algo.options.participation_cap)


def _pov(parent: ParentOrder, algo: PovAlgo, now: datetime, end: datetime, price: Decimal,
         filters: SymbolFilters, volume_per_minute: float, cap: Decimal | None,
         ) -> PlannedSchedule:
    """POV: every child interval, ``target_rate`` of the volume printed in it."""
    interval = algo.child_interval
    rate = float(algo.target_rate)
    per_child = filters.round_quantity(
        Decimal(repr(rate * volume_per_minute * interval.total_seconds() / 60)))
    slots = max(1, int((end - now) / interval))
    children: list[Decimal] = []
    left = parent.quantity
    while left > 0 and len(children) < slots and per_child > 0:
        piece = min(per_child, left)
        children.extend(_capped(piece, cap, price, filters))
        left -= piece
    if not children:
        children = [parent.quantity]
    children = _merge_dust(children, price, filters)
    basis = (f"POV trades {rate:.0%} of the volume as it prints: estimated at "
             f"{volume_per_minute:,.2f} per minute, one child every "
             f"{interval.total_seconds():g} s")
    if left > 0:
        basis += f"; about {left} would be left unfilled at the window's end"
    return PlannedSchedule(tuple(children), now, now + interval * (len(children) - 1), False,
                           basis, rate)


def _iceberg(parent: ParentOrder, algo: IcebergAlgo, now: datetime, end: datetime,
             price: Decimal, filters: SymbolFilters) -> PlannedSchedule:
    """ICEBERG: one resting display at a time, refilled as it fills."""
    display = algo.display_quantity if algo.display_quantity > 0 else parent.quantity
    count = max(1, math.ceil(parent.quantity / display))
    children = [display] * (count - 1)
    children.append(parent.quantity - display * (count - 1))
    children = _merge_dust(children, price, filters)
    basis = (f"ICEBERG shows {display} at a time and refills as it fills: {len(children)} "
             "displays if every one fills (when they fill depends on the market)")
    return PlannedSchedule(tuple(children), now, end, False, basis)


def _merge_dust(children: list[Decimal], price: Decimal, filters: SymbolFilters,
                ) -> list[Decimal]:
    """Untradable pieces ride with the previous one (the executor never sends dust)."""
    merged: list[Decimal] = []
    for child in children:
        if merged and not is_tradable(child, price, filters):
            merged[-1] += child
        else:
            merged.append(child)
    return merged
