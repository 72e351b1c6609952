"""Estimate vs realised: the pre-trade estimate stored when a parent was created
(``oms.pretrade_cost.estimate_record``) beside what the parent's execution cost.

Both are bps of the same base: the estimate's notional is the quantity at the mid when the
parent was created, the report's decision notional the quantity at the decision mid, taken in
the same tick. The pairs compared, honestly mapped:

- total: expected spread + impact + fees against the implementation shortfall (fees included;
  it also holds delay, timing and opportunity, the price risk the 1-SD range stands for), and
  ``within_1sd`` says whether it fell inside expected +- 1 SD;
- execution: expected spread + impact against the realised slippage vs arrival (average fill
  price against the arrival mid, fees excluded), with the decomposition's own spread and impact
  beside it;
- fees: the expected taker fee on all of it against the fees paid;
- children: planned against sent (children that left for the venue).

A parent stored without an estimate (no quote when it was created, or a database from before
estimates were kept) gets ``None``: the page says "no estimate".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["estimate_vs_realised"]


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def estimate_vs_realised(stored: Mapping[str, Any] | None, parent: Mapping[str, Any], *,
                         children_sent: int) -> dict[str, Any] | None:
    """The ``estimate`` block of one parent of an ExecutionReport (``parent``: its entry)."""
    if not stored:
        return None
    tca = parent.get("tca") or {}
    costs = parent.get("costs_usd") or {}
    expected_total = float(stored["total_bps"])
    sd = float(stored["sd_bps"])
    low, high = expected_total - sd, expected_total + sd
    realised_total = float(tca.get("implementation_shortfall_bps", 0.0))
    executed = float(parent.get("filled_quantity") or 0.0) > 0
    spread, impact = float(stored["spread_bps"]), float(stored["impact_bps"])
    return {
        "expected": {
            "algo": stored.get("algo"), "mid": stored.get("mid"),
            "notional_usd": _number(stored.get("notional_usd")),
            "total_bps": expected_total, "sd_bps": sd, "range_1sd_bps": [low, high],
            "total_usd": _number(stored.get("total_usd")),
            "spread_bps": spread, "impact_bps": impact, "execution_bps": spread + impact,
            "fees_bps": float(stored["fees_bps"]), "fees_usd": _number(stored.get("fees_usd")),
            "planned_children": int(stored["planned_children"]),
            "schedule_exact": bool(stored.get("schedule_exact", True)),
            "horizon_min": _number(stored.get("horizon_min")),
        },
        "realised": {
            "shortfall_bps": realised_total,
            "shortfall_usd": _number(costs.get("total")),
            "arrival_slippage_bps": _number((parent.get("slippage_bps") or {}).get("arrival")),
            "spread_bps": _number(tca.get("spread_cost_bps")),
            "impact_bps": _number(tca.get("market_impact_bps")),
            "fees_bps": _number(tca.get("fees_bps")),
            "fees_usd": _number(costs.get("fees")),
            "delay_bps": _number(tca.get("delay_cost_bps")),
            "timing_bps": _number(tca.get("timing_cost_bps")),
            "opportunity_bps": _number(tca.get("opportunity_cost_bps")),
            "children_sent": children_sent,
        },
        "difference_bps": realised_total - expected_total,
        # nothing filled: nothing executed to compare with the estimate of an execution
        "within_1sd": (low <= realised_total <= high) if executed else None,
    }
