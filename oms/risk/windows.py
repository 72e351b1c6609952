"""Rolling windows of sent child orders: order rate (account, symbol) and duplicate detection.

Every window is inclusive: an order sent at ``t`` still counts at ``now`` while
``now - t <= window``. Each sent order is appended once and pruned once, so recording and
checking are O(1) amortised.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from decimal import Decimal

from oms.model.enums import Side
from oms.model.orders import ChildOrder

__all__ = ["DuplicateKey", "SentOrderWindows"]

DuplicateKey = tuple[str, Side, Decimal]


class SentOrderWindows:
    """Times of recently sent children, for rate limits and the duplicate check."""

    def __init__(self, *, rate_window_s: float = 60.0, duplicate_window_s: float = 1.0) -> None:
        self.rate_window = timedelta(seconds=rate_window_s)
        self.duplicate_window = timedelta(seconds=duplicate_window_s)
        self._account: deque[datetime] = deque()
        self._by_symbol: dict[str, deque[datetime]] = {}
        self._recent: deque[tuple[datetime, DuplicateKey, str]] = deque()
        self._parents_by_key: dict[DuplicateKey, dict[str, int]] = {}

    def set_duplicate_window(self, seconds: float) -> None:
        """Change the duplicate window (takes effect at the next prune)."""
        self.duplicate_window = timedelta(seconds=seconds)

    def account_count(self, now: datetime) -> int:
        """Orders sent by the account within the rate window ending at ``now``."""
        window = self._account
        cutoff = now - self.rate_window
        while window and window[0] < cutoff:
            window.popleft()
        return len(window)

    def symbol_count(self, symbol: str, now: datetime) -> int:
        """Orders sent in ``symbol`` within the rate window ending at ``now``."""
        window = self._by_symbol.get(symbol)
        if not window:
            return 0
        cutoff = now - self.rate_window
        while window and window[0] < cutoff:
            window.popleft()
        return len(window)

    def recent_parents(self, key: DuplicateKey, now: datetime) -> dict[str, int]:
        """Parents (with counts) of orders with ``key`` sent within the duplicate window."""
        self._prune_recent(now)
        return self._parents_by_key.get(key, _EMPTY)

    def record(self, order: ChildOrder, now: datetime) -> None:
        """Count ``order`` as sent at ``now``."""
        cutoff = now - self.rate_window
        account = self._account
        account.append(now)
        while account[0] < cutoff:
            account.popleft()
        symbol_window = self._by_symbol.get(order.symbol)
        if symbol_window is None:
            symbol_window = self._by_symbol[order.symbol] = deque()
        symbol_window.append(now)
        while symbol_window[0] < cutoff:
            symbol_window.popleft()
        key: DuplicateKey = (order.symbol, order.side, order.quantity)
        self._recent.append((now, key, order.parent_id))
        parents = self._parents_by_key.get(key)
        if parents is None:
            parents = self._parents_by_key[key] = {}
        parents[order.parent_id] = parents.get(order.parent_id, 0) + 1
        self._prune_recent(now)

    def _prune_recent(self, now: datetime) -> None:
        recent = self._recent
        cutoff = now - self.duplicate_window
        while recent and recent[0][0] < cutoff:
            _, key, parent_id = recent.popleft()
            parents = self._parents_by_key[key]
            left = parents[parent_id] - 1
            if left:
                parents[parent_id] = left
            else:
                del parents[parent_id]
                if not parents:
                    del self._parents_by_key[key]


_EMPTY: dict[str, int] = {}
