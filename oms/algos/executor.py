"""The target-following executor shared by TWAP, VWAP, IS, POV and MARKET.

Each algorithm says only *how much* should be done (filled or working) by now, and by when the
current slice must be done; this base class turns that into children, once per tick, from
``on_timer`` only (so one tick never sends twice). Every child intent carries an id
(``f"{algo}-{n}"``, deterministic, unique within the parent) that the engine copies onto the child;
the executor keeps a ledger of the intents no child has answered yet, so a child the engine has
not materialised yet is never sent again, and it matches each child to its request by that id
(``child_for``). A child whose intent id it never issued is not its own: its fills, rejections and
cancels do not move the executor (the parent's quantities still count it).

Behaviour every algorithm inherits:
- partial fills: the unfilled rest stays in the deficit and is re-sent by the schedule;
- passive children still working near their deadline are canceled and the rest crossed (MARKET);
- throttling (rate limits, duplicates): wait with exponential back-off, never a reason to stop;
- rejections: back off exponentially; on a size-related reason (risk notional/position, lot size)
  halve the child size; after ``max_rejects`` consecutive rejections stop (``stop_reason``
  says why);
- cancels from outside (operator, kill switch) are simply re-planned by the deficit;
- halted engine (``trading_allowed`` False) or closed market: no new child, cancels only;
- end of window: working children are canceled and the algorithm finishes; the engine reports
  whatever is unfilled. A rest below the venue minimum is never sent to be rejected.

Restart (``resume``): the algorithm is rebuilt from its parent and the parent's children. Intent
ids continue after the highest one the children answer (never reused); what is filled or still
working becomes the plan's ``base``, and the rest (``plan_quantity``) is planned again from now
over what is left of the window, with a generator seeded by the parent's seed and the resume
instant (the same restart replays the same children). Past the window's end (or with less than
``CATCH_UP`` of it left) the catch-up rule applies: an algorithm that ``catches_up`` crosses the
rest at once (MARKET) within ``CATCH_UP``; one that does not (POV, an iceberg that never crosses)
ends as at its window's end, with the rest reported unfilled.
"""

from __future__ import annotations

import random
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.algos.base import AlgoContext, CancelIntent, ChildIntent, ExecutionAlgo, Intent
from oms.algos.placement import PlacementPolicy, aggressive_child, passive_child
from oms.algos.schedule import is_tradable
from oms.model.enums import OrderType
from oms.model.orders import ChildOrder, Fill, ParentOrder
from oms.venues.filters import SymbolFilters

__all__ = ["CATCH_UP", "ExecutorOptions", "TargetExecutor", "notional_cap"]

ZERO = Decimal(0)
CATCH_UP = timedelta(seconds=60)  # a parent resumed this close to (or past) its end crosses
MAX_SLEEP = timedelta(seconds=30)  # the longest an idle algorithm goes without being called
_OPTION_NAMES = frozenset({
    "placement", "cross_margin_s", "min_passive_life_s", "max_child_notional",
    "min_child_interval_s", "participation_cap", "max_rejects", "retry_base_s",
})
_RATE_REASONS = ("RATE", "-1003", "-1015", "TOO MANY", "DUPLICATE")
_SIZE_REASONS = ("NOTIONAL", "POSITION", "QUANTITY", "LOT_SIZE", "EXPOSURE", "INSUFFICIENT")


@dataclass(frozen=True, slots=True)
class ExecutorOptions:
    """Options common to every target-following algorithm (from ``create_algo`` keywords)."""

    placement: PlacementPolicy = field(default_factory=PlacementPolicy)
    max_child_notional: Decimal | None = None
    min_child_interval: timedelta = timedelta(0)
    participation_cap: float | None = None
    max_rejects: int = 6
    retry_base: timedelta = timedelta(seconds=2)
    retry_max: timedelta = timedelta(seconds=60)

    @classmethod
    def from_options(cls, options: dict[str, Any], **defaults: Any) -> ExecutorOptions:
        """Build from keyword options; an unknown key raises TypeError (like a bad keyword)."""
        merged = {**defaults, **options}
        unknown = sorted(set(merged) - _OPTION_NAMES)
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(unknown)}")
        style = merged.get("placement", "passive")
        if style not in ("passive", "aggressive"):
            raise ValueError(f"placement must be passive or aggressive, got {style!r}")
        placement = PlacementPolicy(
            style=style,
            cross_margin=timedelta(seconds=float(merged.get("cross_margin_s", 30.0))),
            min_passive_life=timedelta(seconds=float(merged.get("min_passive_life_s", 10.0))),
        )
        cap = merged.get("participation_cap")
        notional = merged.get("max_child_notional")
        return cls(
            placement=placement,
            max_child_notional=None if notional is None else Decimal(str(notional)),
            min_child_interval=timedelta(seconds=float(merged.get("min_child_interval_s", 0.0))),
            participation_cap=None if cap is None else float(cap),
            max_rejects=int(merged.get("max_rejects", 6)),
            retry_base=timedelta(seconds=float(merged.get("retry_base_s", 2.0))),
        )


def notional_cap(max_child_notional: Decimal | None, price: Decimal,
                 filters: SymbolFilters) -> Decimal | None:
    """The largest child quantity under ``max_child_notional`` at ``price`` (None: no cap)."""
    if max_child_notional is None or price <= 0:
        return None
    return filters.round_quantity(max_child_notional / price)


@dataclass(slots=True)
class _Asked:
    """A child we asked for and no ChildOrder has answered yet."""

    quantity: Decimal
    cross_at: datetime | None  # passive children: when to cancel and cross


class TargetExecutor(ExecutionAlgo):
    """Base of the target-following algorithms; subclasses define the target and its deadline."""

    def __init__(
        self,
        parent: ParentOrder,
        *,
        seed: int = 0,
        filters: SymbolFilters,
        options: ExecutorOptions | None = None,
    ) -> None:
        super().__init__(parent, seed=seed)
        self.filters = filters
        self.options = options or ExecutorOptions()
        self.rng = random.Random(seed)
        self.stop_reason: str | None = None
        self.started_at: datetime | None = None
        self.last_price: Decimal | None = None
        self.volume_per_minute: float | None = None  # recent market volume, for caps and plans
        self._asked: dict[str, _Asked] = {}  # intent id -> request no child answered yet
        self._answered: dict[str, str] = {}  # intent id -> client order id of its child
        self._foreign: set[str] = set()  # client order ids of children that are not ours
        self._cross_at: dict[str, datetime] = {}
        self._cancel_sent: set[str] = set()
        self._cross_owed = ZERO
        self._rejects = 0
        self._throttles = 0
        self._retry_at: datetime | None = None
        self._max_child: Decimal | None = None
        self._last_child_at: datetime | None = None
        self._children_sent = 0
        self.planned = False
        self.crosses = True  # False: passive children rest until the window ends (iceberg)
        self.base = ZERO  # filled or working when the plan was made (non-zero after a resume)
        self._at_target = False  # the last _next_child found nothing owed
        self.resumed_at: datetime | None = None
        self._resume_end: datetime | None = None  # the catch-up window of a late resume

    # ----- what subclasses define -------------------------------------------------------------

    @abstractmethod
    def plan(self, ctx: AlgoContext) -> None:
        """Build the schedule (called once from ``on_start``)."""

    @abstractmethod
    def target_quantity(self, ctx: AlgoContext) -> Decimal:
        """Cumulative quantity that should be filled or working by ``ctx.now``."""

    @abstractmethod
    def slice_deadline(self, ctx: AlgoContext) -> tuple[datetime, timedelta]:
        """When the current slice must be done, and the length of its interval."""

    def size_cap(self, ctx: AlgoContext) -> Decimal | None:
        """Largest child allowed now (default: no algorithm-specific cap)."""
        return None

    def next_target_change(self, ctx: AlgoContext) -> datetime | None:
        """When ``target_quantity`` next grows, if it depends on time only (a schedule); None
        when it may grow at any tick (volume-driven targets): the algorithm is then called
        every tick while it is at its target."""
        return None

    def passive_intent(self, ctx: AlgoContext, quantity: Decimal, tag: str) -> ChildIntent:
        """The child resting at our own touch (default: LIMIT at the bid for a buy)."""
        assert ctx.quote is not None  # _blocked() returned early otherwise
        return passive_child(quantity, self.parent.side, ctx.quote, self.filters, tag)

    def min_child_quantity(self, ctx: AlgoContext) -> Decimal:
        """Smallest child worth sending before the rest is due (default: none)."""
        return ZERO

    def aggressive_intent(self, ctx: AlgoContext, quantity: Decimal, tag: str) -> ChildIntent:
        """The child sent to take liquidity (default: MARKET)."""
        return aggressive_child(quantity, tag)

    def window_end(self, ctx: AlgoContext) -> datetime:
        """When this algorithm stops sending (the parent's window, or a late resume's catch-up
        window)."""
        return ctx.window_end if self._resume_end is None else self._resume_end

    @property
    def plan_quantity(self) -> Decimal:
        """What the plan has to execute: the parent's quantity less the ``base``."""
        return self.parent.quantity - self.base

    def catches_up(self) -> bool:
        """Whether a parent resumed past its window crosses its rest (default) or just ends."""
        return self.crosses

    # ----- engine callbacks -------------------------------------------------------------------

    def on_start(self, ctx: AlgoContext) -> list[Intent]:
        """Learn the recent volume, build the plan and send what is due at once."""
        self.started_at = ctx.parent.started_at or ctx.now
        self._observe_market(ctx)
        bars = ctx.market.bars(ctx.parent.symbol, ctx.now - timedelta(minutes=60), ctx.now)
        if bars:
            self.volume_per_minute = sum(b.volume for b in bars) / len(bars)
        self._plan_when_priced(ctx)
        return self.on_timer(ctx)

    def resume(self, ctx: AlgoContext, history: Sequence[ChildOrder]) -> list[Intent]:
        """Rebuild from the parent's children and re-plan the rest over the rest of the window
        (see the module docstring)."""
        self.resumed_at = ctx.now
        self.rng = random.Random(f"{self.seed}:{ctx.now.isoformat()}")
        numbers = [len(history)]
        for child in history:
            if child.intent_id is not None:
                self._answered[child.intent_id] = child.client_order_id
                tail = child.intent_id.rsplit("-", 1)[-1]
                numbers.append(int(tail) if tail.isdigit() else 0)
        self._children_sent = max(numbers)
        self.base = ctx.parent.filled_quantity + ctx.working_quantity
        late = ctx.now + CATCH_UP >= ctx.window_end
        if late and self.catches_up():
            self._resume_end = max(ctx.window_end, ctx.now + CATCH_UP)
            self._cross_owed = max(self.plan_quantity, ZERO)
        self.started_at = ctx.now  # the new plan starts now; the parent keeps its start
        self._observe_market(ctx)
        bars = ctx.market.bars(ctx.parent.symbol, ctx.now - timedelta(minutes=60), ctx.now)
        if bars:
            self.volume_per_minute = sum(b.volume for b in bars) / len(bars)
        self._plan_when_priced(ctx)
        if self.planned and self.crosses:
            deadline, interval = self.slice_deadline(ctx)
            cross_at = (min(deadline, self.window_end(ctx))
                        - self.options.placement.margin_for(interval))
            for child in ctx.working_children:
                if child.order_type is not OrderType.MARKET:
                    self._cross_at[child.client_order_id] = max(cross_at, ctx.now)
        return self.on_timer(ctx)

    def _plan_when_priced(self, ctx: AlgoContext) -> None:
        """Plan once a price is known (slices are merged by notional, which needs a price)."""
        if self.planned:
            return
        if ctx.quote is None and self.last_price is None and ctx.parent.arrival_price is None:
            return  # market closed at the start: plan on the first quote
        if self.plan_quantity > 0:  # a resumed parent may have nothing left to plan
            self.plan(ctx)
        self.planned = True

    def on_market_data(self, ctx: AlgoContext) -> list[Intent]:
        """Remember the last price; children are only sent from ``on_timer``."""
        self._observe_market(ctx)
        return []

    def on_timer(self, ctx: AlgoContext) -> list[Intent]:
        """Cancel stale passive children, then send what the target asks for; with nothing to
        do until a known instant, sleep until then (``wake_at``)."""
        intents = self._timer(ctx)
        quiet = all(isinstance(i, ChildIntent) for i in intents)  # no cancel on its way
        self.wake_at = self._next_wake(ctx) if quiet else None
        return intents

    def _next_wake(self, ctx: AlgoContext) -> datetime | None:
        """The earliest instant something may be due, when only time can make it due: blocked
        by a back-off or the child interval, or at the target of a time-only schedule; no
        passive request unanswered (its cross time is learnt when its child is adopted); never
        past the window's end or a passive child's cross time."""
        if self.stop_reason is not None or not self.planned or any(
                a.cross_at is not None for a in self._asked.values()):
            return None
        if not ctx.trading_allowed or ctx.quote is None:
            return None  # blocked by the account or the market: they may change at any tick
        now = ctx.now
        if self._retry_at is not None and now < self._retry_at:
            wake = self._retry_at
        elif (self._cross_owed <= 0 and self._last_child_at is not None
              and now - self._last_child_at < self.options.min_child_interval):
            wake = self._last_child_at + self.options.min_child_interval
        elif self._at_target:
            change = self.next_target_change(ctx)
            if change is None:
                return None
            wake = change
        else:
            return None
        wake = min(wake, self.window_end(ctx), now + MAX_SLEEP)
        for child in ctx.working_children:
            cross_at = self._cross_at.get(child.client_order_id)
            if cross_at is not None:
                wake = min(wake, cross_at)
        return wake if wake > now else None

    def _timer(self, ctx: AlgoContext) -> list[Intent]:
        self._at_target = False
        self._observe_market(ctx)
        self._adopt_all(ctx)
        self._plan_when_priced(ctx)
        intents: list[Intent] = []
        if ctx.now >= self.window_end(ctx) or self.stop_reason is not None:
            if self.stop_reason is None and ctx.parent.remaining > 0:
                self.stop_reason = (
                    f"window ended with {ctx.parent.remaining} of {ctx.parent.quantity} unfilled"
                )
            return self._cancel_working(ctx, "window end")
        for child in ctx.working_children:
            cross_at = self._cross_at.get(child.client_order_id)
            if cross_at is not None and ctx.now >= cross_at:
                intents.extend(self._cancel(child, "cross"))
        if self._blocked(ctx) or not self.planned:
            return intents
        child_intent = self._next_child(ctx)
        if child_intent is not None:
            intents.append(child_intent)
        return intents

    def on_fill(self, ctx: AlgoContext, child: ChildOrder, fill: Fill) -> list[Intent]:
        """A fill of one of our children resets the rejection count (we are accepted again).
        It does not wake the algorithm: filled or working, the quantity is outstanding."""
        if not self._adopt(child):
            return []
        self._rejects = 0
        self._throttles = 0
        self.last_price = fill.price
        return []

    def on_reject(self, ctx: AlgoContext, child: ChildOrder, reason: str) -> list[Intent]:
        """Back off, shrink on size reasons, stop after too many; the deficit re-sends later.
        A child that is not ours is ignored (it says nothing about our requests)."""
        self.wake_at = None
        if not self._adopt(child):
            return []
        self._cross_at.pop(child.client_order_id, None)
        upper = reason.upper()
        if any(code in upper for code in _RATE_REASONS):
            # throttled, not refused: wait and retry; it does not count towards stopping
            self._throttles += 1
            delay = min(self.options.retry_base * (2 ** min(self._throttles - 1, 8)),
                        self.options.retry_max)
            self._retry_at = ctx.now + delay
            return []
        self._rejects += 1
        delay = min(self.options.retry_base * (2 ** (self._rejects - 1)), self.options.retry_max)
        self._retry_at = ctx.now + delay
        if child.order_type is not OrderType.MARKET and self.crosses:
            self._cross_owed += child.quantity  # a refused passive order is retried as MARKET
        if any(code in upper for code in _SIZE_REASONS):
            smaller = self._round(child.quantity / 2)
            self._max_child = smaller
            if not is_tradable(smaller, self._price(ctx), self.filters):
                self.stop_reason = f"rejected and cannot shrink below the venue minimum: {reason}"
        if self._rejects >= self.options.max_rejects:
            self.stop_reason = f"stopped after {self._rejects} consecutive rejections: {reason}"
        return []

    def on_cancel(self, ctx: AlgoContext, child: ChildOrder) -> list[Intent]:
        """A passive child we canceled at its deadline owes a cross of its unfilled rest."""
        self.wake_at = None
        if not self._adopt(child):
            return []
        if self._cross_at.pop(child.client_order_id, None) is not None and (
            child.client_order_id in self._cancel_sent
        ):
            self._cross_owed += child.remaining
        return []

    def is_finished(self, ctx: AlgoContext) -> bool:
        """Filled, stopped, or past the window."""
        return (
            ctx.parent.remaining <= 0
            or self.stop_reason is not None
            or ctx.now >= self.window_end(ctx)
        )

    # ----- internals --------------------------------------------------------------------------

    def _observe_market(self, ctx: AlgoContext) -> None:
        if ctx.quote is not None:
            self.last_price = ctx.quote.mid

    def _price(self, ctx: AlgoContext) -> Decimal:
        if ctx.quote is not None:
            return ctx.quote.mid
        if self.last_price is not None:
            return self.last_price
        return ctx.parent.arrival_price or ctx.parent.decision_price or Decimal(1)

    def _round(self, quantity: Decimal) -> Decimal:
        return self.filters.round_quantity(quantity)

    def child_for(self, intent_id: str) -> str | None:
        """The client order id of the child that answers ``intent_id`` (None until one has)."""
        return self._answered.get(intent_id)

    def owns(self, child: ChildOrder) -> bool:
        """True when ``child`` answers one of this algorithm's intents."""
        return self._adopt(child)

    def _adopt(self, child: ChildOrder) -> bool:
        """Match ``child`` to the request it answers, by intent id; False if it is not ours."""
        intent_id = child.intent_id
        if intent_id is None or child.client_order_id in self._foreign:
            return False
        if self._answered.get(intent_id) == child.client_order_id:
            return True
        asked = self._asked.pop(intent_id, None)
        if asked is None:  # an id we never issued (or one another child answered): not ours
            self._foreign.add(child.client_order_id)
            return False
        self._answered[intent_id] = child.client_order_id
        if asked.cross_at is not None and child.order_type is not OrderType.MARKET:
            self._cross_at[child.client_order_id] = asked.cross_at
        return True

    def _adopt_all(self, ctx: AlgoContext) -> None:
        for child in ctx.working_children:
            self._adopt(child)

    def _cancel(self, child: ChildOrder, reason: str) -> list[Intent]:
        if child.client_order_id in self._cancel_sent:
            return []
        self._cancel_sent.add(child.client_order_id)
        return [CancelIntent(child.client_order_id, reason)]

    def _cancel_working(self, ctx: AlgoContext, reason: str) -> list[Intent]:
        intents: list[Intent] = []
        for child in ctx.working_children:
            intents.extend(self._cancel(child, reason))
        return intents

    def _blocked(self, ctx: AlgoContext) -> bool:
        if not ctx.trading_allowed or ctx.quote is None:
            return True
        if self._retry_at is not None and ctx.now < self._retry_at:
            return True
        interval = self.options.min_child_interval
        return (
            self._cross_owed <= 0
            and self._last_child_at is not None
            and ctx.now - self._last_child_at < interval
        )

    def _outstanding(self, ctx: AlgoContext) -> Decimal:
        asked = sum((a.quantity for a in self._asked.values()), ZERO)
        return ctx.parent.filled_quantity + ctx.working_quantity + asked

    def _participation_room(self, ctx: AlgoContext, outstanding: Decimal) -> Decimal | None:
        cap = self.options.participation_cap
        if cap is None or self.started_at is None:
            return None
        traded = float(ctx.market.traded_volume(ctx.parent.symbol, self.started_at, ctx.now))
        allowance = traded + (self.volume_per_minute or 0.0)  # one minute of look-ahead
        return Decimal(repr(cap * allowance)) - outstanding

    def _next_child(self, ctx: AlgoContext) -> Intent | None:
        price = self._price(ctx)
        outstanding = self._outstanding(ctx)
        unsent = ctx.parent.quantity - outstanding
        if unsent <= 0:
            self._at_target = True  # everything is filled or working
            return None
        target = min(self.target_quantity(ctx), ctx.parent.quantity)
        deficit = max(target - outstanding, self._cross_owed)
        self._at_target = deficit <= 0
        if self._at_target:
            return None
        owed = deficit
        room = self._participation_room(ctx, outstanding)
        if room is not None:
            deficit = min(deficit, room)
        quantity = self._round(min(deficit, unsent))
        for cap in (self._max_child, self.size_cap(ctx), self._notional_cap(price)):
            if cap is not None:
                quantity = min(quantity, cap)
        rest = self._round(unsent) - quantity
        if rest > 0 and not is_tradable(rest, price, self.filters) and quantity > 0:
            quantity += rest  # never leave an unsendable rest behind
        floor = self.min_child_quantity(ctx)
        if quantity < floor and quantity < self._round(unsent) and self._cross_owed <= 0:
            return None
        if not is_tradable(quantity, price, self.filters):
            self._cross_owed = ZERO  # a dust rest rides with the next slice instead
            if not ctx.working_children and not self._asked and (
                not is_tradable(self._round(unsent), price, self.filters)
            ):
                self.stop_reason = f"{unsent} left is below the venue minimum"
            return None
        deadline, interval = self.slice_deadline(ctx)
        cross_at = min(deadline, self.window_end(ctx)) - self.options.placement.margin_for(interval)
        tag = f"{self.parent.algo.value}-{self._children_sent + 1}"  # also the intent's id
        placement = self.options.placement
        passive = self._cross_owed <= 0 and placement.style == "passive" and (
            not self.crosses or placement.wants_passive(ctx.now, cross_at)
        )
        if passive:
            intent = self.passive_intent(ctx, quantity, tag)
            asked = _Asked(quantity, cross_at if self.crosses else None)
        else:
            intent = self.aggressive_intent(ctx, quantity, tag)
            asked = _Asked(quantity, None)
            self._cross_owed = max(self._cross_owed - quantity, ZERO)
        if intent.intent_id in self._asked or intent.intent_id in self._answered:
            raise ValueError(f"{type(self).__name__}: intent id {intent.intent_id!r} reused")
        self._asked[intent.intent_id] = asked
        # this child takes the target: nothing more is owed until the target grows
        self._at_target = quantity >= owed and self._cross_owed <= 0
        self._last_child_at = ctx.now
        self._children_sent += 1
        return intent

    def _notional_cap(self, price: Decimal) -> Decimal | None:
        return notional_cap(self.options.max_child_notional, price, self.filters)

