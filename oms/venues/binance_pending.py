"""The pure parts of the Binance venue's hold on unsettled orders (oms.venues.binance_control):
a back-off per order, the books of pending work, and the rule that proves a send never placed.

An order whose send outcome is unknown is declared absent only when the request can no longer be
accepted (recvWindow and the request timeout have passed), a visibility allowance has passed too
(Binance reads orders from memory, then a database: an accepted order can be invisible for a
while) and several queries in a row found nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AbsenceRule", "Retry", "RetryBook"]

_FIRST_S = 0.5
_CAP_S = 30.0


@dataclass(slots=True)
class Retry:
    """Back-off state of one order's pending work."""

    since: float  # epoch s the work began (the send, the first cancel request)
    next_at: float
    attempts: int = 0
    misses: int = 0  # "does not exist" answers in a row
    last_error: str = ""

    def failed(self, epoch_s: float, error: str, *, cap_s: float = _CAP_S) -> None:
        """Try again later: 1 s, 2 s, 4 s ... up to ``cap_s`` after each failure."""
        self.attempts += 1
        self.last_error = error
        self.next_at = epoch_s + min(cap_s, _FIRST_S * 2 ** self.attempts)

    def due(self, epoch_s: float) -> bool:
        """True when the next attempt may go out."""
        return epoch_s >= self.next_at


@dataclass(frozen=True, slots=True)
class AbsenceRule:
    """When an order whose send outcome is unknown may be taken as never placed."""

    recv_window_s: float
    request_timeout_s: float
    visibility_s: float  # allowance for Binance's lag between acceptance and queries
    min_misses: int = 3

    @property
    def after_s(self) -> float:
        """Seconds after the send before absence may be concluded."""
        return self.recv_window_s + self.request_timeout_s + self.visibility_s

    def absent(self, retry: Retry, epoch_s: float) -> bool:
        """True when enough time passed AND enough queries in a row found nothing."""
        return retry.misses >= self.min_misses and epoch_s - retry.since >= self.after_s


class RetryBook:
    """Pending work per client order id (one book for unknown sends, one for cancels)."""

    def __init__(self) -> None:
        self._items: dict[str, Retry] = {}

    def __contains__(self, cid: object) -> bool:
        return cid in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, cid: str, epoch_s: float, *, first_try_at: float | None = None) -> Retry:
        """Start (or keep) pending work for ``cid``."""
        item = self._items.get(cid)
        if item is None:
            item = self._items[cid] = Retry(epoch_s, epoch_s if first_try_at is None
                                            else first_try_at)
        return item

    def get(self, cid: str) -> Retry | None:
        """The pending work of ``cid``, if any."""
        return self._items.get(cid)

    def done(self, cid: str) -> None:
        """Settled: forget it."""
        self._items.pop(cid, None)

    def due(self, epoch_s: float) -> list[str]:
        """Client order ids whose next attempt is due, oldest first."""
        return [cid for cid, item in self._items.items() if item.due(epoch_s)]

    def ids(self) -> list[str]:
        """Every pending client order id."""
        return list(self._items)
