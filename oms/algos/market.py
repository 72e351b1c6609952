"""MARKET: take the whole quantity at once; with a price limit, only what the book shows inside it.

Without ``parent.limit_price`` one MARKET child carries everything (split only if the risk
limits make the child too big: ``max_child_notional`` or a size rejection halves it). With a limit,
each tick sends a LIMIT IOC at the limit for the depth the book shows inside it, so the order never
walks the book past the limit; it retries until filled or its window (at least ``grace_s``) ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.algos.base import AlgoContext, ChildIntent
from oms.algos.executor import ExecutorOptions, TargetExecutor
from oms.algos.placement import aggressive_child
from oms.errors import OmsError
from oms.model.enums import Side
from oms.model.orders import ParentOrder
from oms.venues.filters import SymbolFilters

__all__ = ["MarketAlgo"]


class MarketAlgo(TargetExecutor):
    """Immediate execution; several children only when a price limit or size cap requires it."""

    def __init__(
        self,
        parent: ParentOrder,
        *,
        seed: int = 0,
        filters: SymbolFilters,
        grace_s: float = 120.0,
        book_depth: int = 20,
        **options: Any,
    ) -> None:
        options.setdefault("placement", "aggressive")
        options.setdefault("max_rejects", 6)
        super().__init__(
            parent, seed=seed, filters=filters, options=ExecutorOptions.from_options(options)
        )
        self.grace = timedelta(seconds=grace_s)
        self.book_depth = book_depth

    def plan(self, ctx: AlgoContext) -> None:
        """Nothing to plan: everything is due now."""

    def target_quantity(self, ctx: AlgoContext) -> Decimal:
        """All of it, now."""
        return self.parent.quantity

    def next_target_change(self, ctx: AlgoContext) -> datetime | None:
        """Never: everything is due from the start (a price limit's depth is not time-only)."""
        return None if self.parent.limit_price is not None else self.window_end(ctx)

    def slice_deadline(self, ctx: AlgoContext) -> tuple[datetime, timedelta]:
        """Due now (so children are always aggressive)."""
        return ctx.now, timedelta(0)

    def window_end(self, ctx: AlgoContext) -> datetime:
        """The parent's window, but at least ``grace_s`` to retry rejections and thin books."""
        start = self.started_at or ctx.now
        return max(super().window_end(ctx), start + self.grace)

    def size_cap(self, ctx: AlgoContext) -> Decimal | None:
        """With a price limit: the depth the book shows at or inside it."""
        limit = self.parent.limit_price
        if limit is None:
            return None
        try:
            book = ctx.market.book(self.parent.symbol, self.book_depth)
        except OmsError:
            return Decimal(0)
        buying = self.parent.side is Side.BUY
        levels = book.asks if buying else book.bids
        inside = (
            lvl.quantity for lvl in levels
            if (lvl.price <= limit if buying else lvl.price >= limit)
        )
        return self._round(sum(inside, Decimal(0)))

    def aggressive_intent(self, ctx: AlgoContext, quantity: Decimal, tag: str) -> ChildIntent:
        """MARKET, or a LIMIT IOC at the price limit when there is one."""
        limit = self.parent.limit_price
        return aggressive_child(quantity, tag, None if limit is None
                                else self.filters.round_price(limit, self.parent.side))
