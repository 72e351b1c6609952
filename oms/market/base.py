"""The MarketData protocol: what the engine, venues, algorithms, risk and TCA may ask of a market.

Implementations: the synthetic market and the kline replay (simulator), the Binance stream.
All are driven by ``advance_to(ts)`` from the engine thread only.

History is bounded: a market answers ``bars``, ``traded_volume`` and ``vwap`` for windows that
start at most ``HISTORY_HORIZON`` before now, and forgets what is older, so its memory does not
grow with market time. The longest look-back the OMS asks for is about a day (a VWAP's volume
forecast reads the last day of bars when it starts; a parent may run up to 24 hours and its
report reads the bars since its start), so two days leave a day of margin. A window that starts
before the horizon is answered from the part still held.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from oms.market.types import Bar, Book, Quote

__all__ = ["HISTORY_HORIZON", "MarketData"]

#: how far back a market keeps bars and volume (see the module docstring)
HISTORY_HORIZON = timedelta(days=2)


class MarketData(Protocol):
    """A market for a fixed set of symbols, moved forward in time by the engine."""

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols this market quotes."""
        ...

    def advance_to(self, ts: datetime) -> None:
        """Move the market forward to ``ts`` (never backwards)."""
        ...

    def is_open(self, symbol: str) -> bool:
        """False during an exchange halt or a data gap: no prices may be invented then."""
        ...

    def quote(self, symbol: str) -> Quote:
        """Best bid/ask now; raises MarketClosed when the market is not open."""
        ...

    def book(self, symbol: str, depth: int = 20) -> Book:
        """L2 book now (``depth`` levels a side); raises MarketClosed when not open."""
        ...

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        """Completed 1-minute bars with ``start <= open_time < end`` (within HISTORY_HORIZON)."""
        ...

    def traded_volume(self, symbol: str, start: datetime, end: datetime) -> Decimal:
        """Market volume (base asset) traded in [start, end), sub-minute resolution."""
        ...

    def vwap(self, symbol: str, start: datetime, end: datetime) -> Decimal | None:
        """Volume-weighted average market price over [start, end), None if nothing traded."""
        ...
