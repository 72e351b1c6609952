"""QuoteBoard: the quotes of the current tick, read by every part of the engine."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from oms.errors import MarketClosed
from oms.market.base import MarketData
from oms.market.types import Quote

__all__ = ["QuoteBoard"]


class QuoteBoard:
    """The latest quote per symbol; a closed market has none."""

    def __init__(self) -> None:
        self._quotes: dict[str, Quote] = {}

    @property
    def quotes(self) -> Mapping[str, Quote]:
        """Quotes by symbol (open markets only)."""
        return self._quotes

    def refresh(self, market: MarketData) -> None:
        """Read every symbol's quote from ``market`` (engine thread, once a tick)."""
        for symbol in market.symbols:
            try:
                self._quotes[symbol] = market.quote(symbol)
            except MarketClosed:
                self._quotes.pop(symbol, None)

    def quote(self, symbol: str) -> Quote | None:
        """The quote of ``symbol``, or None when its market is closed."""
        return self._quotes.get(symbol)

    def mid(self, symbol: str) -> Decimal | None:
        """Mid price of ``symbol`` this tick, or None when its market is closed."""
        quote = self._quotes.get(symbol)
        return quote.mid if quote else None

    def mids(self) -> dict[str, Decimal]:
        """Mid price per open symbol."""
        return {symbol: quote.mid for symbol, quote in self._quotes.items()}
