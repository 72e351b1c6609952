"""Composition root of the dashboard: ``create_app(settings)`` builds (or takes) the OMS, the Dash
pages, the REST API, /metrics and the security layer; ``serve(settings)`` runs it under waitress;
``python app.py`` too."""

from __future__ import annotations

import importlib
import ipaddress
import logging
import socket
from pathlib import Path
from typing import Protocol, cast

import dash

from components.context import OMS_KEY
from components.frame import frame_layout, register_frame_callbacks
from oms.api import install_api
from oms.auth import auth_configured, install_security
from oms.bootstrap import Oms, build_oms
from oms.config import Settings
from oms.directory import DIRECTORY_KEY, OmsDirectory, SingleAccount
from oms.errors import ConfigError
from oms.metrics import install_metrics
from oms.server import create_server

__all__ = ["PAGE_MODULES", "create_app", "is_loopback", "serve"]

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent
PAGE_MODULES = ("pages.overview", "pages.rebalance", "pages.orders", "pages.tca", "pages.risk",
                "pages.accounts")


class _PageModule(Protocol):
    def register(self, app: dash.Dash) -> None: ...


def create_app(settings: Settings, oms: Oms | None = None, *,
               directory: OmsDirectory | None = None, start_engine: bool = True) -> dash.Dash:
    """Build the Dash app around ``oms`` (built from ``settings`` when not given), or around
    the accounts of ``directory`` (a web worker of the split deployment).

    The directory is stored in the Flask config (``server.config["OMS_DIRECTORY"]``) where
    callbacks and the REST API find the OMS of each request's account (oms.directory), the
    default account's OMS as ``server.config["OMS"]``;
    ``start_engine`` starts the scheduler that ticks the default account's engine.
    """
    if directory is None:
        directory = SingleAccount(oms if oms is not None else build_oms(settings))
    oms = directory.get(directory.default)
    app = dash.Dash(
        __name__, use_pages=True, pages_folder="", assets_folder=str(ROOT / "assets"),
        title="DipMaster OMS", update_title="", suppress_callback_exceptions=True,
        serve_locally=True)
    server = app.server
    server.config[DIRECTORY_KEY] = directory
    server.config[OMS_KEY] = oms
    server.config["JSON_SORT_KEYS"] = False
    install_security(server, settings)
    install_api(server)
    install_metrics(server, oms)
    for name in PAGE_MODULES:
        cast(_PageModule, importlib.import_module(name)).register(app)
    register_frame_callbacks(app)
    app.layout = frame_layout(dash.page_container)
    if start_engine and not oms.runtime.running:
        oms.runtime.start()
    return app


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and names that resolve only to loopback (``localhost``)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(i[4][0])).is_loopback for i in infos)


def serve(settings: Settings) -> None:
    """Run engine + dashboard until interrupted (used by ``oms run`` and ``python app.py``).

    Refuses a non-loopback bind address unless authentication is configured; serves through
    waitress (threaded, this process: the engine's scheduler thread runs beside it); Dash's
    dev tools only when ``settings.debug``, never a reloader (it would start a second engine).
    """
    if not is_loopback(settings.host) and not auth_configured(settings):
        raise ConfigError(
            f"refusing to serve on {settings.host}: a non-loopback address needs authentication "
            "(set OMS_AUTH_USERS and OMS_API_TOKEN) or bind 127.0.0.1")
    if not settings.debug:  # one line per tick / per callback would drown the log
        for name in ("apscheduler.executors.default", "apscheduler.scheduler", "werkzeug",
                     "waitress.queue"):
            logging.getLogger(name).setLevel(logging.WARNING)
    oms = build_oms(settings)
    try:
        app = create_app(settings, oms, start_engine=True)
        log.info("dashboard on http://%s:%s (waitress; venue %s, speed x%g)", settings.host,
                 settings.port, settings.venue, settings.speed)
        if settings.debug:
            app.enable_dev_tools(debug=True, dev_tools_hot_reload=False)
        create_server(app.server, host=settings.host, port=settings.port).run()
    finally:
        oms.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(Settings())
