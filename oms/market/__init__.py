"""Market data: value types, the MarketData protocol and its sources (simulator, Binance)."""

from oms.market.base import HISTORY_HORIZON, MarketData
from oms.market.types import Bar, Book, BookLevel, Quote, Trade

__all__ = ["HISTORY_HORIZON", "Bar", "Book", "BookLevel", "MarketData", "Quote", "Trade"]
