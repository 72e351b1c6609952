"""POV (percentage of volume): trade ``target_rate`` of the market volume as it prints.

Every ``child_interval_s`` the algorithm sends what it owes: ``target_rate`` times the volume
printed since the start, less what it has done. Children smaller than ``min_child_notional`` wait
for more volume; children larger than ``max_child_notional`` are split over ticks. Whatever the
market did not print enough volume for by the end of the window is reported unfilled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.algos.base import AlgoContext
from oms.algos.executor import ExecutorOptions, TargetExecutor
from oms.model.orders import ParentOrder
from oms.venues.filters import SymbolFilters

__all__ = ["PovAlgo"]


class PovAlgo(TargetExecutor):
    """Participates at a fixed share of printed market volume."""

    def __init__(
        self,
        parent: ParentOrder,
        *,
        seed: int = 0,
        filters: SymbolFilters,
        target_rate: float = 0.1,
        min_child_notional: float = 0.0,
        child_interval_s: float = 15.0,
        **options: Any,
    ) -> None:
        if not 0.0 < target_rate <= 1.0:
            raise ValueError(f"target_rate must be in (0, 1], got {target_rate}")
        options.setdefault("placement", "aggressive")
        options.setdefault("min_child_interval_s", child_interval_s)
        super().__init__(
            parent, seed=seed, filters=filters, options=ExecutorOptions.from_options(options)
        )
        self.target_rate = target_rate
        self.min_child_notional = Decimal(repr(min_child_notional))
        self.child_interval = timedelta(seconds=child_interval_s)

    def plan(self, ctx: AlgoContext) -> None:
        """Nothing to plan: the market's prints drive it."""

    def target_quantity(self, ctx: AlgoContext) -> Decimal:
        """``target_rate`` of the volume printed since the start."""
        start = self.started_at or ctx.now
        printed = ctx.market.traded_volume(self.parent.symbol, start, ctx.now)
        return self.base + printed * Decimal(repr(self.target_rate))

    def catches_up(self) -> bool:
        """Past its window POV ends: it only ever trades with the market's volume."""
        return False

    def slice_deadline(self, ctx: AlgoContext) -> tuple[datetime, timedelta]:
        """A child should be done within three child intervals."""
        interval = self.child_interval * 3
        return ctx.now + interval, interval

    def min_child_quantity(self, ctx: AlgoContext) -> Decimal:
        """Wait until at least ``min_child_notional`` is owed."""
        price = self._price(ctx)
        return self._round(self.min_child_notional / price) if price > 0 else Decimal(0)
