"""Venue events: what a venue reports back about orders (past tense, immutable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oms.model.orders import Fill

__all__ = [
    "OrderAccepted",
    "OrderCanceled",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "VenueEvent",
]


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    """The venue acknowledged the order (it is live there)."""

    client_order_id: str
    venue_order_id: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """The venue refused the order; ``code`` is the venue's (Binance) error code."""

    client_order_id: str
    code: int
    reason: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class OrderFilled:
    """Part or all of the order executed."""

    fill: Fill

    @property
    def client_order_id(self) -> str:
        """The filled order's client order id."""
        return self.fill.client_order_id

    @property
    def ts(self) -> datetime:
        """When the fill happened."""
        return self.fill.ts


@dataclass(frozen=True, slots=True)
class OrderCanceled:
    """The order was canceled (by request, or by the venue); the rest will not fill."""

    client_order_id: str
    ts: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderExpired:
    """The order expired (IOC/FOK remainder, or end of its time in force)."""

    client_order_id: str
    ts: datetime
    reason: str = ""


VenueEvent = OrderAccepted | OrderRejected | OrderFilled | OrderCanceled | OrderExpired
