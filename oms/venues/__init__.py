"""Venues: the Venue base class, its events and exchange filters; paper and Binance venues."""

from oms.venues.base import Balance, OrderStatusReport, Venue
from oms.venues.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)
from oms.venues.filters import SymbolFilters

__all__ = [
    "Balance",
    "OrderAccepted",
    "OrderCanceled",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderStatusReport",
    "SymbolFilters",
    "Venue",
    "VenueEvent",
]
