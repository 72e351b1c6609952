"""Pre-trade estimate of a rebalance: per parent, the exact quantity sent, the planned children,
the expected cost (spread, impact, fees, with a 1-SD range) and the limits it would hit.

The cost model and the planned children of each parent come from ``oms.pretrade_cost``
(``parent_cost``), the function the engine applies to every parent it creates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from oms.algos.selection import select_algo
from oms.config import Settings
from oms.market.types import Quote
from oms.model import AlgoName, ParentOrder, Side, TradingState
from oms.model.filters import SymbolFilters
from oms.pretrade_cost import (
    CostEstimate,
    MarketInputs,
    cost_estimate,
    impact_params,
    market_inputs,
    parent_cost,
)
from oms.pretrade_schedule import PlannedSchedule
from oms.rebalance import PlannedParent, RebalancePlan
from oms.risk.checks import check_daily_loss, check_order_rate, reserved_cash
from oms.risk.violations import ViolationCode

__all__ = ["CostEstimate", "LimitHit", "MarketInputs", "ParentEstimate", "RebalanceEstimate",
           "cost_estimate", "estimate_json", "estimate_rebalance", "impact_params",
           "market_inputs", "mid_text", "parent_json", "price_text", "qty_text", "totals"]

_CENT = Decimal("0.01")
_INSTANT_MIN = 1.0 / 60.0  # one child goes out at once: its impact over a second


@dataclass(frozen=True, slots=True)
class LimitHit:
    """A pre-trade limit the parent would hit: the code, what it does, and the numbers.

    ``effect``: ``refused`` (the submit is refused whole), ``denied`` (children would be denied
    at send), ``shapes`` (the algorithm slices around it), ``unfilled`` (part of the parent is
    expected to be left at the window's end)."""

    code: str
    effect: str
    message: str
    numbers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParentEstimate:
    """The estimate of one planned parent."""

    planned: PlannedParent
    algo: AlgoName
    algo_reason: str
    filters: SymbolFilters
    market: MarketInputs
    schedule: PlannedSchedule
    cost: CostEstimate
    limits: tuple[LimitHit, ...]


@dataclass(frozen=True, slots=True)
class RebalanceEstimate:
    """The plan and the estimate of each of its parents."""

    plan: RebalancePlan
    parents: tuple[ParentEstimate, ...]
    algo: AlgoName
    duration_minutes: float
    urgency: float

    @property
    def refused(self) -> bool:
        """True when the submit would be refused whole (a limit breach of the plan)."""
        return bool(self.plan.breaches)


def _parent(planned: PlannedParent, algo: AlgoName, reason: str, duration_minutes: float,
            urgency: float, now: datetime, settings: Settings) -> ParentOrder:
    """The parent the engine would create (sessions.SessionDesk.new_parent's fields)."""
    parent = ParentOrder(
        parent_id="preview", session_id="preview", symbol=planned.symbol, side=planned.side,
        quantity=planned.quantity, algo=algo, created_at=now, duration_minutes=duration_minutes,
        urgency=urgency, algo_reason=reason,
        algo_params={"max_child_notional": str(settings.risk.max_order_notional_usd)},
        decision_price=planned.mid, seed=settings.seed * 1_000_003 + 1)
    parent.started_at = now
    return parent


def _limits(planned: PlannedParent, plan: RebalancePlan, schedule: PlannedSchedule,
            market: MarketInputs, settings: Settings, *, cash_left: Decimal,
            daily_pnl: Decimal, trading_state: TradingState) -> list[LimitHit]:
    """Every pre-trade limit the parent would hit, with the numbers."""
    risk = settings.risk
    hits: list[LimitHit] = []
    if trading_state is TradingState.HALTED:
        hits.append(LimitHit(ViolationCode.TRADING_HALTED, "refused",
                             "trading is HALTED: resume with a reason before submitting"))
    for error in plan.breaches:
        if error.field in (f"targets.{planned.symbol}", "targets"):
            code, _, text = error.message.partition(": ")
            hits.append(LimitHit(code, "refused", text or error.message))
    notional = planned.quantity * market.mid
    if notional > risk.max_order_notional_usd:
        hits.append(LimitHit(ViolationCode.MAX_ORDER_NOTIONAL, "shapes", (
            "the parent is over the fat-finger limit per order: its children are capped at "
            "the limit"), {"notional_usd": str(notional.quantize(_CENT)),
                           "limit_usd": str(risk.max_order_notional_usd)}))
    symbol_limit = risk.max_orders_per_minute_per_symbol.get(planned.symbol)
    if symbol_limit is not None:
        hit = _rate_hit(_busiest_minute(schedule), symbol_limit, planned.symbol)
        if hit is not None:
            hits.append(hit)
    if planned.side is Side.BUY:
        reserve = reserved_cash(planned.quantity, market.ask, risk.buy_reserve_buffer_bps)
        if reserve > cash_left:
            hits.append(LimitHit(ViolationCode.INSUFFICIENT_CASH, "denied", (
                "spot account: the buys of this rebalance need more cash than is free"), {
                "order_usd": str(reserve.quantize(_CENT)),
                "cash_usd": str(max(cash_left, Decimal(0)).quantize(_CENT))}))
    loss = check_daily_loss(daily_pnl, risk.max_daily_loss_usd, reducing=planned.side is Side.SELL
                            and planned.target_usd < planned.current_usd, symbol=planned.symbol)
    if loss is not None:
        hits.append(LimitHit(loss.code, "denied", loss.message,
                             {k: str(v) for k, v in loss.numbers.items()}))
    cap = schedule.participation_cap
    if cap is not None and market.volume_per_minute > 0:
        minutes = max(schedule.horizon_min, _INSTANT_MIN)
        allowed = cap * market.volume_per_minute * (minutes + 1.0)  # one minute of look-ahead
        if float(planned.quantity) > allowed:
            hits.append(LimitHit("PARTICIPATION_CAP", "unfilled", (
                f"at {cap:.0%} of the expected volume the window allows about {allowed:.6g} of "
                f"{planned.quantity}"), {"participation_cap": f"{cap:g}",
                                         "expected_volume": f"{market.volume_per_minute:.6g}/min"}))
    return hits


def _rate_hit(per_minute: int, limit: int, symbol: str | None) -> LimitHit | None:
    """The order-rate check of the children planned in the busiest minute: the one past the
    limit is the first denied (``check_order_rate`` counts those already sent)."""
    rate = check_order_rate(per_minute - 1, limit, symbol=symbol)
    if rate is None:
        return None
    scope = f"{symbol} " if symbol else "the account's "
    return LimitHit(rate.code, "denied", (
        f"{per_minute} children planned in one minute, over {scope}limit of {limit} per "
        "minute: the rest are denied and retried after a back-off"),
        {"children_per_minute": str(per_minute), "limit": str(limit)})


def _busiest_minute(schedule: PlannedSchedule) -> int:
    """The most children planned in any 60 s (the order-rate window)."""
    return schedule.count if schedule.horizon_min <= 1.0 else max(
        1, math.ceil(schedule.count / schedule.horizon_min))


def estimate_rebalance(plan: RebalancePlan, *, algo: AlgoName, duration_minutes: float,
                       urgency: float, now: datetime, settings: Settings,
                       filters: Mapping[str, SymbolFilters], quotes: Mapping[str, Quote],
                       cash: Decimal, daily_pnl: Decimal,
                       trading_state: TradingState) -> RebalanceEstimate:
    """Estimate every parent of ``plan`` as the engine would run it now."""
    estimates: list[ParentEstimate] = []
    cash_left = cash
    for planned in plan.parents:
        chosen, reason = (select_algo(planned.quantity * planned.mid, urgency, None)
                          if algo is AlgoName.AUTO else (algo, "chosen by the trader"))
        rules = filters.get(planned.symbol) or SymbolFilters(planned.symbol)
        parent = _parent(planned, chosen, reason, duration_minutes, urgency, now, settings)
        priced = parent_cost(parent, quotes.get(planned.symbol), rules, settings,
                             mid=planned.mid)
        market, schedule, cost = priced.market, priced.schedule, priced.cost
        limits = _limits(planned, plan, schedule, market, settings, cash_left=cash_left,
                         daily_pnl=daily_pnl, trading_state=trading_state)
        if planned.side is Side.BUY:
            cash_left -= reserved_cash(planned.quantity, market.ask,
                                       settings.risk.buy_reserve_buffer_bps)
        estimates.append(ParentEstimate(planned, chosen, reason, rules, market, schedule, cost,
                                        tuple(limits)))
    # the account's order rate counts every parent's children: the busiest minutes add up
    # (an upper estimate: the parents' busiest minutes may not coincide)
    account = _rate_hit(sum(_busiest_minute(e.schedule) for e in estimates),
                        settings.risk.max_orders_per_minute, None)
    if account is not None:
        estimates = [replace(e, limits=(*e.limits, account)) for e in estimates]
    return RebalanceEstimate(plan, tuple(estimates), algo, duration_minutes, urgency)


def _decimals(unit: Decimal) -> Decimal:
    """The quantum of ``unit`` (0.00001 -> 0.00001, 0.010 -> 0.01; 0: whole numbers)."""
    return unit.normalize() if unit > 0 else Decimal(1)


def qty_text(quantity: Decimal, filters: SymbolFilters) -> str:
    """A quantity with the step's decimals (exact: quantities are step multiples)."""
    return str(quantity.quantize(_decimals(filters.step_size), rounding=ROUND_HALF_EVEN))


def price_text(price: Decimal, filters: SymbolFilters) -> str:
    """A price with the tick's decimals."""
    return str(price.quantize(_decimals(filters.tick_size), rounding=ROUND_HALF_EVEN))


def mid_text(mid: Decimal, filters: SymbolFilters) -> str:
    """A mid with half-tick decimals (a mid of a one-tick spread sits between two ticks)."""
    return str(mid.quantize(_decimals(filters.tick_size / 2), rounding=ROUND_HALF_EVEN))


def _usd_text(value: float | Decimal) -> str:
    return str(Decimal(repr(float(value))).quantize(_CENT, rounding=ROUND_HALF_EVEN))


def parent_json(estimate: ParentEstimate) -> dict[str, Any]:
    """One parent of a dry run: quantities and prices as exact strings."""
    p, f, cost, sched = estimate.planned, estimate.filters, estimate.cost, estimate.schedule
    usd = _usd_text
    return {
        "symbol": p.symbol, "side": p.side.value, "quantity": qty_text(p.quantity, f),
        "mid": mid_text(p.mid, f), "notional_usd": str(p.notional_usd.quantize(_CENT)),
        "current_usd": str(p.current_usd.quantize(_CENT)),
        "target_usd": str(p.target_usd.quantize(_CENT)),
        "clipped_from_usd": None if p.clipped_from_usd is None
        else str(p.clipped_from_usd.quantize(_CENT)),
        "algo": estimate.algo.value, "algo_reason": estimate.algo_reason,
        "planned_children": sched.count,
        "schedule": {
            "children": sched.count, "first_at": sched.first_at, "last_at": sched.last_at,
            "typical_child": qty_text(sched.typical_child, f),
            "largest_child": qty_text(sched.largest_child, f),
            "total": qty_text(sched.total, f), "exact": sched.exact, "basis": sched.basis},
        "expected_cost_bps": round(cost.total_bps, 2),
        "expected_cost_usd": usd(cost.usd(cost.total_bps)),
        "cost_breakdown": {
            "spread": {"bps": round(cost.spread_bps, 2), "usd": usd(cost.usd(cost.spread_bps))},
            "impact": {"bps": round(cost.impact_bps, 2), "usd": usd(cost.usd(cost.impact_bps)),
                       "temporary_bps": round(cost.temporary_impact_bps, 2),
                       "permanent_bps": round(cost.permanent_impact_bps, 2)},
            "fees": {"bps": round(cost.fees_bps, 2), "usd": usd(cost.usd(cost.fees_bps))}},
        "range_1sd_bps": [round(cost.total_bps - cost.sd_bps, 2),
                          round(cost.total_bps + cost.sd_bps, 2)],
        "range_1sd_usd": [usd(cost.usd(cost.total_bps - cost.sd_bps)),
                          usd(cost.usd(cost.total_bps + cost.sd_bps))],
        "market_inputs": {"bid": price_text(estimate.market.bid, f),
                          "ask": price_text(estimate.market.ask, f),
                          "sigma_1m": estimate.market.sigma_1m,
                          "volume_per_minute": estimate.market.volume_per_minute,
                          "horizon_min": round(cost.horizon_min, 3),
                          "source": estimate.market.source},
        "limit_breaches": [{"code": str(h.code), "effect": h.effect, "message": h.message,
                            "numbers": h.numbers} for h in estimate.limits],
    }


def estimate_json(estimate: RebalanceEstimate) -> list[dict[str, Any]]:
    """Every parent of a dry run (see ``parent_json``)."""
    return [parent_json(p) for p in estimate.parents]


def totals(parents: Sequence[ParentEstimate]) -> tuple[float, float]:
    """(expected cost USD, notional USD) over ``parents``."""
    cost = sum(p.cost.usd(p.cost.total_bps) for p in parents)
    notional = sum(p.cost.notional_usd for p in parents)
    return cost, notional
