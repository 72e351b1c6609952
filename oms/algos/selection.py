"""Automatic algorithm selection (``algo=auto``): the product's default policy.

In order, the first rule that matches wins:

1. confidence > 0.8 and urgency > 0.7      -> MARKET  (a strong, urgent signal: take liquidity)
2. size over 3,000 USD                      -> VWAP    (big: hide in the market's volume)
3. urgency < 0.3                            -> TWAP    (no hurry: spread evenly)
4. otherwise                                -> IS      (Almgren-Chriss trade-off of risk and impact)

A missing confidence never triggers rule 1. The thresholds can be overridden with a
``SelectionPolicy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from oms.model.enums import AlgoName

__all__ = ["SelectionPolicy", "select_algo"]


@dataclass(frozen=True, slots=True)
class SelectionPolicy:
    """Thresholds of the selection policy (defaults from the product spec)."""

    market_confidence: float = 0.8
    market_urgency: float = 0.7
    vwap_size_usd: Decimal = Decimal(3_000)
    twap_urgency: float = 0.3


DEFAULT_POLICY = SelectionPolicy()


def select_algo(
    size_usd: Decimal,
    urgency: float,
    confidence: float | None,
    policy: SelectionPolicy = DEFAULT_POLICY,
) -> tuple[AlgoName, str]:
    """Choose the algorithm for a parent of ``size_usd``; returns it and a readable reason."""
    if not 0.0 <= urgency <= 1.0:
        raise ValueError(f"urgency must be in [0, 1], got {urgency}")
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence must be in [0, 1], got {confidence}")
    size = abs(size_usd)
    if (
        confidence is not None
        and confidence > policy.market_confidence
        and urgency > policy.market_urgency
    ):
        return AlgoName.MARKET, (
            f"confidence {confidence:.2f} > {policy.market_confidence} and urgency "
            f"{urgency:.2f} > {policy.market_urgency}: MARKET"
        )
    if size > policy.vwap_size_usd:
        return AlgoName.VWAP, f"size {size:,.2f} USD > {policy.vwap_size_usd:,} USD: VWAP"
    if urgency < policy.twap_urgency:
        return AlgoName.TWAP, f"urgency {urgency:.2f} < {policy.twap_urgency}: TWAP"
    return AlgoName.IS, (
        f"size {size:,.2f} USD <= {policy.vwap_size_usd:,} USD and urgency {urgency:.2f} "
        f">= {policy.twap_urgency}: implementation shortfall"
    )
