"""Iceberg: one resting LIMIT child showing only ``display_quantity``, refilled as it fills.

The price is ``parent.limit_price`` when given (a buy rests at min(bid, limit), a sell at
max(ask, limit)), otherwise our own touch at each refill. Each refill's size is randomised by
``display_jitter`` (seeded) so the refills are not an obvious pattern.

Re-pricing: a display the market has left behind (the touch moved away from it: above a resting
buy, below a resting sell) is canceled and shown again at the new touch, once it has rested
``min_passive_life_s`` (default 10 s, so a jittery touch does not churn orders) and either

- the touch is ``reprice_bps`` (default 1 bps) or more away from its price, or
- it has rested ``reprice_after_s`` (default 60 s) away from the touch, by any distance.

Never past the parent's limit: a display already resting at the limit stays. ``None`` turns a
rule off. A re-priced display's unfilled rest goes back to the hidden quantity (it is not
crossed).

End: with ``cross_at_end`` the display is canceled ``cross_margin_s`` (default 30 s) before the
window's end and the whole rest crossed at once (MARKET; a LIMIT IOC at the parent's limit when
it has one), so the parent finishes by its end time. Without it the iceberg never takes
liquidity: at the window's end the display is canceled and the parent's end reason says what is
unfilled and why (resting only, the touch beyond the limit when the limit bound, how many
displays were re-priced).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.algos.base import AlgoContext, ChildIntent, Intent
from oms.algos.executor import ExecutorOptions, TargetExecutor
from oms.algos.placement import aggressive_child
from oms.model.enums import OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder, ParentOrder
from oms.venues.filters import SymbolFilters

__all__ = ["IcebergAlgo"]

_BPS = Decimal(10_000)


class IcebergAlgo(TargetExecutor):
    """Shows a small display quantity at a time; the rest stays hidden in the algorithm."""

    def __init__(
        self,
        parent: ParentOrder,
        *,
        seed: int = 0,
        filters: SymbolFilters,
        display_quantity: Decimal | str | float | None = None,
        display_share: float = 0.1,
        display_jitter: float = 0.2,
        cross_at_end: bool = False,
        reprice_bps: float | None = 1.0,
        reprice_after_s: float | None = 60.0,
        **options: Any,
    ) -> None:
        options["placement"] = "passive"
        super().__init__(
            parent, seed=seed, filters=filters, options=ExecutorOptions.from_options(options)
        )
        self.crosses = cross_at_end
        nominal = (
            Decimal(str(display_quantity))
            if display_quantity is not None
            else parent.quantity * Decimal(repr(display_share))
        )
        self.display_quantity = max(self._round(nominal), filters.step_size)
        self.display_jitter = display_jitter
        self.reprice_bps = None if reprice_bps is None else Decimal(repr(reprice_bps))
        self.reprice_after = None if reprice_after_s is None else timedelta(
            seconds=reprice_after_s)
        self.reprices = 0  # displays canceled to be shown again at the touch
        self._next_display = self.display_quantity
        self._minimum = filters.step_size
        self._repricing: set[str] = set()

    def plan(self, ctx: AlgoContext) -> None:
        """Make sure one display clears the venue minimum."""
        minimum = self._round(self.filters.min_notional / self._price(ctx)) + self.filters.step_size
        self._minimum = minimum
        self.display_quantity = max(self.display_quantity, minimum)
        self._next_display = self.display_quantity

    def target_quantity(self, ctx: AlgoContext) -> Decimal:
        """Everything is due; ``size_cap`` keeps only one display visible."""
        return self.parent.quantity

    def slice_deadline(self, ctx: AlgoContext) -> tuple[datetime, timedelta]:
        """Rest until the window ends."""
        return self.window_end(ctx), timedelta(minutes=self.parent.duration_minutes)

    def _crossing(self, ctx: AlgoContext) -> bool:
        """True once the end is too near for a display to rest (``cross_at_end`` only)."""
        if not self.crosses:
            return False
        end, interval = self.slice_deadline(ctx)
        placement = self.options.placement
        return not placement.wants_passive(ctx.now, end - placement.margin_for(interval))

    def size_cap(self, ctx: AlgoContext) -> Decimal | None:
        """At most one display quantity working at a time; the whole rest when crossing."""
        if self._crossing(ctx):
            return None
        if ctx.working_children or self._asked:
            return Decimal(0)
        return max(self._next_display, self._minimum)

    def passive_intent(self, ctx: AlgoContext, quantity: Decimal, tag: str) -> ChildIntent:
        """LIMIT at the touch, never through the parent's limit; draws the next display size."""
        jitter = Decimal(repr(self.rng.uniform(1 - self.display_jitter, 1 + self.display_jitter)))
        self._next_display = max(
            self._round(self.display_quantity * jitter), self.filters.step_size
        )
        return ChildIntent(
            quantity=quantity,
            order_type=OrderType.LIMIT,
            limit_price=self._display_price(ctx),
            time_in_force=TimeInForce.GTC,
            tag=f"{tag}:display",
            intent_id=tag,
        )

    def aggressive_intent(self, ctx: AlgoContext, quantity: Decimal, tag: str) -> ChildIntent:
        """The end's cross: MARKET, or a LIMIT IOC at the parent's limit when there is one."""
        limit = self.parent.limit_price
        return aggressive_child(quantity, tag, None if limit is None
                                else self.filters.round_price(limit, self.parent.side))

    def _display_price(self, ctx: AlgoContext) -> Decimal:
        """Our own touch, held at the parent's limit."""
        assert ctx.quote is not None
        side = self.parent.side
        touch = ctx.quote.bid if side is Side.BUY else ctx.quote.ask
        limit = self.parent.limit_price
        if limit is not None:
            touch = min(touch, limit) if side is Side.BUY else max(touch, limit)
        return self.filters.round_price(touch, side)

    # ----- re-pricing and the end -------------------------------------------------------------

    def on_timer(self, ctx: AlgoContext) -> list[Intent]:
        """Re-price a display the market left behind; at the end say why the rest is unfilled."""
        if (ctx.now >= self.window_end(ctx) and self.stop_reason is None
                and ctx.parent.remaining > 0):
            self.stop_reason = self._unfilled_reason(ctx)
        reprices = [] if self.stop_reason is not None else self._reprice(ctx)
        intents = super().on_timer(ctx)
        if reprices:
            self.wake_at = None  # a cancel is on its way: the refill comes on a later tick
        return reprices + intents

    def _reprice(self, ctx: AlgoContext) -> list[Intent]:
        if ctx.quote is None or not ctx.trading_allowed or self._crossing(ctx):
            return []
        intents: list[Intent] = []
        for child in ctx.working_children:
            if self._left_behind(ctx, child) and self.owns(child):
                cancel = self._cancel(child, "reprice")
                if cancel:
                    self._repricing.add(child.client_order_id)
                    self.reprices += 1
                    intents.extend(cancel)
        return intents

    def _left_behind(self, ctx: AlgoContext, child: ChildOrder) -> bool:
        """True when ``child`` should be shown again at the touch (module docstring)."""
        price = child.limit_price
        if child.order_type is not OrderType.LIMIT or price is None or price <= 0:
            return False
        new_price = self._display_price(ctx)
        buy = self.parent.side is Side.BUY
        away = new_price - price if buy else price - new_price
        if away <= 0:
            return False  # at the touch, or held at the limit
        rested = ctx.now - (child.sent_at or child.created_at)
        if rested < self.options.placement.min_passive_life:
            return False
        if self.reprice_bps is not None and away / price * _BPS >= self.reprice_bps:
            return True
        return self.reprice_after is not None and rested >= self.reprice_after

    def on_cancel(self, ctx: AlgoContext, child: ChildOrder) -> list[Intent]:
        """A re-priced display's rest goes back to the hidden quantity (not crossed)."""
        if child.client_order_id in self._repricing:
            self._repricing.discard(child.client_order_id)
            self._cross_at.pop(child.client_order_id, None)
        return super().on_cancel(ctx, child)

    def _unfilled_reason(self, ctx: AlgoContext) -> str:
        parent = ctx.parent
        why = "resting only (cross_at_end off)" if not self.crosses else "the cross did not fill"
        limit = parent.limit_price
        if ctx.quote is not None and limit is not None:
            touch = ctx.quote.bid if parent.side is Side.BUY else ctx.quote.ask
            beyond = touch > limit if parent.side is Side.BUY else touch < limit
            if beyond:
                why += f"; the touch {touch} is beyond the limit {limit}"
        return (f"window ended with {parent.remaining} of {parent.quantity} unfilled: {why}; "
                f"{self.reprices} re-priced displays")

