"""VWAP: follow the intraday volume profile, corrected by the volume the market actually prints.

Plan: the expected volume of each minute of the window comes from the learned profile
(``vwap_profile``: hour-of-day x minute-of-hour, Jan-Apr 2024). The window's total is forecast as
profile weight x volume level, the level (volume per unit of profile weight) averaged over the last
hour and the last day of bars. While trading, the target share done by ``t`` is
``V_done / (V_done + V_left)``: ``V_done`` is the market volume printed since the start
(``ctx.market.traded_volume``), ``V_left`` the forecast for the rest of the window rescaled by how
busy the market has really been (realised / expected so far, shrunk towards 1 by a prior of
``prior_minutes`` of volume). The result is capped by ``participation_cap`` (default 0.25 of
printed volume plus one minute of look-ahead). ``follow_realised=False`` gives the static profile
schedule (the baseline the measurements compare against).

Measured on Jan-Apr 2024 BTCUSDT minute bars (600 random hours, idealised fills at the minute's
typical price): mean |cost vs interval VWAP| 4.84 bps static, 4.44 bps with this correction
(median 2.12 -> 1.64). Only an oracle that knows the hour's total volume in advance gets to ~0.

Children: one every ``child_interval_s`` (60 s), resting passively at the touch for
``passive_window_s`` (240 s) before crossing. Passive fills pay no spread and add no taker impact;
on the simulator (60 Jan-Apr hours) 20 s / 60 s gave +4.0 bps vs VWAP, 60 s / 240 s +2.5 bps.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.algos.base import AlgoContext, ChildIntent, Intent
from oms.algos.executor import ExecutorOptions, TargetExecutor
from oms.algos.vwap_profile import HOUR_WEIGHT, MINUTE_WEIGHT
from oms.model.enums import Side
from oms.model.orders import ChildOrder, ParentOrder
from oms.venues.filters import SymbolFilters

__all__ = ["VwapAlgo", "profile_weights"]

_FLAT = tuple([1.0] * 60)


def profile_weights(symbol: str, start: datetime, end: datetime) -> list[float]:
    """Expected relative volume of each (partial) minute in [start, end) from the profile."""
    hours = HOUR_WEIGHT.get(symbol, tuple([1.0] * 24))
    minutes = MINUTE_WEIGHT.get(symbol, _FLAT)
    weights: list[float] = []
    cursor = start
    while cursor < end:
        minute_start = cursor.replace(second=0, microsecond=0)
        minute_end = min(minute_start + timedelta(minutes=1), end)
        share = (minute_end - cursor) / timedelta(minutes=1)
        weights.append(hours[cursor.hour] * minutes[cursor.minute] * share)
        cursor = minute_end
    return weights


class VwapAlgo(TargetExecutor):
    """Volume-weighted schedule from the learned profile, corrected with realised volume."""

    def __init__(
        self,
        parent: ParentOrder,
        *,
        seed: int = 0,
        filters: SymbolFilters,
        follow_realised: bool = True,
        prior_minutes: float = 20.0,
        child_interval_s: float = 60.0,
        passive_window_s: float | None = None,
        cross_tolerance: float = 0.0,
        lead_s: float = 0.0,
        end_buffer_s: float | None = None,
        min_child_s: float = 0.0,
        passive_offset_bps: float = 0.0,
        recent_s: float = 0.0,
        recent_decay_min: float = 14.0,
        **options: Any,
    ) -> None:
        options.setdefault("participation_cap", 0.25)
        options.setdefault("min_child_interval_s", child_interval_s)
        super().__init__(
            parent, seed=seed, filters=filters, options=ExecutorOptions.from_options(options)
        )
        self.follow_realised = follow_realised
        self.prior_minutes = prior_minutes
        self.child_interval = timedelta(seconds=child_interval_s)
        self.passive_window = timedelta(
            seconds=passive_window_s if passive_window_s is not None else 4 * child_interval_s)
        self.cross_tolerance = cross_tolerance
        self.lead = timedelta(seconds=lead_s)
        self.end_buffer = None if end_buffer_s is None else timedelta(seconds=end_buffer_s)
        self.min_child_s = min_child_s
        self.passive_offset_bps = passive_offset_bps
        self.recent_s = recent_s
        self.recent_decay_min = recent_decay_min
        self._start = parent.created_at
        self._end = parent.created_at
        self._cumulative: list[float] = []  # profile weight cumulated minute by minute
        self.expected_volume: float | None = None  # the window's forecast market volume

    def plan(self, ctx: AlgoContext) -> None:
        """Lay the profile over the window."""
        self._start = self.started_at or ctx.now
        window = max(ctx.window_end - self._start, timedelta(seconds=1))
        # finish a little early so the last children (and any cross) fit inside the window
        buffer = (min(self.child_interval * 3, window * 0.05) if self.end_buffer is None
                  else min(self.end_buffer, window * 0.5))
        self._end = self._start + window - buffer
        total = 0.0
        self._cumulative = [0.0]
        for weight in profile_weights(self.parent.symbol, self._start, self._end):
            total += weight
            self._cumulative.append(total)
        self.expected_volume = self._forecast_volume(ctx, total)

    def _forecast_volume(self, ctx: AlgoContext, window_weight: float) -> float | None:
        """The window's market volume: profile weight times the volume level per unit of weight,
        averaged over the last hour and the last day (each measured against the profile)."""
        bars = ctx.market.bars(self.parent.symbol, ctx.now - timedelta(days=1), ctx.now)
        hours = HOUR_WEIGHT.get(self.parent.symbol, tuple([1.0] * 24))
        minutes = MINUTE_WEIGHT.get(self.parent.symbol, _FLAT)
        levels: list[float] = []
        for sample in (bars[-60:], bars):
            if len(sample) < 30:
                continue
            weight = sum(hours[b.open_time.hour] * minutes[b.open_time.minute] for b in sample)
            volume = sum(b.volume for b in sample)
            if weight > 0 and volume > 0:
                levels.append(volume / weight)
        if not levels:
            return None
        return sum(levels) / len(levels) * window_weight

    def _profile_share(self, now: datetime) -> float:
        """Share of the window's expected volume that should have printed by ``now``."""
        if now <= self._start:
            return 0.0
        if now >= self._end:
            return 1.0
        minutes = (now - self._start) / timedelta(minutes=1)
        # the first bucket may be a partial minute; walk bucket boundaries
        first = 1.0 - (self._start.second + self._start.microsecond / 1e6) / 60.0
        if minutes <= first:
            index, frac = 0, minutes / first
        else:
            rest = minutes - first
            index = 1 + int(rest)
            frac = rest - int(rest)
        index = min(index, len(self._cumulative) - 2)
        low, high = self._cumulative[index], self._cumulative[index + 1]
        return (low + (high - low) * frac) / self._cumulative[-1]

    def target_share(self, ctx: AlgoContext) -> float:
        """Share of the parent that should be done by now."""
        expected_share = self._profile_share(ctx.now)
        if not self.follow_realised or expected_share >= 1.0:
            return expected_share
        realised = float(ctx.market.traded_volume(self.parent.symbol, self._start, ctx.now))
        window_minutes = (self._end - self._start) / timedelta(minutes=1)
        expected_total = self.expected_volume or (self.volume_per_minute or 0.0) * window_minutes
        if expected_total <= 0.0 or realised <= 0.0:
            return expected_share
        expected_done = expected_total * expected_share
        prior = expected_total * min(self.prior_minutes / window_minutes, 1.0)
        busy = (realised + prior) / (expected_done + prior)  # shrunk realised/expected ratio
        if self.recent_s <= 0:
            left = expected_total * (1.0 - expected_share) * busy
        else:
            left = self._left_with_recent(ctx, expected_total, busy)
        return realised / (realised + left)

    def _left_with_recent(self, ctx: AlgoContext, expected_total: float, busy: float) -> float:
        """Forecast of the rest of the window: the profile times a busy ratio that starts at the
        last ``recent_s`` seconds' realised/expected ratio and decays to the window's ratio."""
        now = ctx.now
        lo = max(self._start, now - timedelta(seconds=self.recent_s))
        expected_recent = expected_total * (self._profile_share(now) - self._profile_share(lo))
        recent = busy
        if (now - lo).total_seconds() >= 30.0 and expected_recent > 0.0:
            traded = float(ctx.market.traded_volume(self.parent.symbol, lo, now))
            recent = min(max(traded / expected_recent, 0.2 * busy), 5.0 * busy)
        left = 0.0
        cursor, share = now, self._profile_share(now)
        while cursor < self._end:
            nxt = min(cursor.replace(second=0, microsecond=0) + timedelta(minutes=1), self._end)
            nxt_share = self._profile_share(nxt)
            ahead_min = ((cursor - now) + (nxt - cursor) / 2) / timedelta(minutes=1)
            ratio = busy + (recent - busy) * math.exp(-ahead_min / self.recent_decay_min)
            left += expected_total * (nxt_share - share) * ratio
            cursor, share = nxt, nxt_share
        return left

    def target_quantity(self, ctx: AlgoContext) -> Decimal:
        """Parent quantity times the target share."""
        share = Decimal(repr(min(max(self._share_at(ctx, ctx.now + self.lead), 0.0), 1.0)))
        return self.parent.quantity * share

    def _share_at(self, ctx: AlgoContext, when: datetime) -> float:
        if when == ctx.now:
            return self.target_share(ctx)
        now_share = self.target_share(ctx)
        ahead = self._profile_share(when) - self._profile_share(ctx.now)
        return now_share + max(ahead, 0.0)

    def passive_intent(self, ctx: AlgoContext, quantity: Decimal, tag: str) -> ChildIntent:
        """A LIMIT a little behind our touch, so latency does not make it cross on arrival."""
        intent = super().passive_intent(ctx, quantity, tag)
        if self.passive_offset_bps <= 0 or intent.limit_price is None:
            return intent
        shift = Decimal(repr(self.passive_offset_bps / 10_000)) * intent.limit_price
        price = intent.limit_price - shift if self.parent.side is Side.BUY else intent.limit_price + shift
        return replace(intent, limit_price=self.filters.round_price(price, self.parent.side))

    def min_child_quantity(self, ctx: AlgoContext) -> Decimal:
        """Children carry at least ``min_child_s`` of schedule (fewer, larger children)."""
        if self.min_child_s <= 0:
            return Decimal(0)
        window = (self._end - self._start) / timedelta(seconds=1)
        return self.parent.quantity * Decimal(repr(min(self.min_child_s / window, 1.0)))

    def on_cancel(self, ctx: AlgoContext, child: ChildOrder) -> list[Intent]:
        """Cross only what leaves us behind schedule by more than the tolerance; re-post the rest."""
        intents = super().on_cancel(ctx, child)
        if self.cross_tolerance <= 0 or self._cross_owed <= 0:
            return intents
        left = (self._end - ctx.now) / self.passive_window
        tolerance = self.parent.quantity * Decimal(repr(self.cross_tolerance * min(max(left, 0.0), 1.0)))
        due = min(self.target_share(ctx), 1.0)
        behind = self.parent.quantity * Decimal(repr(max(due, 0.0))) - ctx.parent.filled_quantity - ctx.working_quantity
        excess = behind if behind > tolerance else Decimal(0)
        self._cross_owed = max(min(self._cross_owed, excess), Decimal(0))
        return intents

    def slice_deadline(self, ctx: AlgoContext) -> tuple[datetime, timedelta]:
        """A child may rest ``passive_window`` (default four child intervals) before crossing."""
        return min(ctx.now + self.passive_window, self._end), self.passive_window
