"""The expected cost of one parent order: the cost model the pre-trade estimate applies, on the
planned children of the real algorithm. The preview, the REST dry run and the engine (at each
parent's creation, ``oms.engine.sessions``) call the same ``parent_cost``.

Cost model, in bps of the parent's notional at the mid:

- spread: half the quoted spread, as if every child crossed (children filled passively save it;
  an upper estimate);
- impact: the paper venue's own law (``oms.market.impact``, the settings' ImpactParams) through
  ``venue_impact_cost``, the same integrals the IS algorithm calibrates on, over the horizon the
  children go out in (one child: all at once);
- fees: the taker fee on all of it (maker fills pay ``maker_fee_bps``);
- range: expected +- one SD of the price move while the parent executes at a constant rate,
  ``sigma_1m * sqrt(T / 3)`` (Almgren-Chriss: the variance of a linear trajectory over T minutes).

sigma_1m and the volume per minute are the instrument's calibrated figures (the synthetic
market's, ``oms.market.calibration``; DEFAULT_SIGMA_1M for an unknown symbol), the fallback the IS
algorithm uses when it has no bars. The schedule comes from ``oms.pretrade_schedule``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from oms.algos.shortfall import DEFAULT_SIGMA_1M, venue_impact_cost
from oms.config import Settings
from oms.market.calibration import CALIBRATION
from oms.market.impact import ImpactParams
from oms.market.types import Quote
from oms.model import ParentOrder
from oms.model.filters import SymbolFilters
from oms.pretrade_schedule import PlannedSchedule, planned_schedule

__all__ = ["ESTIMATE_RECORD_VERSION", "CostEstimate", "MarketInputs", "ParentCost",
           "cost_estimate", "estimate_record", "impact_params", "market_inputs", "parent_cost"]

ESTIMATE_RECORD_VERSION = 1
_BPS = 10_000.0
_INSTANT_MIN = 1.0 / 60.0  # one child goes out at once: its impact over a second


@dataclass(frozen=True, slots=True)
class MarketInputs:
    """What the estimate knows of the instrument now."""

    bid: Decimal
    ask: Decimal
    sigma_1m: float  # 1-minute log-return volatility
    volume_per_minute: float  # base asset
    source: str  # where sigma and volume come from

    @property
    def mid(self) -> Decimal:
        """(bid + ask) / 2."""
        return (self.bid + self.ask) / 2

    @property
    def half_spread_bps(self) -> float:
        """Half the quoted spread, bps of the mid."""
        mid = self.mid
        return float((self.ask - self.bid) / 2 / mid) * _BPS if mid > 0 else 0.0


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """Expected cost of one parent in bps of its notional, and in USD."""

    notional_usd: float
    spread_bps: float
    temporary_impact_bps: float
    permanent_impact_bps: float
    fees_bps: float
    sd_bps: float
    horizon_min: float

    @property
    def impact_bps(self) -> float:
        """Temporary plus permanent impact."""
        return self.temporary_impact_bps + self.permanent_impact_bps

    @property
    def total_bps(self) -> float:
        """Spread + impact + fees."""
        return self.spread_bps + self.impact_bps + self.fees_bps

    def usd(self, bps: float) -> float:
        """``bps`` of the notional in USD."""
        return self.notional_usd * bps / _BPS



def impact_params(settings: Settings) -> ImpactParams:
    """The impact law the paper venue charges (as it builds it from the settings)."""
    paper = settings.paper
    params = ImpactParams(kind=paper.impact_model, coefficient=paper.impact_coefficient,
                          permanent_fraction=paper.impact_permanent_fraction,
                          decay_s=paper.impact_decay_s)
    if paper.impact_passive_ratio is not None:
        params = replace(params, passive_ratio=paper.impact_passive_ratio)
    return params


def market_inputs(symbol: str, quote: Quote | None, mid: Decimal) -> MarketInputs:
    """The instrument's touch (the mid on both sides when no quote is known) and its
    calibrated volatility and volume."""
    calibrated = CALIBRATION.get(symbol, {})
    sigma = float(calibrated.get("sigma_1m", DEFAULT_SIGMA_1M))
    volume = float(calibrated.get("volume_per_minute", 0.0))
    source = "calibration" if calibrated else "default (symbol not calibrated)"
    bid, ask = (quote.bid, quote.ask) if quote is not None else (mid, mid)
    return MarketInputs(bid, ask, sigma, volume, source)


def cost_estimate(quantity: Decimal, market: MarketInputs, horizon_min: float, *,
                  taker_fee_bps: Decimal, params: ImpactParams) -> CostEstimate:
    """Spread, impact and fees of trading ``quantity`` over ``horizon_min`` (0: at once)."""
    mid = float(market.mid)
    qty = float(quantity)
    notional = qty * mid
    horizon = max(horizon_min, _INSTANT_MIN)
    temporary = permanent = 0.0
    if qty > 0 and market.volume_per_minute > 0:
        temporary, permanent = venue_impact_cost(qty, horizon, sigma_1m=market.sigma_1m,
                                                 volume_per_minute=market.volume_per_minute,
                                                 params=params)
    # venue_impact_cost answers a share of price x quantity units: per unit, times 10^4
    temporary_bps = temporary / qty * _BPS if qty > 0 else 0.0
    permanent_bps = permanent / qty * _BPS if qty > 0 else 0.0
    sd_bps = market.sigma_1m * math.sqrt(max(horizon_min, 0.0) / 3.0) * _BPS
    return CostEstimate(notional, market.half_spread_bps, temporary_bps, permanent_bps,
                        float(taker_fee_bps), sd_bps, max(horizon_min, 0.0))


@dataclass(frozen=True, slots=True)
class ParentCost:
    """What the estimate knows of one parent: the market it used, the children it plans and
    their expected cost."""

    market: MarketInputs
    schedule: PlannedSchedule
    cost: CostEstimate


def parent_cost(parent: ParentOrder, quote: Quote | None, filters: SymbolFilters,
                settings: Settings, *, mid: Decimal) -> ParentCost:
    """The planned children and expected cost of ``parent`` (algorithm resolved, created now)
    on ``quote`` (None: ``mid`` on both sides). Builds its own copy of the algorithm: the
    parent and its real algorithm are left untouched."""
    market = market_inputs(parent.symbol, quote, mid)
    touch = quote or Quote(parent.symbol, parent.created_at, market.bid, market.ask,
                           Decimal(0), Decimal(0))
    stand_in = replace(parent, started_at=parent.started_at or parent.created_at,
                       child_ids=[])
    schedule = planned_schedule(stand_in, touch, filters,
                                volume_per_minute=market.volume_per_minute,
                                max_child_notional=settings.risk.max_order_notional_usd)
    cost = cost_estimate(parent.quantity, market, schedule.horizon_min,
                         taker_fee_bps=settings.paper.taker_fee_bps,
                         params=impact_params(settings))
    return ParentCost(market, schedule, cost)


def estimate_record(parent: ParentOrder, estimate: ParentCost) -> dict[str, Any]:
    """The estimate as stored with the parent (JSON-ready: bps and USD unrounded, prices as
    exact text), what the ExecutionReport compares the realised cost with."""
    cost, schedule, market = estimate.cost, estimate.schedule, estimate.market
    return {
        "version": ESTIMATE_RECORD_VERSION, "symbol": parent.symbol,
        "side": parent.side.value, "algo": parent.algo.value,
        "quantity": str(parent.quantity), "bid": str(market.bid), "ask": str(market.ask),
        "mid": str(market.mid), "notional_usd": cost.notional_usd,
        "spread_bps": cost.spread_bps, "temporary_impact_bps": cost.temporary_impact_bps,
        "permanent_impact_bps": cost.permanent_impact_bps, "impact_bps": cost.impact_bps,
        "fees_bps": cost.fees_bps, "total_bps": cost.total_bps, "sd_bps": cost.sd_bps,
        "range_1sd_bps": [cost.total_bps - cost.sd_bps, cost.total_bps + cost.sd_bps],
        "total_usd": cost.usd(cost.total_bps), "fees_usd": cost.usd(cost.fees_bps),
        "horizon_min": cost.horizon_min, "planned_children": schedule.count,
        "schedule_exact": schedule.exact, "first_at": schedule.first_at.isoformat(),
        "last_at": schedule.last_at.isoformat(), "sigma_1m": market.sigma_1m,
        "volume_per_minute": market.volume_per_minute, "source": market.source,
    }
