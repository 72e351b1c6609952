"""A recorded L2 book rebuilt at any instant, and the queue a resting order waits in.

Prices (snapshot, diffs and trades) are mapped once to integer keys over their sorted unique
values: bids use keys ``0..n-1``, asks ``n..2n-1``, so the whole book is one dense float array
and a depth message is one fancy assignment. Every diff row also knows the level's size before
it (``_prev``), so the book moves forwards and backwards in time with vectorised assignments
(``seek``), and the best bid/ask after every message is computed once at load (a short loop over
messages, ~6,600 for eleven minutes). Trades are keyed by the level they hit (a sell aggressor
hits a bid key), sorted by (key, time) like the diffs, so the events at one price in a window
are two binary searches away.

Queue model (``queue_volume``): our resting order joins behind the displayed size at its price.
Real trades at that price eat the queue ahead first; a level decrease that the trades since the
last update do not explain is cancels, taken ahead of us in proportion of the queue ahead to the
level; increases join behind us. The state (queue ahead, level as we know it) is carried from one
call to the next by its end time, as the paper venue checks each resting order from where the last
check ended.

Our own taker trades do not change the recorded book, but ``take`` remembers what we took from
each level until the recording next updates that level (whose new size then supersedes ours), so
repeated slices do not take the same displayed size twice. Prices and sizes are floats here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from oms.market.l2_files import FloatArray, IntArray, L2Recording

__all__ = ["L2Book", "QueueState"]

_SHIFT = 1 << 32  # compound key: level key * _SHIFT + (ms since the first message + 1)
_CHUNK = 64  # levels read per step when walking the dense book


@dataclass(slots=True)
class QueueState:
    """What a resting order knows of its level: the size ahead of it and the level's size."""

    ahead: float
    level: float


def _sorted_events(keys: IntArray, ms: IntArray, *columns: FloatArray
                   ) -> tuple[IntArray, list[FloatArray]]:
    order = np.lexsort((ms, keys))
    compound = keys[order] * _SHIFT + ms[order]
    return compound, [c[order] for c in columns]


class L2Book:
    """One symbol's recorded book at any instant (see the module docstring)."""

    def __init__(self, recording: L2Recording) -> None:
        rec = recording
        self.recording = rec
        self.prices: FloatArray = np.unique(np.concatenate(
            (rec.snapshot_bid_price, rec.snapshot_ask_price, rec.diff_price, rec.trade_price)))
        n = self.n = len(self.prices)
        self._origin_ms = round(float(rec.message_time_s[0]) * 1000)
        base = np.zeros(2 * n)
        base[np.searchsorted(self.prices, rec.snapshot_bid_price)] = rec.snapshot_bid_qty
        base[n + np.searchsorted(self.prices, rec.snapshot_ask_price)] = rec.snapshot_ask_qty
        self._key: IntArray = (np.searchsorted(self.prices, rec.diff_price)
                               + np.where(rec.diff_is_bid, 0, n)).astype(np.int64)
        self._qty = rec.diff_qty
        self._starts = np.append(rec.message_start, len(self._key)).astype(np.int64)
        self.message_time = rec.message_time_s
        row_ms = np.repeat(self._ms(rec.message_time_s), np.diff(self._starts))
        self._prev = self._previous_sizes(base, row_ms)
        self._diffs, (self._diff_qty, self._diff_prev) = _sorted_events(
            self._key, row_ms, self._qty, self._prev)
        trade_key = (np.searchsorted(self.prices, rec.trade_price)
                     + np.where(rec.trade_sell, 0, n)).astype(np.int64)
        self._trades, (self._trade_qty,) = _sorted_events(
            trade_key, np.maximum(self._ms(rec.trade_time_s), 0), rec.trade_qty)
        self._base = base
        self._book = base.copy()
        self._cursor = 0  # diff rows applied to ``_book``
        self.best_bid, self.best_ask = self._tops(base.copy())
        self._taken: dict[int, tuple[float, float]] = {}  # key -> (our quantity, when)

    # ------------------------------------------------------------------ construction
    def _ms(self, seconds: FloatArray) -> IntArray:
        """Exchange time as ms after the first message, plus one (so 0 is "before all")."""
        return (np.round(seconds * 1000).astype(np.int64) - self._origin_ms + 1)

    def _query_ms(self, t: float) -> int:
        return max(int(np.floor(t * 1000 + 1e-6)) - self._origin_ms + 1, 0)

    def _previous_sizes(self, base: FloatArray, row_ms: IntArray) -> FloatArray:
        """Each diff row's level size before it (the snapshot's for a level's first diff)."""
        order = np.argsort(self._key, kind="stable")  # rows are in time order already
        keys, sizes = self._key[order], self._qty[order]
        prev_sorted = np.empty_like(sizes)
        prev_sorted[1:] = sizes[:-1]
        first = np.r_[True, keys[1:] != keys[:-1]]
        prev_sorted[first] = base[keys[first]]
        prev = np.empty_like(sizes)
        prev[order] = prev_sorted
        return prev

    def _tops(self, book: FloatArray) -> tuple[IntArray, IntArray]:
        """Best bid and ask key after each message (-1: that side is empty)."""
        n = self.n
        count = len(self._starts) - 1
        best_bid = np.empty(count, dtype=np.int64)
        best_ask = np.empty(count, dtype=np.int64)
        bids, asks = np.flatnonzero(book[:n] > 0), np.flatnonzero(book[n:] > 0)
        bid = int(bids[-1]) if bids.size else -1
        ask = int(asks[0]) if asks.size else n
        keys, sizes, starts = self._key, self._qty, self._starts
        for k in range(count):
            a, b = starts[k], starts[k + 1]
            ks, qs = keys[a:b], sizes[a:b]
            book[ks] = qs
            added = ks[qs > 0]
            added_bids, added_asks = added[added < n], added[added >= n] - n
            if added_bids.size:
                bid = max(bid, int(added_bids.max()))
            if added_asks.size:
                ask = min(ask, int(added_asks.min()))
            if bid >= 0 and book[bid] <= 0:
                bid = self._next_bid(book, bid)
            if ask < n and book[n + ask] <= 0:
                ask = self._next_ask(book, ask)
            best_bid[k], best_ask[k] = bid, ask
        return best_bid, best_ask

    def _next_bid(self, book: FloatArray, below: int) -> int:
        lo = max(below - _CHUNK, 0)
        found = np.flatnonzero(book[lo:below] > 0)
        if found.size:
            return lo + int(found[-1])
        found = np.flatnonzero(book[:lo] > 0)
        return int(found[-1]) if found.size else -1

    def _next_ask(self, book: FloatArray, above: int) -> int:
        n = self.n
        hi = min(above + 1 + _CHUNK, n)
        found = np.flatnonzero(book[n + above + 1:n + hi] > 0)
        if found.size:
            return above + 1 + int(found[0])
        found = np.flatnonzero(book[n + hi:] > 0)
        return hi + int(found[0]) if found.size else n

    # ------------------------------------------------------------------ the book at an instant
    def message_at(self, t: float) -> int:
        """Index of the last message at or before ``t`` (-1 before the first)."""
        return int(np.searchsorted(self.message_time, t, side="right")) - 1

    def top_at(self, message: int) -> tuple[float, float, float, float]:
        """(bid, bid size, ask, ask size) after ``message`` (nan prices for an empty side)."""
        bid, ask = int(self.best_bid[message]), int(self.best_ask[message])
        self.seek(message)
        n = self.n
        bid_price = float(self.prices[bid]) if bid >= 0 else float("nan")
        ask_price = float(self.prices[ask]) if ask < n else float("nan")
        return (bid_price, float(self._book[bid]) if bid >= 0 else 0.0,
                ask_price, float(self._book[n + ask]) if ask < n else 0.0)

    def seek(self, message: int) -> None:
        """Make the dense book the one after ``message`` (forwards or backwards)."""
        target = int(self._starts[message + 1])
        cursor = self._cursor
        if target > cursor:
            keys = self._key[cursor:target]
            # several updates of one level: the last one counts
            _, last = np.unique(keys[::-1], return_index=True)
            pick = len(keys) - 1 - last
            self._book[keys[pick]] = self._qty[cursor:target][pick]
        elif target < cursor:
            keys = self._key[target:cursor]
            _, first = np.unique(keys, return_index=True)  # undo: the first one's "before"
            self._book[keys[first]] = self._prev[target:cursor][first]
        self._cursor = target

    def key_of(self, price: float, bid_side: bool) -> int | None:
        """The level key of ``price`` on one side (None if the recording never shows it)."""
        i = int(np.searchsorted(self.prices, price))
        if i >= self.n or abs(float(self.prices[i]) - price) > 1e-9 * max(price, 1.0):
            return None
        return i if bid_side else self.n + i

    def size_at(self, key: int, t: float) -> float:
        """Recorded size of level ``key`` at ``t`` (the last diff at or before it)."""
        pos = int(np.searchsorted(self._diffs, key * _SHIFT + self._query_ms(t), "right")) - 1
        if pos >= 0 and self._diffs[pos] // _SHIFT == key:
            return float(self._diff_qty[pos])
        return float(self._base[key])

    def _updated_since(self, key: int, t0: float, t1: float) -> bool:
        lo = np.searchsorted(self._diffs, key * _SHIFT + self._query_ms(t0), "right")
        hi = np.searchsorted(self._diffs, key * _SHIFT + self._query_ms(t1), "right")
        return bool(hi > lo)

    def available(self, key: int, recorded: float, t: float) -> float:
        """``recorded`` less what we took from the level, until the recording updates it."""
        taken = self._taken.get(key)
        if taken is None:
            return recorded
        if self._updated_since(key, taken[1], t):
            del self._taken[key]
            return recorded
        return max(recorded - taken[0], 0.0)

    def walk(self, message: int, buy: bool, t: float) -> Iterator[tuple[float, float]]:
        """Levels a marketable order walks after ``message`` (asks for a buy), best first, less
        what we already took; (price, size) floats."""
        self.seek(message)
        n, book, prices = self.n, self._book, self.prices
        if buy:
            i = int(self.best_ask[message])
            while i < n:
                chunk = book[n + i:n + i + _CHUNK]
                for j in np.flatnonzero(chunk > 0).tolist():
                    size = self.available(n + i + j, float(chunk[j]), t)
                    if size > 0:
                        yield float(prices[i + j]), size
                i += _CHUNK
        else:
            i = int(self.best_bid[message])
            while i >= 0:
                lo = max(i - _CHUNK + 1, 0)
                chunk = book[lo:i + 1]
                for j in np.flatnonzero(chunk > 0)[::-1].tolist():
                    size = self.available(lo + j, float(chunk[j]), t)
                    if size > 0:
                        yield float(prices[lo + j]), size
                i = lo - 1

    def take(self, message: int, buy: bool, quantity: float, t: float) -> None:
        """Remember that we took ``quantity`` walking the book after ``message`` at ``t``."""
        for price, size in self.walk(message, buy, t):
            if quantity <= 1e-12:
                break
            key = self.key_of(price, not buy)
            assert key is not None  # the walk only yields recorded levels
            used = min(size, quantity)
            before = self._taken.get(key, (0.0, t))[0]
            self._taken[key] = (before + used, t)
            quantity -= used

    # ------------------------------------------------------------------ the queue at one price
    def events_at(self, key: int, t0: float, t1: float
                  ) -> tuple[IntArray, FloatArray, FloatArray, IntArray, FloatArray]:
        """Diffs (ms, new size, size before) and trades (ms, quantity) at ``key`` in (t0, t1]."""
        lo_q, hi_q = key * _SHIFT + self._query_ms(t0), key * _SHIFT + self._query_ms(t1)
        d0, d1 = np.searchsorted(self._diffs, (lo_q, hi_q), "right")
        r0, r1 = np.searchsorted(self._trades, (lo_q, hi_q), "right")
        return (self._diffs[d0:d1] % _SHIFT, self._diff_qty[d0:d1], self._diff_prev[d0:d1],
                self._trades[r0:r1] % _SHIFT, self._trade_qty[r0:r1])

    def queue_volume(self, key: int, state: QueueState, t0: float, t1: float) -> float:
        """Volume that moved a resting order at ``key`` forward in (t0, t1]: trades at its
        price (beyond the queue ahead, they fill it) plus the cancels ahead of it; ``state`` is
        updated in place (see the module docstring)."""
        diff_ms, new_sizes, _, trade_ms, trade_qty = self.events_at(key, t0, t1)
        volume = 0.0
        i = j = 0
        # trades first at equal times: a depth event at T already reflects the trades up to T
        while i < len(trade_ms) or j < len(diff_ms):
            if j >= len(diff_ms) or (i < len(trade_ms) and trade_ms[i] <= diff_ms[j]):
                traded = float(trade_qty[i])
                volume += traded
                state.ahead = max(state.ahead - traded, 0.0)
                state.level = max(state.level - traded, 0.0)
                i += 1
                continue
            new = float(new_sizes[j])
            cancelled = state.level - new
            if cancelled > 0 and state.level > 0 and state.ahead > 0:
                ahead_cancelled = cancelled * state.ahead / state.level
                state.ahead = max(state.ahead - ahead_cancelled, 0.0)
                volume += ahead_cancelled
            state.level = new
            j += 1
        return volume

    def traded_through(self, bid_side: bool, price: float, t0: float, t1: float) -> bool:
        """True if a trade printed beyond ``price`` against ``bid_side`` in (t0, t1], or the
        other side's best reached it (a resting order there would have traded)."""
        rec = self.recording
        a, b = np.searchsorted(rec.trade_time_s, (t0, t1), "right")
        if b > a:
            prices, sells = rec.trade_price[a:b], rec.trade_sell[a:b]
            hit = (sells & (prices < price - 1e-9)) if bid_side else (
                ~sells & (prices > price + 1e-9))
            if hit.any():
                return True
        m0, m1 = self.message_at(t0) + 1, self.message_at(t1) + 1
        if m1 <= m0:
            return False
        if bid_side:
            asks = self.best_ask[m0:m1]
            asks = asks[asks < self.n]
            return bool(asks.size) and float(self.prices[asks.min()]) <= price + 1e-9
        bids = self.best_bid[m0:m1]
        bids = bids[bids >= 0]
        return bool(bids.size) and float(self.prices[bids.max()]) >= price - 1e-9
