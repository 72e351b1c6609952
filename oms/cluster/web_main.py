"""``oms web``: the Dash app and the REST API of every account under gunicorn, N stateless
workers and no engine inside (commands and snapshots go through PostgreSQL; each account's
``oms engine`` applies its own). ``--account`` (OMS_ACCOUNT) is the default account, the one a
request that names none acts on. ``create_wsgi()`` is the factory each gunicorn worker calls."""

from __future__ import annotations

import os
import sys
from typing import Any

import flask

from oms.cluster.accounts import find_account, require_postgresql
from oms.config import Settings
from oms.errors import ConfigError
from oms.persistence.database import Database

__all__ = ["create_wsgi", "run_web"]


def create_wsgi() -> flask.Flask:
    """The WSGI app of one web worker, from the OMS_ environment."""
    from app import create_app
    from oms.cluster.web_directory import WebDirectory

    settings = Settings()
    require_postgresql(settings.database_url, "oms web")
    dash_app = create_app(settings, directory=WebDirectory(settings), start_engine=False)
    server: flask.Flask = dash_app.server
    return server


def run_web(*, host: str | None, port: int | None, workers: int, database_url: str | None,
            account: str | None) -> int:
    """Check the settings (PostgreSQL, the account exists, loopback or authentication), then
    replace this process by gunicorn (its workers call ``create_wsgi``)."""
    from app import is_loopback
    from oms.auth import auth_configured

    given: dict[str, Any] = {k: v for k, v in (("host", host), ("port", port),
                                               ("database_url", database_url),
                                               ("account", account)) if v is not None}
    settings = Settings(**given)
    require_postgresql(settings.database_url, "oms web")
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if not is_loopback(settings.host) and not auth_configured(settings):
        raise ConfigError(f"refusing to serve on {settings.host}: a non-loopback address needs "
                          "authentication (OMS_AUTH_USERS and OMS_API_TOKEN) or bind 127.0.0.1")
    database = Database(settings.database_url)
    try:
        find_account(database, settings.account)
    finally:
        database.dispose()
    env = {**os.environ, "OMS_DATABASE_URL": settings.database_url,
           "OMS_ACCOUNT": settings.account, "OMS_HOST": settings.host,
           "OMS_PORT": str(settings.port)}
    argv = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
            "--worker-class", "gthread", "--threads", "4",
            "--bind", f"{settings.host}:{settings.port}", "--graceful-timeout", "5",
            "oms.cluster.web_main:create_wsgi()"]
    os.execvpe(argv[0], argv, env)
    return 0  # not reached: gunicorn runs in this process
