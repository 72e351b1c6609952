"""A loopback Binance WebSocket API (``/ws-api/v3``) for user-data-stream tests, with faults.

Speaks what python-binance 1.0.37's user socket and ``WsApiUserStream`` use: request frames
``{"id", "method", "params"}`` answered ``{"id", "status", "result" | "error"}``; ``time``,
``userDataStream.subscribe.signature`` (apiKey/timestamp/signature checked, HMAC verified),
``userDataStream.unsubscribe``, ``session.subscriptions``, ``session.status``; events
``{"subscriptionId": n, "event": {...}}``. Subscriptions belong to a connection, as at Binance:
a new connection has none until it subscribes again.

Scripted faults: ``drop_connections`` (the client must reconnect), ``drop_next`` /
``duplicate_next`` / ``hold`` + ``release`` (lost, doubled, reordered events), ``terminate``
(``eventStreamTerminated``), ``forget_subscriptions`` (ended silently), ``shutdown_notice``
(``serverShutdown``), ``refuse_next_subscriptions``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fake_binance_ws import LoopbackWsServer
from websockets.asyncio.server import ServerConnection

__all__ = ["FakeUserWs"]

_SIGNATURE_INVALID = {"code": -1022, "msg": "Signature for this request is not valid."}


@dataclass
class _Client:
    connection: ServerConnection
    number: int
    subscriptions: set[int] = field(default_factory=set)
    next_subscription: int = 0


class FakeUserWs(LoopbackWsServer):
    """Serves the WebSocket API on 127.0.0.1; tests push events and script faults."""

    def __init__(self, api_key: str, api_secret: str) -> None:
        super().__init__()
        self.api_key = api_key
        self._secret = api_secret
        self.methods: list[str] = []  # every request method, in arrival order
        self.subscribe_params: list[dict[str, Any]] = []  # accepted and refused
        self.connections = 0
        self.refuse_next_subscriptions = 0
        self.drop_next = 0
        self.duplicate_next = 0
        self._held: list[dict[str, Any]] | None = None
        self._clients: list[_Client] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The WebSocket API endpoint, as python-binance's WS_API_TESTNET_URL holds it."""
        return f"ws://127.0.0.1:{self.port}/ws-api/v3"

    # --- what tests read --------------------------------------------------------------------

    def active_subscriptions(self) -> int:
        """Subscriptions open now, over all connections."""
        with self._lock:
            return sum(len(c.subscriptions) for c in self._clients)

    def open_connections(self) -> int:
        """Connections open now."""
        with self._lock:
            return len(self._clients)

    # --- the protocol -----------------------------------------------------------------------

    async def _handler(self, connection: ServerConnection) -> None:
        with self._lock:
            self.connections += 1
            client = _Client(connection, self.connections)
            self._clients.append(client)
        try:
            async for frame in connection:
                request = json.loads(frame)
                response = self._answer(client, request)
                ended = response.pop("_ended", [])
                await connection.send(json.dumps(response))
                for sub in ended:  # Binance ends an unsubscribed stream with this event
                    await connection.send(json.dumps(_event(sub, "eventStreamTerminated")))
        except Exception:  # a dropped client ends its handler; the test sees it by its effects
            pass
        finally:
            with self._lock:
                self._clients.remove(client)

    def _answer(self, client: _Client, request: dict[str, Any]) -> dict[str, Any]:
        method = str(request.get("method"))
        params: dict[str, Any] = request.get("params") or {}
        rid = request.get("id")
        with self._lock:
            self.methods.append(method)
            if method == "time":
                return _ok(rid, {"serverTime": int(time.time() * 1000)})
            if method == "userDataStream.subscribe.signature":
                return self._subscribe(client, rid, params)
            if method == "userDataStream.unsubscribe":
                wanted = params.get("subscriptionId")
                ended = sorted(client.subscriptions if wanted is None else
                               client.subscriptions & {int(wanted)})
                client.subscriptions -= set(ended)
                return {**_ok(rid, {}), "_ended": ended}
            if method == "session.subscriptions":
                return _ok(rid, [{"subscriptionId": s} for s in sorted(client.subscriptions)])
            if method == "session.status":
                return _ok(rid, {"apiKey": None, "connectedSince": 0,
                                 "serverTime": int(time.time() * 1000),
                                 "userDataStream": bool(client.subscriptions)})
        return _error(rid, 400, {"code": -1100, "msg": f"unknown method {method}"})

    def _subscribe(self, client: _Client, rid: Any, params: dict[str, Any]) -> dict[str, Any]:
        self.subscribe_params.append(dict(params))
        if not {"apiKey", "timestamp", "signature"} <= params.keys():
            return _error(rid, 400, {"code": -1102, "msg": "Mandatory parameter missing."})
        if params["apiKey"] != self.api_key:
            return _error(rid, 401, {"code": -2015, "msg": "Invalid API-key."})
        unsigned = {k: v for k, v in sorted(params.items()) if k != "signature"}
        expected = hmac.new(self._secret.encode(), urlencode(unsigned).encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, str(params["signature"]).lower()):
            return _error(rid, 400, _SIGNATURE_INVALID)
        if self.refuse_next_subscriptions > 0:
            self.refuse_next_subscriptions -= 1
            return _error(rid, 400, _SIGNATURE_INVALID)
        sub = client.next_subscription
        client.next_subscription += 1
        client.subscriptions.add(sub)
        return _ok(rid, {"subscriptionId": sub})

    # --- events and faults ------------------------------------------------------------------

    def send_event(self, event: dict[str, Any]) -> int:
        """Send an account event to every subscription (faults applied); how many it reached."""
        with self._lock:
            if self._held is not None:
                self._held.append(event)
                return 0
            if self.drop_next > 0:
                self.drop_next -= 1
                return 0
            copies = 1
            if self.duplicate_next > 0:
                self.duplicate_next -= 1
                copies = 2
        return self._push(lambda sub: [_wrap(sub, event)] * copies)

    def hold(self) -> None:
        """Keep events back until ``release`` (to reorder them)."""
        with self._lock:
            self._held = []

    def release(self, *, reverse: bool = True) -> None:
        """Send the held events, newest first unless told otherwise."""
        with self._lock:
            held, self._held = self._held or [], None
        for event in reversed(held) if reverse else held:
            self.send_event(event)

    def terminate(self) -> int:
        """End every subscription with ``eventStreamTerminated`` (the sockets stay open)."""
        return self._push(lambda sub: [_event(sub, "eventStreamTerminated")], end=True)

    def forget_subscriptions(self) -> None:
        """End every subscription without a word (only session.subscriptions shows it)."""
        with self._lock:
            for client in self._clients:
                client.subscriptions.clear()

    def shutdown_notice(self) -> int:
        """Send ``serverShutdown`` on every connection (it has no subscriptionId)."""
        frame = json.dumps({"event": {"e": "serverShutdown", "E": int(time.time() * 1000)}})

        async def push() -> int:
            with self._lock:
                clients = list(self._clients)
            for client in clients:
                await client.connection.send(frame)
            return len(clients)

        return asyncio.run_coroutine_threadsafe(push(), self._loop).result(5)

    def drop_connections(self) -> int:
        """Close every connection from the server side (1001 going away)."""
        async def close() -> int:
            with self._lock:
                clients = list(self._clients)
            for client in clients:
                await client.connection.close(1001, "going away")
            return len(clients)

        return asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)

    def _push(self, frames: Callable[[int], list[dict[str, Any]]], *, end: bool = False) -> int:
        async def push() -> int:
            reached = 0
            with self._lock:
                targets = [(c, sorted(c.subscriptions)) for c in self._clients]
                if end:
                    for client in self._clients:
                        client.subscriptions.clear()
            for client, subs in targets:
                for sub in subs:
                    reached += 1
                    for frame in frames(sub):
                        await client.connection.send(json.dumps(frame))
            return reached

        return asyncio.run_coroutine_threadsafe(push(), self._loop).result(5)


def _wrap(sub: int, event: dict[str, Any]) -> dict[str, Any]:
    return {"subscriptionId": sub, "event": event}


def _event(sub: int, kind: str) -> dict[str, Any]:
    return _wrap(sub, {"e": kind, "E": int(time.time() * 1000)})


def _ok(rid: Any, result: Any) -> dict[str, Any]:
    return {"id": rid, "status": 200, "result": result}


def _error(rid: Any, status: int, error: dict[str, Any]) -> dict[str, Any]:
    return {"id": rid, "status": status, "error": error}
