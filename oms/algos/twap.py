"""TWAP: equal-time slices with randomised sizes (0.8-1.2 of nominal) and jittered timing.

Default slice count: max(1, min(20, duration_minutes // 2)), clamped to ``min_slices`` and
``max_slices``. The randomisation is seeded (reproducible) and keeps the total exact; slices below
the venue's minimum are merged before anything is sent.
"""

from __future__ import annotations

import bisect
import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.algos.base import AlgoContext
from oms.algos.executor import ExecutorOptions, TargetExecutor
from oms.algos.schedule import (
    Slice,
    build_schedule,
    default_slice_count,
    jittered_times,
    randomised_weights,
)
from oms.model.orders import ParentOrder
from oms.venues.filters import SymbolFilters

__all__ = ["SliceScheduleAlgo", "TwapAlgo"]


class SliceScheduleAlgo(TargetExecutor):
    """A target executor over a fixed list of slices (TWAP, IS); subclasses fill ``slices``."""

    slices: list[Slice]

    # (the slices list it was built from, their due times, running totals of their quantities),
    # rebuilt when ``slices`` is replaced; slices are in due order (build_schedule)
    _slice_index: tuple[list[Slice], list[datetime], list[Decimal]] | None = None

    def _due(self, now: datetime) -> int:
        """How many slices are due at ``now`` (a bisection)."""
        slices = self.slices
        index = self._slice_index
        if index is None or index[0] is not slices or len(index[1]) != len(slices):
            totals = list(itertools.accumulate((piece.quantity for piece in slices),
                                               initial=Decimal(0)))
            index = self._slice_index = (slices, [piece.due for piece in slices], totals)
        return bisect.bisect_right(index[1], now)

    def target_quantity(self, ctx: AlgoContext) -> Decimal:
        """The base plus the slices already due."""
        count = self._due(ctx.now)
        assert self._slice_index is not None
        return self.base + self._slice_index[2][count]

    def next_target_change(self, ctx: AlgoContext) -> datetime | None:
        """The next slice's due time (the window's end after the last one)."""
        count = self._due(ctx.now)
        if count < len(self.slices):
            return self.slices[count].due
        return self.window_end(ctx)

    def slice_deadline(self, ctx: AlgoContext) -> tuple[datetime, timedelta]:
        """Deadline and interval of the latest slice already due."""
        if not self.slices:
            end = self.window_end(ctx)
            return end, end - ctx.now
        count = self._due(ctx.now)
        current = self.slices[count - 1] if count else self.slices[0]
        return current.deadline, current.deadline - current.due


class TwapAlgo(SliceScheduleAlgo):
    """Time-weighted average price with seeded size and timing randomisation."""

    def __init__(
        self,
        parent: ParentOrder,
        *,
        seed: int = 0,
        filters: SymbolFilters,
        slices: int | None = None,
        min_slices: int = 1,
        max_slices: int = 20,
        size_spread: float = 0.2,
        timing_jitter: float = 0.5,
        **options: Any,
    ) -> None:
        super().__init__(
            parent, seed=seed, filters=filters, options=ExecutorOptions.from_options(options)
        )
        if not 0 <= size_spread < 1:
            raise ValueError(f"size_spread must be in [0, 1), got {size_spread}")
        self.slice_count = slices or default_slice_count(
            parent.duration_minutes, min_slices=min_slices, max_slices=max_slices
        )
        self.size_spread = size_spread
        self.timing_jitter = timing_jitter
        self.slices = []

    def plan(self, ctx: AlgoContext) -> None:
        """Draw the randomised slices over the window."""
        start = self.started_at or ctx.now
        end = max(self.window_end(ctx), start + timedelta(seconds=1))
        weights = randomised_weights(self.slice_count, self.rng, self.size_spread)
        times = jittered_times(start, end, self.slice_count, self.rng, self.timing_jitter)
        self.slices = build_schedule(
            self.plan_quantity, weights, times, self.filters, self._price(ctx)
        )
