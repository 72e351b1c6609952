"""Our own impact at each fill: the mid the fill would have seen without our own flow.

TCA splits the move of the mid while a parent executes into the part our flow caused (impact)
and the market's own move (timing); this module finds, per fill, the unimpacted mid ``u_i``
(oms.tca.shortfall has the formulas). Its sources, named in the report's ``impact_source``:

- ``simulator`` (a simulated market: backtests, the paper venue): the market's unperturbed path
  mid the quote in force was built on (``SimulatedMarket.path_mid(..., quoted=True)``: no own
  impact, no shocks; the quotes move only at touch events) at the fill, scaled so that it
  starts at the arrival mid: ``u_i = P(t_i) * A / P(t_start)``. The scaling keeps what was in
  the mid before the parent started (an earlier parent's permanent impact, a shock) out of this
  parent's impact. Limits: a scripted shock during the window and the decay of an earlier
  parent's temporary impact count as this parent's impact (the market has no accessor for its
  shocks alone).
- ``model`` (no simulator: live venues): the venue's impact law (oms.market.impact, default
  parameters) replayed over the parent's own taker fills, ``u_i = m_i * exp(-offset_i)`` with
  ``offset_i`` the law's log shift at ``t_i`` before the fill's own order is booked (a taker
  order's fills share its pre-trade mid, as on the paper venue; maker fills move nothing, as
  there). ``sigma_1m``: the instrument's calibration, else measured on the window's bars;
  ``V_1m``: the window's market volume per minute, else the calibration. An estimate, flagged.
- ``none``: neither is possible (no mid, no volatility or volume): ``u_i`` stays unknown and
  our mid impact counts as timing, as before this split.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from oms.errors import MarketClosed
from oms.market.base import MarketData
from oms.market.calibration import CALIBRATION
from oms.market.impact import ImpactModel, ImpactParams
from oms.market.simulated import SimulatedMarket
from oms.market.types import Bar
from oms.model.enums import Liquidity, Side
from oms.model.orders import Fill
from oms.sizing import realised_volatility

__all__ = ["ImpactSource", "OwnImpact", "estimate_own_impact", "model_unimpacted_mids",
           "simulator_unimpacted_mids"]

ImpactSource = Literal["simulator", "model", "none"]
_MIN_RETURNS = 10


@dataclass(frozen=True, slots=True)
class OwnImpact:
    """Per fill, the mid without our own flow (None: unknown), and where it comes from."""

    unimpacted_mids: tuple[Decimal | None, ...]
    source: ImpactSource


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))  # the float's shortest exact text: the JSON gives it back


def simulator_unimpacted_mids(market: SimulatedMarket, symbol: str, fills: Sequence[Fill], *,
                              start: datetime, arrival: Decimal) -> tuple[Decimal, ...]:
    """``u_i = P(t_i) * A / P(start)`` from the simulator's unperturbed path (raises
    MarketClosed when a time is outside the bars it holds)."""
    anchor = float(arrival) / market.path_mid(symbol, start, quoted=True)
    return tuple(_dec(market.path_mid(symbol, fill.ts, quoted=True) * anchor) for fill in fills)


def model_unimpacted_mids(fills: Sequence[Fill], *, side: Side, sigma_1m: float,
                          volume_per_minute: float, params: ImpactParams | None = None,
                          ) -> tuple[Decimal | None, ...]:
    """``u_i = m_i * exp(-offset_i)`` from the impact law replayed over our taker fills (a fill
    without a mid gets None)."""
    model = ImpactModel(params or ImpactParams(), sigma_1m, volume_per_minute)
    signed = 1.0 if side is Side.BUY else -1.0
    out: list[Decimal | None] = []
    order = sorted(range(len(fills)), key=lambda i: fills[i].ts)
    mids: dict[int, Decimal | None] = {}
    for _, group in itertools.groupby(order, key=lambda i: (fills[i].client_order_id,
                                                            fills[i].ts)):
        members = list(group)
        t = fills[members[0]].ts.timestamp()
        offset = model.offset(t)
        taken = 0.0
        for i in members:
            mid = fills[i].mid_price
            mids[i] = None if mid is None else _dec(float(mid) * math.exp(-offset))
            if fills[i].liquidity is Liquidity.TAKER:
                taken += float(fills[i].quantity)
        if taken:
            model.record(signed * taken, t)
    out.extend(mids[i] for i in range(len(fills)))
    return tuple(out)


def _sigma(bars: Sequence[Bar]) -> float | None:
    closes = [b.close for b in bars if b.close > 0]
    if len(closes) - 1 < _MIN_RETURNS:
        return None
    sigma = realised_volatility(closes, periods_per_year=1.0)
    return sigma if sigma > 0 else None


def estimate_own_impact(market: MarketData, symbol: str, side: Side, fills: Sequence[Fill], *,
                        start: datetime, end: datetime, arrival: Decimal | None,
                        bars: Sequence[Bar], market_volume: Decimal | float | None,
                        ) -> OwnImpact:
    """The unimpacted mids of one parent's fills from the best source available (see the
    module docstring); reads the market, never changes it."""
    if not fills:
        return OwnImpact((), "none")
    if isinstance(market, SimulatedMarket):
        # without an arrival mid, the first fill's (pre-trade) mid anchors the path at its time
        anchor_at, reference = ((start, arrival) if arrival is not None
                                else (fills[0].ts, fills[0].mid_price))
        if reference is not None:
            try:
                return OwnImpact(simulator_unimpacted_mids(
                    market, symbol, fills, start=anchor_at, arrival=reference), "simulator")
            except MarketClosed:
                pass  # history dropped (or a gap): the model still knows our flow
    calibrated = CALIBRATION.get(symbol, {})
    sigma = calibrated.get("sigma_1m") or _sigma(bars)
    minutes = (end - start).total_seconds() / 60.0
    volume = (float(market_volume) / minutes if market_volume is not None and minutes > 0
              else 0.0)
    volume = volume if volume > 0 else float(calibrated.get("volume_per_minute", 0.0))
    if sigma is None or volume <= 0:
        return OwnImpact(tuple(None for _ in fills), "none")
    return OwnImpact(model_unimpacted_mids(fills, side=side, sigma_1m=float(sigma),
                                           volume_per_minute=volume), "model")
