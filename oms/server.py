"""The production WSGI server of the embedded ``oms run``: waitress, threaded, in the engine's
process (never several processes around one in-process engine, see DESIGN "Scale path").

Werkzeug's development server is not for production (single listener, no request limits of
its own). Waitress keeps every guarantee of the old path: the bind address is the caller's
(loopback unless authentication is configured, checked in ``app.serve``), every request still
passes the Flask guard (Host check, JSON-only state changes, same-origin, security headers,
body limits: ``oms.auth``, ``oms.web_limits``), and waitress itself refuses bodies above the
largest limit the app accepts before buffering them, shows no tracebacks and names no server.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from oms.web_limits import PAGE_MAX_BODY_BYTES

__all__ = ["DEFAULT_THREADS", "WsgiServer", "create_server", "stop_server"]

log = logging.getLogger(__name__)
DEFAULT_THREADS = 8  # Dash polls every second per open page; the engine has its own thread


class WsgiServer(Protocol):
    """What ``create_server`` returns (waitress' server, typed for what we use)."""

    effective_port: int

    def run(self) -> None: ...
    def close(self) -> None: ...


def create_server(app: Any, *, host: str, port: int,
                  threads: int = DEFAULT_THREADS) -> WsgiServer:
    """A waitress server for the WSGI ``app`` bound to ``host``:``port`` (0: a free port);
    ``run()`` serves until ``close()``."""
    from waitress.server import create_server as waitress_server

    server: WsgiServer = waitress_server(
        app, host=host, port=port, threads=threads, ident="",
        # the app reads at most this (+1 byte to tell a chunked body over the limit)
        max_request_body_size=PAGE_MAX_BODY_BYTES + 1,
        max_request_header_size=64 * 1024, expose_tracebacks=False,
        clear_untrusted_proxy_headers=True, channel_timeout=60)
    return server


def stop_server(server: Any) -> None:
    """Close the listener and the worker threads (tests; ``oms run`` ends with the process)."""
    server.close()
    dispatcher = getattr(server, "task_dispatcher", None)
    if dispatcher is not None:
        dispatcher.shutdown(timeout=5)
