"""Iceberg: one resting LIMIT child showing only ``display_quantity``, refilled as it fills.

The price is ``parent.limit_price`` when given (a buy rests at min(bid, limit), a sell at
max(ask, limit)), otherwise our own touch at each refill. Each refill's size is randomised by
``display_jitter`` (seeded) so the refills are not an obvious pattern. The child is never crossed
unless ``cross_at_end`` is set; at the window's end it is canceled and the rest reported unfilled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.algos.base import AlgoContext, ChildIntent
from oms.algos.executor import ExecutorOptions, TargetExecutor
from oms.model.enums import OrderType, Side, TimeInForce
from oms.model.orders import ParentOrder
from oms.venues.filters import SymbolFilters

__all__ = ["IcebergAlgo"]


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
        self._next_display = self.display_quantity
        self._minimum = filters.step_size

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

    def size_cap(self, ctx: AlgoContext) -> Decimal | None:
        """At most one display quantity working at a time."""
        if ctx.working_children or self._asked:
            return Decimal(0)
        return max(self._next_display, self._minimum)

    def passive_intent(self, ctx: AlgoContext, quantity: Decimal, tag: str) -> ChildIntent:
        """LIMIT at the touch, never through the parent's limit; draws the next display size."""
        assert ctx.quote is not None
        side = self.parent.side
        touch = ctx.quote.bid if side is Side.BUY else ctx.quote.ask
        limit = self.parent.limit_price
        if limit is not None:
            touch = min(touch, limit) if side is Side.BUY else max(touch, limit)
        jitter = Decimal(repr(self.rng.uniform(1 - self.display_jitter, 1 + self.display_jitter)))
        self._next_display = max(
            self._round(self.display_quantity * jitter), self.filters.step_size
        )
        return ChildIntent(
            quantity=quantity,
            order_type=OrderType.LIMIT,
            limit_price=self.filters.round_price(touch, side),
            time_in_force=TimeInForce.GTC,
            tag=f"{tag}:display",
            intent_id=tag,
        )
