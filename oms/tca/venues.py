"""TCA by venue: the ExecutionReport's ``venues`` section.

Per venue, over the session's parents: children sent there, fills, filled quantity and notional,
fees (USD and bps of the notional), the cost against each parent's arrival mid (price only, and
all-in with fees, both in bps of the filled notional, + is a cost), the fill rate (filled over
sent quantity), the median acknowledgement latency, and the venue's share of the filled notional.
With one venue it is one row, the session's figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from oms.model.enums import Side
from oms.tca.inputs import ParentExecution

__all__ = ["venue_section"]

_ZERO = Decimal(0)
_BPS = 10_000.0


@dataclass(slots=True)
class _Tally:
    children: int = 0
    sent: Decimal = _ZERO
    fills: int = 0
    quantity: Decimal = _ZERO
    notional: Decimal = _ZERO
    fees: Decimal = _ZERO
    slippage_usd: float = 0.0  # signed cost against arrival, USD
    ack_ms: list[float] = field(default_factory=list)


def _arrival(parent: ParentExecution) -> Decimal | None:
    for price in (parent.arrival_price, parent.decision_price):
        if price is not None and price > 0:
            return price
    return parent.fills[0].price if parent.fills else None


def venue_section(parents: Sequence[ParentExecution]) -> list[dict[str, Any]]:
    """One row per venue (module docstring), venues in order of first use."""
    tallies: dict[str, _Tally] = {}
    for parent in parents:
        for vc in parent.venue_children:
            tally = tallies.setdefault(vc.venue, _Tally())
            tally.children += vc.children
            tally.sent += vc.sent_quantity
            tally.ack_ms.extend(vc.ack_ms)
        arrival = _arrival(parent)
        sign = 1.0 if parent.side is Side.BUY else -1.0
        for fill in parent.fills:
            tally = tallies.setdefault(fill.venue, _Tally())
            tally.fills += 1
            tally.quantity += fill.quantity
            tally.notional += fill.notional
            tally.fees += fill.fee
            if arrival is not None:
                tally.slippage_usd += sign * float((fill.price - arrival) * fill.quantity)
    total = float(sum((t.notional for t in tallies.values()), _ZERO))
    rows = []
    for venue, t in tallies.items():
        notional = float(t.notional)
        price_bps = t.slippage_usd / notional * _BPS if notional else None
        fee_bps = float(t.fees) / notional * _BPS if notional else None
        rows.append({
            "venue": venue, "children": t.children, "fills": t.fills,
            "filled_quantity": str(t.quantity), "filled_notional": round(notional, 2),
            "fees_usd": round(float(t.fees), 2),
            "fee_bps": None if fee_bps is None else round(fee_bps, 3),
            "cost_vs_arrival_bps": None if price_bps is None else round(price_bps, 3),
            "all_in_cost_bps": None if price_bps is None or fee_bps is None
            else round(price_bps + fee_bps, 3),
            "fill_rate": round(float(t.quantity / t.sent), 4) if t.sent > 0 else None,
            "ack_ms_median": round(statistics.median(t.ack_ms), 1) if t.ack_ms else None,
            "share_of_notional": round(notional / total, 4) if total else 0.0,
        })
    return rows
