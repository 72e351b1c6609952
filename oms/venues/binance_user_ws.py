"""WsApiUserStream: Binance's user data stream over its WebSocket API, re-subscribed every time.

Why not python-binance's user socket (1.0.37)? It subscribes once, through
``userDataStream.subscribe.signature`` on its shared WebSocket API connection, and:

- when that connection drops, its read loop reconnects but never subscribes again: the socket
  looks alive and no event ever arrives (tests/venues/binance/test_binance_user_ws.py shows it);
- it drops ``serverShutdown`` (that frame has no ``subscriptionId``) as an "unknown message";
- a request made during its reconnect can open a second connection beside the read loop's,
  leaving a subscription on a socket nobody reads;
- after five failed reconnects its read loop ends and the user socket waits forever.

Mending that means overriding four private methods of a library that changes them between
minor releases. This client is smaller than those overrides and does one thing: each connection
is dialled, timed (``time``), subscribed (``userDataStream.subscribe.signature``, HMAC-SHA256
exactly as Binance documents and python-binance signs), checked every ``check_interval_s``
(``session.subscriptions`` must still list the subscription), and on any failure closed and
dialled again with capped, jittered backoff. It uses ``websockets`` (python-binance's own
dependency), which answers Binance's pings and pings back (a half-open socket is closed).

Every step is reported to the handler as a ``StreamStatus``; events are passed through
unchanged (the handler acts on ``eventStreamTerminated`` and ``serverShutdown`` too). After
``eventStreamTerminated``, ``serverShutdown`` or a lost subscription the client reconnects at
once. Events sent while it was not subscribed are gone: the handler asks the venue to resync.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect

from oms.venues.binance_keys import ApiCredentials
from oms.venues.binance_stream import StreamCallback, StreamStatus, StreamStatusKind

__all__ = ["UserStreamOptions", "WsApiError", "WsApiUserStream", "sign_params"]

log = logging.getLogger(__name__)


class WsApiError(Exception):
    """A WebSocket API request failed: an error ``status`` from Binance, or no answer (None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _SubscriptionLost(Exception):
    """The subscription ended while the socket stayed open."""


@dataclass(frozen=True, slots=True)
class UserStreamOptions:
    """Timing of the client; the defaults suit production, tests shorten them."""

    recv_window_ms: int = 5000
    request_timeout_s: float = 10.0
    check_interval_s: float = 30.0  # session.subscriptions must still list ours
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    ping_interval_s: float = 20.0  # Binance pings every 20 s and drops a silent peer after 60
    stop_timeout_s: float = 5.0


def sign_params(params: dict[str, Any], secret: str) -> dict[str, Any]:
    """``params`` sorted by name plus ``signature``: HMAC-SHA256 of their query string."""
    ordered = dict(sorted(params.items()))
    digest = hmac.new(secret.encode(), urlencode(ordered).encode(), hashlib.sha256).hexdigest()
    return {**ordered, "signature": digest}


class WsApiUserStream:
    """StreamTransport: ``start`` runs a client thread; each ``start`` gets a fresh one."""

    def __init__(self, url: str, credentials: ApiCredentials,
                 options: UserStreamOptions | None = None) -> None:
        self.url = url
        self._credentials = credentials
        self.options = options or UserStreamOptions()
        self._session: _Session | None = None

    def start(self, callback: StreamCallback) -> None:
        """Report CONNECTING now, then connect and subscribe in the background."""
        self.stop()
        callback(StreamStatus(StreamStatusKind.CONNECTING, "starting"))
        self._session = _Session(self.url, self._credentials, self.options, callback)
        self._session.start()

    def stop(self) -> None:
        """Close the connection and end the thread (idempotent)."""
        session, self._session = self._session, None
        if session is not None:
            session.stop()

    def __repr__(self) -> str:
        return f"WsApiUserStream(url={self.url!r}, running={self._session is not None})"


class _Session:
    """One client thread: connect, subscribe, deliver, reconnect, until stopped."""

    def __init__(self, url: str, credentials: ApiCredentials, options: UserStreamOptions,
                 callback: StreamCallback) -> None:
        self._url = url
        self._credentials = credentials
        self._options = options
        self._callback = callback
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._ids = itertools.count(1)
        self._responses: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ended: str | None = None  # why the current connection must be dropped
        self._subscribed = False  # the current connection got as far as a subscription
        self._thread = threading.Thread(target=self._run, name="binance-user-ws", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(self._options.stop_timeout_s)

    def stop(self) -> None:
        self._stopping.set()
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(wake.set)
        self._thread.join(self._options.stop_timeout_s)
        if self._thread.is_alive():
            log.warning("user stream thread did not stop within %.0f s",
                        self._options.stop_timeout_s)

    def _report(self, kind: StreamStatusKind, detail: str = "",
                subscription_id: int | None = None) -> None:
        if not self._stopping.is_set():
            self._callback(StreamStatus(kind, detail, subscription_id))

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._ready.set()
        if self._stopping.is_set():  # stop() came before the loop existed
            return
        runner = asyncio.create_task(self._reconnect_forever())
        stop = asyncio.create_task(self._wake.wait())
        await asyncio.wait([runner, stop], return_when=asyncio.FIRST_COMPLETED)
        for task in (runner, stop):  # stop cancels wherever it is: dialling, reading, waiting
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner

    async def _reconnect_forever(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self._subscribed = False
            try:
                await self._connection()
                reason = self._ended or "closed"
            except Exception as exc:  # every failure ends in a reconnect, never in the thread
                reason = self._ended or f"{type(exc).__name__}: {exc}"
            log.warning("user stream disconnected: %s; reconnecting", reason)
            self._report(StreamStatusKind.DISCONNECTED, reason)
            failures = 0 if self._subscribed else failures + 1
            await asyncio.sleep(self._backoff_s(failures))

    def _backoff_s(self, failures: int) -> float:
        cap = min(self._options.backoff_max_s,
                  self._options.backoff_initial_s * 2.0 ** min(failures, 16))
        return cap * (0.5 + random.random() / 2)  # jitter: many clients do not return at once

    async def _connection(self) -> None:
        """One connection's life: dial, subscribe, deliver until it ends."""
        self._ended = None
        opts = self._options
        async with connect(self._url, open_timeout=opts.request_timeout_s,
                           ping_interval=opts.ping_interval_s, ping_timeout=opts.ping_interval_s,
                           close_timeout=1, max_size=2**22) as ws:
            self._report(StreamStatusKind.CONNECTED, "socket open")
            reader = asyncio.create_task(self._read(ws))
            try:
                subscription_id = await self._subscribe(ws)
                self._subscribed = True
                self._report(StreamStatusKind.SUBSCRIBED, f"subscriptionId={subscription_id}",
                             subscription_id)
                await self._watch(ws, reader, subscription_id)
                if self._ended is None:
                    self._ended = f"socket closed (code={ws.close_code})"
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
                for future in self._responses.values():
                    future.cancel()
                self._responses.clear()

    async def _subscribe(self, ws: ClientConnection) -> int:
        server_ms = int((await self._request(ws, "time"))["serverTime"])
        offset_ms = server_ms - int(time.time() * 1000)
        key, secret = self._credentials.reveal()
        params = sign_params({"apiKey": key, "recvWindow": self._options.recv_window_ms,
                              "timestamp": int(time.time() * 1000) + offset_ms}, secret)
        try:
            result = await self._request(ws, "userDataStream.subscribe.signature", params)
        except WsApiError as exc:
            if exc.status is not None:
                self._ended = f"subscription refused: {exc}"
            raise
        return int(result["subscriptionId"])

    async def _watch(self, ws: ClientConnection, reader: asyncio.Task[None],
                     subscription_id: int) -> None:
        """Until the socket or the subscription ends: check the subscription now and then."""
        while True:
            done, _ = await asyncio.wait([reader], timeout=self._options.check_interval_s)
            if done or self._ended is not None:
                return
            listed = await self._request(ws, "session.subscriptions")
            ids = {int(row["subscriptionId"]) for row in listed if "subscriptionId" in row}
            if subscription_id not in ids:
                self._report(StreamStatusKind.TERMINATED, "subscription no longer listed")
                self._ended = "subscription lost"
                raise _SubscriptionLost(self._ended)

    async def _request(self, ws: ClientConnection, method: str,
                       params: dict[str, Any] | None = None) -> Any:
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._responses[request_id] = future
        frame: dict[str, Any] = {"id": request_id, "method": method}
        if params is not None:
            frame["params"] = params
        try:
            await ws.send(json.dumps(frame))
            response = await asyncio.wait_for(future, self._options.request_timeout_s)
        except TimeoutError as exc:
            raise WsApiError(f"{method}: no answer in {self._options.request_timeout_s:g} s") \
                from exc
        finally:
            self._responses.pop(request_id, None)
        if response.get("status") != 200:
            error = response.get("error") or {}
            status = response.get("status")
            raise WsApiError(f"{method}: status={status}, code={error.get('code')}, "
                             f"msg={error.get('msg')}", status if isinstance(status, int) else 0)
        return response.get("result")

    async def _read(self, ws: ClientConnection) -> None:
        """Route responses to their requests and events to the callback, until the socket ends."""
        try:
            await self._route(ws)
        finally:  # a request waiting on a closed socket fails now, not at its timeout
            for future in self._responses.values():
                if not future.done():
                    future.set_exception(WsApiError("connection closed"))

    async def _route(self, ws: ClientConnection) -> None:
        async for frame in ws:
            try:
                message = json.loads(frame)
            except ValueError:
                log.warning("user stream: a frame that is not JSON was ignored")
                continue
            if not isinstance(message, dict):
                continue
            future = self._responses.get(message.get("id", -1))
            if future is not None:
                if not future.done():
                    future.set_result(message)
                continue
            event = message.get("event")
            if not isinstance(event, dict) or self._stopping.is_set():
                continue
            self._callback(message)  # the handler queues reports, acts on the two below
            kind = event.get("e")
            if kind in ("eventStreamTerminated", "serverShutdown"):
                self._ended = str(kind)
                if kind == "eventStreamTerminated":
                    self._report(StreamStatusKind.TERMINATED, "eventStreamTerminated")
                await ws.close()
                return
