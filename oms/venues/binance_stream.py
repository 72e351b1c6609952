"""The user data stream: execution reports in, a thread-safe inbox out, silence detected.

The websocket runs on python-binance's ThreadedWebsocketManager thread; it only appends to the
inbox. The engine thread drains the inbox in ``BinanceVenue.poll``. A transport is anything with
``start(callback)`` / ``stop()``, so tests feed messages without a websocket.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from oms.clock import Clock, LiveClock

__all__ = ["StreamTransport", "ThreadedUserStream", "UserStreamHandler"]

log = logging.getLogger(__name__)

Message = dict[str, Any]


class StreamTransport(Protocol):
    """A user-data connection that calls ``callback(message)`` for each message it receives."""

    def start(self, callback: Callable[[Message], None]) -> None:
        """Connect and start delivering messages."""
        ...

    def stop(self) -> None:
        """Disconnect."""
        ...


class UserStreamHandler:
    """Collects user-stream messages from any thread; the engine thread drains them."""

    def __init__(self, clock: Clock | None = None, max_messages: int = 100_000) -> None:
        self._clock = clock or LiveClock()
        self._lock = threading.Lock()
        self._inbox: deque[Message] = deque(maxlen=max_messages)
        self.last_message_epoch: float | None = None
        self.connected = False
        self.reconnects = 0

    def on_message(self, message: Message) -> None:
        """Websocket callback: unwrap, note the time, queue execution reports."""
        data = message.get("data", message) if isinstance(message, dict) else {}
        if isinstance(data, dict) and isinstance(data.get("event"), dict):
            data = data["event"]  # WebSocket API subscription wrapper
        with self._lock:
            self.last_message_epoch = self._clock.now().timestamp()
            if data.get("e") == "error":
                self.connected = False
                log.warning("user stream error: %s", data.get("type", "unknown"))
                return
            self.connected = True
            if data.get("e") == "executionReport":
                self._inbox.append(data)

    def drain(self) -> list[Message]:
        """All queued execution reports, oldest first."""
        with self._lock:
            items = list(self._inbox)
            self._inbox.clear()
        return items

    def is_silent(self, epoch_s: float, silence_s: float) -> bool:
        """True when the stream is down or nothing arrived for ``silence_s`` seconds."""
        with self._lock:
            if not self.connected:
                return True
            last = self.last_message_epoch
        return last is None or epoch_s - last > silence_s

    def mark_down(self) -> None:
        """The connection failed; REST polling covers until it is back."""
        with self._lock:
            self.connected = False

    def mark_connected(self, epoch_s: float) -> None:
        """A (re)connection was made now; silence is measured from here."""
        with self._lock:
            self.connected = True
            self.last_message_epoch = epoch_s


class ThreadedUserStream:
    """StreamTransport over python-binance's ThreadedWebsocketManager (spot user socket)."""

    def __init__(self, manager_factory: Callable[[asyncio.AbstractEventLoop], Any]) -> None:
        self._factory = manager_factory
        self._manager: Any = None

    def start(self, callback: Callable[[Message], None]) -> None:
        """Start the manager thread and the user socket."""
        # python-binance builds sockets on the caller's current event loop and runs that loop in
        # its thread: a fresh loop per connection, so a reconnect never meets a running loop
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._manager = self._factory(loop)
        self._manager.daemon = True  # a closing socket must not hold the process open
        self._manager.start()
        self._manager.start_user_socket(callback=callback)

    def stop(self) -> None:
        """Stop the manager thread (idempotent)."""
        if self._manager is not None:
            try:
                self._manager.stop()  # its thread ends by itself within ~10 s (read timeout)
            finally:
                self._manager = None

    def __repr__(self) -> str:
        return f"ThreadedUserStream(running={self._manager is not None})"
