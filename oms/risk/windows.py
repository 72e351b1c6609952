"""Rolling windows of approved child orders: order rate (account, symbol) and duplicate detection.

An order enters the windows when pre-trade risk approves it (before it is committed and sent),
so the children of one batch see each other. An approved order that never leaves the process is
taken back out with ``release``; one the venue rejected after it was sent stays (the venue counts
it too).

Every window is inclusive: an order approved at ``t`` still counts at ``now`` while
``now - t <= window``. Each order is appended once (``record`` is idempotent per client order
id) and pruned once, so recording and checking are O(1) amortised; ``release`` is O(orders in
the window) and only runs on the failure path.
"""

from __future__ import annotations

from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from oms.model.enums import Side
from oms.model.orders import ChildOrder

__all__ = ["DuplicateKey", "SentOrderWindows"]

DuplicateKey = tuple[str, Side, Decimal]


@dataclass(slots=True, eq=False)
class _Entry:
    """One approved order as the windows remember it (compared by identity)."""

    at: datetime
    client_order_id: str
    symbol: str
    key: DuplicateKey
    parent_id: str
    in_rate: bool = True  # still in the account rate deque
    in_recent: bool = True  # still in the duplicate deque


class SentOrderWindows:
    """Times of recently approved children, for rate limits and the duplicate check."""

    def __init__(self, *, rate_window_s: float = 60.0, duplicate_window_s: float = 1.0) -> None:
        self.rate_window = timedelta(seconds=rate_window_s)
        self.duplicate_window = timedelta(seconds=duplicate_window_s)
        self._account: deque[_Entry] = deque()
        self._by_symbol: dict[str, deque[_Entry]] = {}
        self._recent: deque[_Entry] = deque()
        self._parents_by_key: dict[DuplicateKey, dict[str, int]] = {}
        self._by_id: dict[str, _Entry] = {}  # entries still in a window, for release/idempotence

    def set_duplicate_window(self, seconds: float) -> None:
        """Change the duplicate window (takes effect at the next prune)."""
        self.duplicate_window = timedelta(seconds=seconds)

    def account_count(self, now: datetime) -> int:
        """Orders approved for the account within the rate window ending at ``now``."""
        self._prune_account(now)
        return len(self._account)

    def symbol_count(self, symbol: str, now: datetime) -> int:
        """Orders approved in ``symbol`` within the rate window ending at ``now``."""
        window = self._by_symbol.get(symbol)
        if not window:
            return 0
        cutoff = now - self.rate_window
        while window and window[0].at < cutoff:
            window.popleft()
        return len(window)

    def recent_parents(self, key: DuplicateKey, now: datetime) -> dict[str, int]:
        """Parents (with counts) of orders with ``key`` approved within the duplicate window."""
        self._prune_recent(now)
        return self._parents_by_key.get(key, _EMPTY)

    def sizes(self) -> dict[str, int]:
        """Entries held per window (the soak benchmark watches them stay bounded)."""
        return {"account": len(self._account), "recent": len(self._recent),
                "by_symbol": sum(len(w) for w in self._by_symbol.values()),
                "duplicate_keys": len(self._parents_by_key), "by_id": len(self._by_id)}

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._by_id

    def record(self, order: ChildOrder, now: datetime) -> bool:
        """Count ``order`` at ``now``; False (nothing changed) if it is already counted."""
        cid = order.client_order_id
        if cid in self._by_id:
            return False
        key: DuplicateKey = (order.symbol, order.side, order.quantity)
        entry = _Entry(now, cid, order.symbol, key, order.parent_id)
        self._by_id[cid] = entry
        self._account.append(entry)
        self._prune_account(now)
        symbol_window = self._by_symbol.get(order.symbol)
        if symbol_window is None:
            symbol_window = self._by_symbol[order.symbol] = deque()
        symbol_window.append(entry)
        cutoff = now - self.rate_window
        while symbol_window[0].at < cutoff:
            symbol_window.popleft()
        self._recent.append(entry)
        parents = self._parents_by_key.get(key)
        if parents is None:
            parents = self._parents_by_key[key] = {}
        parents[order.parent_id] = parents.get(order.parent_id, 0) + 1
        self._prune_recent(now)
        return True

    def release(self, client_order_id: str) -> bool:
        """Take an approved order back out of every window (it was never sent).

        Returns False if the order is not counted (never recorded, released already, or older
        than every window).
        """
        entry = self._by_id.pop(client_order_id, None)
        if entry is None:
            return False
        if entry.in_rate:
            entry.in_rate = False
            _remove(self._account, entry)
        symbol_window = self._by_symbol.get(entry.symbol)
        if symbol_window is not None:
            _remove(symbol_window, entry)
        if entry.in_recent:
            entry.in_recent = False
            _remove(self._recent, entry)
            self._forget_parent(entry)
        return True

    def _prune_account(self, now: datetime) -> None:
        account = self._account
        cutoff = now - self.rate_window
        while account and account[0].at < cutoff:
            entry = account.popleft()
            entry.in_rate = False
            if not entry.in_recent:
                self._by_id.pop(entry.client_order_id, None)

    def _prune_recent(self, now: datetime) -> None:
        recent = self._recent
        cutoff = now - self.duplicate_window
        while recent and recent[0].at < cutoff:
            entry = recent.popleft()
            entry.in_recent = False
            self._forget_parent(entry)
            if not entry.in_rate:
                self._by_id.pop(entry.client_order_id, None)

    def _forget_parent(self, entry: _Entry) -> None:
        parents = self._parents_by_key[entry.key]
        left = parents[entry.parent_id] - 1
        if left:
            parents[entry.parent_id] = left
        else:
            del parents[entry.parent_id]
            if not parents:
                del self._parents_by_key[entry.key]


def _remove(window: deque[_Entry], entry: _Entry) -> None:
    # by identity (entries never compare equal: eq=False); gone already if it was pruned
    with suppress(ValueError):
        window.remove(entry)


_EMPTY: dict[str, int] = {}
