"""Execution measures over fills: reference prices, fill totals, slippage, rates, latency.

Sign convention everywhere: positive = cost to us. Slippage of an average fill price against a
benchmark is ``side * (avg_fill - benchmark) / benchmark * 10_000`` bps (side +1 buy, -1 sell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

import numpy as np
import numpy.typing as npt

from oms.model.enums import Liquidity
from oms.model.orders import ZERO, Fill
from oms.tca.inputs import ParentExecution

__all__ = [
    "BPS",
    "EXACT_PRECISION",
    "ChildSlippage",
    "FillTotals",
    "ReferencePrices",
    "child_slippage",
    "fill_rate",
    "fill_totals",
    "participation_rate",
    "passive_ratio",
    "percentile",
    "reference_prices",
    "safe_ratio",
    "slippage_bps",
]

BPS = 10_000.0
# Products of two 28-digit Decimals need 56 digits: sums of them stay exact at this precision.
EXACT_PRECISION = 80

FloatArray = npt.NDArray[np.float64]


def safe_ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, or 0.0 when the denominator is zero."""
    return numerator / denominator if denominator else 0.0


def slippage_bps(
    side_sign: int, avg_fill: Decimal | float | None, benchmark: Decimal | float | None
) -> float | None:
    """``side * (avg_fill - benchmark) / benchmark * 1e4``; None without a fill or benchmark."""
    if avg_fill is None or benchmark is None:
        return None
    bench = float(benchmark)
    if bench <= 0:
        return None
    return side_sign * (float(avg_fill) - bench) / bench * BPS


@dataclass(frozen=True, slots=True)
class ReferencePrices:
    """The decision, arrival and end mids of a parent after the documented fallbacks."""

    decision: Decimal | None
    arrival: Decimal | None
    end: Decimal | None


def reference_prices(parent: ParentExecution) -> ReferencePrices:
    """Resolve missing mids: arrival <- first fill's mid or price <- decision; decision <- arrival;
    end <- last fill's mid or price <- arrival."""
    fills = parent.fills
    first = (fills[0].mid_price or fills[0].price) if fills else None
    last = (fills[-1].mid_price or fills[-1].price) if fills else None
    arrival = parent.arrival_price or first or parent.decision_price
    decision = parent.decision_price or arrival
    end = parent.end_price or last or arrival
    return ReferencePrices(decision=decision, arrival=arrival, end=end)


@dataclass(frozen=True, slots=True)
class FillTotals:
    """Exact (Decimal) sums over a parent's fills, the inputs of the shortfall decomposition.

    ``mid_notional`` is sum(quantity * mid at fill), the mid falling back to the arrival price
    when a fill has none; ``unimpacted_notional`` is sum(quantity * the mid without our own
    flow), falling back to that mid when it is not known. ``spread_usd`` is
    sum(quantity * half_spread), counted positive for taker fills (paid) and negative for maker
    fills (earned); a missing half spread counts zero.
    """

    count: int
    quantity: Decimal
    notional: Decimal
    mid_notional: Decimal
    spread_usd: Decimal
    fees: Decimal
    maker_quantity: Decimal
    maker_notional: Decimal
    unimpacted_notional: Decimal

    @property
    def avg_price(self) -> Decimal | None:
        """Quantity-weighted average fill price, None without fills."""
        return self.notional / self.quantity if self.quantity else None


def fill_totals(fills: Sequence[Fill], mid_fallback: Decimal | None,
                unimpacted_mids: Sequence[Decimal | None] = ()) -> FillTotals:
    """Sum the fills exactly; one pass, a handful of Decimal operations per fill.
    ``unimpacted_mids``: per fill, the mid without our own flow (empty: none known)."""
    quantity = notional = mid_notional = spread = fees = maker_qty = maker_notional = ZERO
    unimpacted_notional = ZERO
    own = list(unimpacted_mids) if unimpacted_mids else [None] * len(fills)
    if len(own) != len(fills):
        raise ValueError(f"{len(own)} unimpacted mids for {len(fills)} fills")
    with localcontext(prec=EXACT_PRECISION):
        for fill, unimpacted in zip(fills, own, strict=True):
            qty = fill.quantity
            value = qty * fill.price
            mid = fill.mid_price
            if mid is None:
                mid = mid_fallback if mid_fallback is not None else fill.price
            quantity += qty
            notional += value
            mid_notional += qty * mid
            unimpacted_notional += qty * (mid if unimpacted is None else unimpacted)
            fees += fill.fee
            if fill.liquidity is Liquidity.MAKER:
                maker_qty += qty
                maker_notional += value
                if fill.half_spread is not None:
                    spread -= qty * fill.half_spread
            elif fill.half_spread is not None:
                spread += qty * fill.half_spread
    return FillTotals(
        count=len(fills),
        quantity=quantity,
        notional=notional,
        mid_notional=mid_notional,
        spread_usd=spread,
        fees=fees,
        maker_quantity=maker_qty,
        maker_notional=maker_notional,
        unimpacted_notional=unimpacted_notional,
    )


def fill_rate(filled: Decimal, quantity: Decimal) -> float:
    """Filled share of the ordered quantity, 0..1."""
    return float(filled / quantity) if quantity else 0.0


def passive_ratio(totals: FillTotals) -> float:
    """Share of the filled notional executed as maker (passive), 0..1."""
    return float(totals.maker_notional / totals.notional) if totals.notional else 0.0


def participation_rate(filled: Decimal, market_volume: Decimal | float | None) -> float | None:
    """Our filled quantity over the market's volume in the window; None if the market is unknown.

    Our own fills are part of the market's printed volume on a real venue, so this is <= 1 there.
    """
    if market_volume is None or float(market_volume) <= 0:
        return None
    return float(filled) / float(market_volume)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


@dataclass(frozen=True, slots=True)
class ChildSlippage:
    """Arrival slippage (bps) of each child order of a parent and its filled notional."""

    client_order_ids: tuple[str, ...]
    slippage_bps: FloatArray
    notional: FloatArray


def child_slippage(parent: ParentExecution, arrival: Decimal | None) -> ChildSlippage:
    """Per child: ``side * (child avg fill - arrival) / arrival * 1e4``, vectorised by child."""
    fills = parent.fills
    if not fills or arrival is None or arrival <= 0:
        empty = np.zeros(0, dtype=np.float64)
        return ChildSlippage((), empty, empty)
    index: dict[str, int] = {}
    codes = np.fromiter(
        (index.setdefault(f.client_order_id, len(index)) for f in fills),
        dtype=np.int64,
        count=len(fills),
    )
    qty = np.fromiter((float(f.quantity) for f in fills), dtype=np.float64, count=len(fills))
    price = np.fromiter((float(f.price) for f in fills), dtype=np.float64, count=len(fills))
    child_qty = np.bincount(codes, weights=qty, minlength=len(index)).astype(np.float64)
    child_notional = np.bincount(codes, weights=qty * price, minlength=len(index)).astype(
        np.float64
    )
    avg = np.divide(child_notional, child_qty, out=np.zeros_like(child_qty), where=child_qty > 0)
    ref = float(arrival)
    slip = parent.side.sign * (avg - ref) / ref * BPS
    return ChildSlippage(tuple(index), slip, child_notional)
