"""The user data stream: execution reports in, a thread-safe inbox out, a dead stream detected.

A transport (``oms.venues.binance_user_ws.WsApiUserStream`` live, a fake in tests) runs on its own
thread and only calls ``UserStreamHandler.on_message``; the engine thread drains the inbox in
``BinanceVenue.poll``. A transport passes two kinds of message: Binance's event dicts, and
``StreamStatus`` values saying what happened to the connection (connecting, connected,
subscribed, disconnected, terminated).

Liveness. A user stream is quiet whenever nothing happens on the account, so silence proves
nothing. The handler therefore calls the stream dead only on evidence:

- it is not subscribed (down, connecting, refused, ``eventStreamTerminated``, ``serverShutdown``);
- or it owes a report: the venue learned of an order change by REST and called ``expect``, and no
  ``executionReport`` for that order arrived within ``expect_s``. Binance sends one for every
  order change, so a live stream cannot miss it; a quiet stream owes nothing.

Every (re)subscription leaves a gap (events sent while unsubscribed are never replayed):
``needs_resync`` is True after each one until the venue has filled it from REST and called
``resynced``.

Reports are queued in arrival order. Binance does not promise order ("order your updates using
E"), and a reconnect plus a REST resync can show the same change twice: duplicates and
out-of-order reports are expected here and the venue's ``OrderTracker`` applies each trade once
(by trade id) and never moves an order's state backwards.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from oms.clock import Clock, LiveClock

__all__ = [
    "StreamState",
    "StreamStatus",
    "StreamStatusKind",
    "StreamTransport",
    "UserStreamHandler",
]

log = logging.getLogger(__name__)

Message = dict[str, Any]


class StreamStatusKind(Enum):
    """What a transport reports about its connection."""

    CONNECTING = "connecting"  # started; no socket yet (sent synchronously by ``start``)
    CONNECTED = "connected"  # socket open, not subscribed yet
    SUBSCRIBED = "subscribed"  # Binance confirmed the subscription: events flow from now on
    DISCONNECTED = "disconnected"  # socket closed or subscription refused; the transport retries
    TERMINATED = "terminated"  # the subscription ended while the socket stayed (it reconnects)


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """A connection event from a transport; ``detail`` says why, for the log."""

    kind: StreamStatusKind
    detail: str = ""
    subscription_id: int | None = None


StreamCallback = Callable[[Message | StreamStatus], None]


class StreamTransport(Protocol):
    """A user-data connection that calls ``callback`` for each event and connection status."""

    def start(self, callback: StreamCallback) -> None:
        """Connect (in the background) and start delivering."""
        ...

    def stop(self) -> None:
        """Disconnect; no callback runs after this returns."""
        ...


class StreamState(Enum):
    """The handler's view of the stream."""

    DOWN = "down"  # no connection (failed, closed, or not started)
    CONNECTED = "connected"  # socket open, no subscription: no events can arrive
    LIVE = "live"  # subscribed: every order change arrives as an executionReport
    TERMINATED = "terminated"  # Binance ended the subscription (eventStreamTerminated)


@dataclass(slots=True)
class _Seen:
    epoch: float  # when the latest report for the order arrived
    seq: int  # its place in the inbox (> drained_seq while still queued)


_DEFAULT_EXPECT_S = 10.0
_SEEN_RETENTION_S = 3600.0  # per-order receive times older than this are forgotten


class UserStreamHandler:
    """Collects user-stream messages from any thread; the engine thread drains and asks."""

    def __init__(self, clock: Clock | None = None, max_messages: int = 100_000, *,
                 expect_s: float = _DEFAULT_EXPECT_S) -> None:
        if expect_s <= 0:
            raise ValueError(f"expect_s must be positive, got {expect_s}")
        self._clock = clock or LiveClock()
        self.expect_s = expect_s
        self._lock = threading.Lock()
        self._inbox: deque[Message] = deque(maxlen=max_messages)
        self._state = StreamState.DOWN
        self._reason = "not started"
        self._reports_status = False  # set by the first StreamStatus: the transport tells state
        self._pending: dict[str, float] = {}  # client order id -> deadline for its report
        self._seen: dict[str, _Seen] = {}
        self._seq = 0
        self._drained_seq = 0
        self._generation = 0  # bumped by every (re)subscription
        self._resynced_generation = 0
        self._checked_generation = 0
        self.subscription_id: int | None = None
        self.subscriptions = 0  # subscriptions confirmed since construction
        self.reports_received = 0  # execution reports queued since construction
        self.last_message_epoch: float | None = None
        self.reconnects = 0  # counted by the venue

    def __repr__(self) -> str:
        return f"UserStreamHandler(state={self.state.value}, reason={self.reason!r})"

    # --- state -------------------------------------------------------------------------------

    @property
    def state(self) -> StreamState:
        """DOWN, CONNECTED, LIVE or TERMINATED."""
        with self._lock:
            return self._state

    @property
    def reason(self) -> str:
        """Why the stream is not live (the last status detail), for the log."""
        with self._lock:
            return self._reason

    @property
    def connected(self) -> bool:
        """True while subscribed (LIVE): execution reports can arrive."""
        return self.state is StreamState.LIVE

    def _set(self, state: StreamState, reason: str) -> None:
        if state is not StreamState.LIVE and self._state is StreamState.LIVE:
            log.warning("user stream %s: %s", state.value, reason)
        self._state = state
        self._reason = reason
        if state is not StreamState.LIVE:
            self.subscription_id = None

    def _subscribed(self, epoch: float, subscription_id: int | None) -> None:
        self._set(StreamState.LIVE, "subscribed")
        self.subscription_id = subscription_id
        self.subscriptions += 1
        self.last_message_epoch = epoch
        self._pending.clear()  # reports owed by the old subscription are lost: the resync covers
        self._generation += 1

    # --- transport side ----------------------------------------------------------------------

    def on_message(self, message: Message | StreamStatus) -> None:
        """Transport callback (any thread): a status, or an event to queue or act on."""
        epoch = self._clock.now().timestamp()
        if isinstance(message, StreamStatus):
            self._on_status(message, epoch)
            return
        data: Any = message.get("data", message) if isinstance(message, dict) else {}
        if isinstance(data, dict) and isinstance(data.get("event"), dict):
            data = data["event"]  # WebSocket API wrapper {"subscriptionId", "event"}
        if not isinstance(data, dict):
            return
        kind = data.get("e")
        with self._lock:
            self.last_message_epoch = epoch
            if kind == "executionReport":
                self._queue_report(data, epoch)
            elif kind == "eventStreamTerminated":
                self._set(StreamState.TERMINATED, "eventStreamTerminated")
            elif kind == "serverShutdown":
                self._set(StreamState.DOWN, "serverShutdown")
            elif kind == "error":  # python-binance's error dict
                self._set(StreamState.DOWN, f"error: {data.get('type', 'unknown')}")

    def _on_status(self, status: StreamStatus, epoch: float) -> None:
        detail = status.detail or status.kind.value
        with self._lock:
            self._reports_status = True
            if status.kind is StreamStatusKind.SUBSCRIBED:
                self._subscribed(epoch, status.subscription_id)
            elif status.kind is StreamStatusKind.CONNECTED:
                self._set(StreamState.CONNECTED, detail)
            elif status.kind is StreamStatusKind.TERMINATED:
                self._set(StreamState.TERMINATED, detail)
            else:
                self._set(StreamState.DOWN, detail)

    def _queue_report(self, report: Message, epoch: float) -> None:
        self._seq += 1
        self.reports_received += 1
        self._inbox.append(report)
        cid = _order_id(report)
        if cid:
            self._seen[cid] = _Seen(epoch, self._seq)
            self._pending.pop(cid, None)

    # --- venue side --------------------------------------------------------------------------

    def drain(self) -> list[Message]:
        """All queued execution reports, in arrival order (see the module note on order)."""
        with self._lock:
            items = list(self._inbox)
            self._inbox.clear()
            self._drained_seq = self._seq
        return items

    def expect(self, client_order_id: str, epoch_s: float) -> None:
        """The venue saw a change of this order by REST at ``epoch_s``: its report is owed.

        Already delivered if a report for the order arrived at or after ``epoch_s`` or is still
        queued (it can beat the REST response); else it must arrive within ``expect_s``.
        """
        with self._lock:
            seen = self._seen.get(client_order_id)
            if seen is not None and (seen.epoch >= epoch_s or seen.seq > self._drained_seq):
                return
            deadline = epoch_s + self.expect_s
            self._pending[client_order_id] = min(deadline,
                                                 self._pending.get(client_order_id, deadline))

    def dead_reason(self, epoch_s: float) -> str | None:
        """Why the stream cannot be trusted at ``epoch_s``, or None while it can."""
        with self._lock:
            self._forget_old(epoch_s)
            if self._state is not StreamState.LIVE:
                return f"{self._state.value}: {self._reason}"
            overdue = sorted(cid for cid, deadline in self._pending.items() if deadline < epoch_s)
        if overdue:
            return (f"EXPECTED_REPORT_OVERDUE: orders={','.join(overdue[:5])}, "
                    f"expect_s={self.expect_s:g}")
        return None

    def is_dead(self, epoch_s: float) -> bool:
        """Down, terminated, unsubscribed, or an expected report overdue."""
        return self.dead_reason(epoch_s) is not None

    def needs_resync(self) -> bool:
        """True after every (re)subscription until ``resynced`` (fill the gap from REST)."""
        with self._lock:
            self._checked_generation = self._generation
            return self._generation != self._resynced_generation

    def resynced(self) -> None:
        """The venue filled the gap (openOrders, order, myTrades) after ``needs_resync``.

        A subscription that came after that ``needs_resync`` call still needs its own resync.
        """
        with self._lock:
            self._resynced_generation = self._checked_generation

    def mark_down(self) -> None:
        """The connection failed (e.g. ``start`` raised); REST polling covers until it is back."""
        with self._lock:
            self._set(StreamState.DOWN, "marked down")

    def mark_connected(self, epoch_s: float) -> None:
        """The venue (re)started the transport now.

        A transport that reports its status is live only once it says SUBSCRIBED; one that does
        not (a test double) is taken as subscribed from here.
        """
        with self._lock:
            self.last_message_epoch = epoch_s
            if not self._reports_status:
                self._subscribed(epoch_s, None)

    def _forget_old(self, epoch_s: float) -> None:
        horizon = epoch_s - max(_SEEN_RETENTION_S, 10 * self.expect_s)
        if len(self._seen) > 1000:
            self._seen = {cid: s for cid, s in self._seen.items() if s.epoch >= horizon}


def _order_id(report: Message) -> str:
    """The OMS's client order id of a report (a cancel names it in ``C``)."""
    if report.get("x") == "CANCELED" and report.get("C"):
        return str(report["C"])
    return str(report.get("c") or "")
