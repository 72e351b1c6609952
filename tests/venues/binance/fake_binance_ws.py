"""A loopback websocket server speaking Binance's combined-stream format, for feed tests."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any, Self

from websockets.asyncio.server import ServerConnection, serve

__all__ = ["FakeBinanceStreams", "LoopbackWsServer"]


class LoopbackWsServer:
    """A websocket server on 127.0.0.1 at a free port, served from its own thread and event
    loop; subclasses implement ``_handler(connection)``."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        """Close every connection and stop serving."""
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = self._loop.create_future()
        async with serve(self._handler, "127.0.0.1", 0) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop

    async def _handler(self, connection: ServerConnection) -> None:
        raise NotImplementedError


class FakeBinanceStreams(LoopbackWsServer):
    """Serves ``/stream?streams=a/b`` and sends ``{"stream", "data"}`` messages given by tests."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []
        self.connected = threading.Event()
        self._clients: list[ServerConnection] = []

    @property
    def url(self) -> str:
        """Base URL, as python-binance's STREAM_URL expects it (trailing slash)."""
        return f"ws://127.0.0.1:{self.port}/"

    async def _handler(self, connection: ServerConnection) -> None:
        self.paths.append(connection.request.path if connection.request else "")
        self._clients.append(connection)
        self.connected.set()
        try:
            await connection.wait_closed()
        finally:
            self._clients.remove(connection)

    def send(self, stream: str, data: dict[str, Any]) -> None:
        """Send one combined-stream message to every connected client."""
        text = json.dumps({"stream": stream, "data": data})

        async def push() -> None:
            for client in list(self._clients):
                await client.send(text)

        asyncio.run_coroutine_threadsafe(push(), self._loop).result(5)
