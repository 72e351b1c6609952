"""What each TCA measure means, in the words the TCA page shows on hover (KPI tiles, waterfall
bars) and in its one-line legend. The formulas live in oms.tca.shortfall; these texts must agree
with them: shortfall is measured from the decision mid and includes fees, slippage vs arrival
and vs VWAP compare our average fill price (fees excluded) with a market price."""

from __future__ import annotations

from typing import Any

from components.format import fmt_bps, to_float

__all__ = ["ESTIMATE_HINTS", "IMPACT_SOURCES", "KPI_HINTS", "WATERFALL_HINTS", "impact_hint",
           "measure_legend"]

IMPACT_SOURCES = {"simulator": "the simulator's unperturbed mid",
                  "model": "a model estimate (impact law over our fills)",
                  "mixed": "the simulator and a model estimate"}

KPI_HINTS = {
    "shortfall": ("Implementation shortfall, bps of the decision notional (+ = cost): what we "
                  "paid versus the mid when the decision was taken, FEES INCLUDED, plus the "
                  "opportunity cost of any unfilled rest. It is the sum of the waterfall: delay "
                  "+ spread + impact + timing + fees + opportunity."),
    "cost_usd": "The implementation shortfall in USDT (fees included).",
    "vs_arrival": ("Slippage vs arrival, bps (+ = cost): our average fill price against the mid "
                   "when the parent started working. Fees are EXCLUDED, and so are delay and "
                   "the unfilled rest, so it can be near zero while the shortfall is not."),
    "vs_vwap": ("Slippage vs VWAP, bps (+ = cost): our average fill price against the market's "
                "interval VWAP (all trades of the market over the parent's working window, "
                "ours included). Fees excluded."),
    "fill_rate": "Filled quantity over ordered quantity.",
    "participation": "Our filled quantity over the market's volume during the parent's window.",
    "passive": "Share of our filled quantity that rested on the book (maker fills).",
    "filled_usd": "Notional of every fill of the session, USDT.",
    "orders": "Parent orders of the session / child orders they were sliced into.",
    "quality": "Overall execution quality score, 0-100 (see the Quality chart).",
}

WATERFALL_HINTS = {
    "delay_cost_bps": ("Delay: the mid moved between the decision and the arrival (when the "
                       "parent started working), on the filled quantity."),
    "spread_cost_bps": ("Spread: half spread paid on taker fills, minus the half spread earned "
                        "on maker fills."),
    "market_impact_bps": ("Impact: our own footprint, fill price against the mid our flow had "
                          "not moved, beyond the spread: the book levels we walked plus the mid "
                          "our own trades moved."),
    "timing_cost_bps": ("Timing: the market's own move from the arrival mid while we executed "
                        "(the mid without our flow), on each fill."),
    "fees_bps": "Fees: venue commissions on every fill.",
    "opportunity_cost_bps": ("Opportunity: what the unfilled rest missed, the move from the "
                             "decision mid to the end mid on the quantity never filled."),
    "total": ("Total: the implementation shortfall, the sum of the bars above; fees are "
              "included, unlike slippage vs arrival."),
}

ESTIMATE_HINTS = {
    "symbol": "The parent order's instrument.",
    "side": "BUY or SELL.",
    "expected": ("Expected cost, bps of the notional at the mid when the parent was created "
                 "(+ = cost): half spread + impact + taker fee, from the same pre-trade "
                 "estimate as the rebalance preview, computed and stored when the engine "
                 "created the parent. ± is one standard deviation of the price move over the "
                 "children's horizon (timing risk)."),
    "realised": ("Realised cost: the implementation shortfall in bps of the decision notional, "
                 "FEES INCLUDED (delay + spread + impact + timing + fees + opportunity; the "
                 "waterfall's total)."),
    "difference": "Realised minus expected, bps (+ = it cost more than expected).",
    "execution": ("Spread + impact: expected, against the realised slippage vs arrival (average "
                  "fill price against the arrival mid, fees excluded; it also holds the "
                  "market's own move while the children worked)."),
    "fees": ("Fees, USDT: expected (the taker fee on the whole quantity; passive fills pay "
             "less) against the fees paid on the fills."),
    "children": ("Child orders: planned by the estimate (est.: an estimate from the algorithm's "
                 "documented slicing) against the children sent to the venue."),
    "within": ("Whether the realised shortfall fell inside expected ± 1 SD. About two parents "
               "in three should; — when nothing filled (nothing executed to compare)."),
}


def impact_hint(tca: dict[str, Any], impact_source: str | None) -> str:
    """The impact bar's hover text, with how much of it is the mid our own flow moved."""
    text = WATERFALL_HINTS["market_impact_bps"]
    own = to_float(tca.get("own_mid_impact_bps"))
    if own is not None and impact_source in IMPACT_SOURCES:
        text += (f" Of it, {fmt_bps(own)} is the mid moved by our own flow, from "
                 f"{IMPACT_SOURCES[impact_source]}.")
    elif impact_source == "none":
        text += " No unimpacted mid was available: our mid move is counted as timing."
    return text


def measure_legend(shortfall_bps: Any, fees_bps: Any) -> str:
    """One line under the KPI tiles that reconciles the shortfall with the slippage figures."""
    fees = to_float(fees_bps)
    fee_part = f" of which fees {fmt_bps(fees)}" if fees is not None else " fees included"
    return (f"Shortfall {fmt_bps(shortfall_bps)} is measured from the decision mid,{fee_part}. "
            "vs arrival and vs VWAP compare our average fill price with the arrival mid and the "
            "market's interval VWAP, fees excluded. + = cost throughout; hover a tile or a bar "
            "for its definition.")
