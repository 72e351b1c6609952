"""Child placement: post passively at the touch (maker fee), cross the spread near the deadline.

A passive child is a LIMIT at our own side's touch (the bid for a buy, the ask for a sell). If it is
still working ``cross_margin`` before its slice's deadline, the executor cancels it and sends the
unfilled rest as a MARKET child (tag ``cross``). The share filled passively is the passive ratio
the TCA reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from oms.algos.base import ChildIntent
from oms.market.types import Quote
from oms.model.enums import OrderType, Side, TimeInForce
from oms.venues.filters import SymbolFilters

__all__ = ["PlacementPolicy", "PlacementStyle", "aggressive_child", "passive_child"]

PlacementStyle = Literal["passive", "aggressive"]


@dataclass(frozen=True, slots=True)
class PlacementPolicy:
    """How children are placed: ``style``, the cross margin and the shortest passive life."""

    style: PlacementStyle = "passive"
    cross_margin: timedelta = timedelta(seconds=30)
    min_passive_life: timedelta = timedelta(seconds=10)
    cross_margin_share: float = 0.2  # never more than this share of the slice's interval

    def margin_for(self, interval: timedelta) -> timedelta:
        """Cross margin for a slice interval: the fixed margin, at most a share of the interval."""
        return min(self.cross_margin, interval * self.cross_margin_share)

    def wants_passive(self, now: datetime, cross_at: datetime) -> bool:
        """True when a passive child has time to rest before it must cross."""
        return self.style == "passive" and cross_at - now >= self.min_passive_life


def passive_child(
    quantity: Decimal, side: Side, quote: Quote, filters: SymbolFilters, tag: str
) -> ChildIntent:
    """A LIMIT child resting at our own touch (bid for a buy, ask for a sell); ``tag`` (unique
    within the parent, e.g. ``twap-3``) is also the intent's id."""
    price = quote.bid if side is Side.BUY else quote.ask
    price = filters.round_price(price, side)
    return ChildIntent(
        quantity=quantity,
        order_type=OrderType.LIMIT,
        limit_price=price,
        time_in_force=TimeInForce.GTC,
        tag=f"{tag}:passive",
        intent_id=tag,
    )


def aggressive_child(quantity: Decimal, tag: str, limit: Decimal | None = None) -> ChildIntent:
    """A child that takes liquidity at once: MARKET, or a LIMIT IOC at ``limit`` (a parent's
    price limit, already on the tick) so it never trades beyond it; ``tag`` is also the
    intent's id."""
    if limit is None:
        return ChildIntent(quantity=quantity, order_type=OrderType.MARKET, tag=f"{tag}:cross",
                           intent_id=tag)
    return ChildIntent(quantity=quantity, order_type=OrderType.LIMIT, limit_price=limit,
                       time_in_force=TimeInForce.IOC, tag=f"{tag}:cross", intent_id=tag)
