"""Implementation shortfall (Perold), decomposed into components that add up to the total.

With side s (+1 buy, -1 sell), ordered quantity Q, decision mid D, arrival mid A, end mid E, and
fills i of quantity q_i at price p_i, market mid m_i, half spread h_i and unimpacted mid u_i (the
mid the fill would have seen without our own flow; oms.tca.own_impact), filled F = sum q_i:

    delay       = s * F * (A - D)                    the market moved before we started
    timing      = s * sum q_i * (u_i - A)            the market's own move while we executed
    spread      = sum q_i * h_i * (+1 taker, -1 maker)   half spread paid, or earned when passive
    impact      = s * sum q_i * (p_i - u_i) - spread    our own impact: the book we walked
                                                     (p_i - m_i beyond the spread) plus the mid
                                                     our flow moved (m_i - u_i)
    fees        = sum fee_i
    opportunity = s * (Q - F) * (E - D)              what the unfilled rest missed

    total = s * sum q_i * (p_i - D) + fees + opportunity = sum of the six components

Two sub-figures, not components (they are parts of the ones above):
``own_mid_impact = s * sum q_i * (m_i - u_i)`` (the part of impact that moved the mid) and
``opportunity_since_arrival = s * (Q - F) * (E - A)`` (the quality cost score's opportunity).

The USD figures are exact Decimals (so the identity holds exactly); bps are of the decision
notional Q * D. A fill without a mid uses the arrival mid (its drift is then counted as impact);
without an unimpacted mid u_i = m_i (our mid impact then counts as timing).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from oms.model.orders import ZERO
from oms.tca.inputs import ParentExecution
from oms.tca.measures import BPS, EXACT_PRECISION, FillTotals, ReferencePrices

__all__ = ["COMPONENTS", "Shortfall", "decompose", "total_shortfall"]

COMPONENTS = ("delay", "spread", "market_impact", "timing", "fees", "opportunity")


@dataclass(frozen=True, slots=True)
class Shortfall:
    """The shortfall components in USD (quote asset) and the decision notional they refer to."""

    decision_notional: Decimal
    delay: Decimal = ZERO
    spread: Decimal = ZERO
    market_impact: Decimal = ZERO
    timing: Decimal = ZERO
    fees: Decimal = ZERO
    opportunity: Decimal = ZERO
    own_mid_impact: Decimal = ZERO  # part of market_impact: the mid our own flow moved
    opportunity_since_arrival: Decimal = ZERO  # the unfilled rest valued from arrival to end

    @property
    def total(self) -> Decimal:
        """The implementation shortfall: the sum of the components."""
        with localcontext(prec=EXACT_PRECISION):
            return (
                self.delay
                + self.spread
                + self.market_impact
                + self.timing
                + self.fees
                + self.opportunity
            )

    @property
    def executed(self) -> Decimal:
        """The cost of what was filled: the total without the opportunity cost."""
        with localcontext(prec=EXACT_PRECISION):
            return self.total - self.opportunity

    def usd(self) -> dict[str, Decimal]:
        """Component name -> USD, plus ``total``."""
        out = {name: getattr(self, name) for name in COMPONENTS}
        out["total"] = self.total
        return out

    def bps(self, component: str) -> float:
        """A component, sub-figure or ``total`` in bps of the decision notional; 0.0 without a
        notional."""
        value = self.total if component == "total" else getattr(self, component)
        if not self.decision_notional:
            return 0.0
        return float(value / self.decision_notional) * BPS

    def __add__(self, other: Shortfall) -> Shortfall:
        with localcontext(prec=EXACT_PRECISION):
            return Shortfall(
                decision_notional=self.decision_notional + other.decision_notional,
                delay=self.delay + other.delay,
                spread=self.spread + other.spread,
                market_impact=self.market_impact + other.market_impact,
                timing=self.timing + other.timing,
                fees=self.fees + other.fees,
                opportunity=self.opportunity + other.opportunity,
                own_mid_impact=self.own_mid_impact + other.own_mid_impact,
                opportunity_since_arrival=(self.opportunity_since_arrival
                                           + other.opportunity_since_arrival),
            )


def decompose(parent: ParentExecution, prices: ReferencePrices, totals: FillTotals) -> Shortfall:
    """Perold's decomposition of one parent (see the module docstring for the formulas)."""
    decision, arrival, end = prices.decision, prices.arrival, prices.end
    if decision is None or arrival is None or end is None:
        # No price at all (no fills and no mids): nothing was executed, nothing can be valued.
        return Shortfall(decision_notional=ZERO, fees=totals.fees)
    sign = parent.side.sign
    filled = totals.quantity
    with localcontext(prec=EXACT_PRECISION):
        exec_vs_unimpacted = sign * (totals.notional - totals.unimpacted_notional)
        unfilled = parent.quantity - filled
        return Shortfall(
            decision_notional=parent.quantity * decision,
            delay=sign * filled * (arrival - decision),
            timing=sign * (totals.unimpacted_notional - filled * arrival),
            spread=totals.spread_usd,
            market_impact=exec_vs_unimpacted - totals.spread_usd,
            fees=totals.fees,
            opportunity=sign * unfilled * (end - decision),
            own_mid_impact=sign * (totals.mid_notional - totals.unimpacted_notional),
            opportunity_since_arrival=sign * unfilled * (end - arrival),
        )


def total_shortfall(shortfalls: list[Shortfall]) -> Shortfall:
    """The session's shortfall: component-wise sums (bps then refer to the summed notional)."""
    out = Shortfall(decision_notional=ZERO)
    for item in shortfalls:
        out = out + item
    return out
