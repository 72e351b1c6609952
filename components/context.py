"""Where callbacks find the OMS: the account directory in the Flask app config of the current
request (set by ``create_app``; oms.directory picks the request's account), so pages keep no
module-level mutable state and each app is isolated."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from oms.auth import USER_KEY
from oms.directory import DEFAULT_KEY, current_directory, current_oms

if TYPE_CHECKING:
    from oms.runtime import EngineHealth
    from oms.service import OmsService

__all__ = ["OMS_KEY", "USER_KEY", "current_actor", "current_directory", "current_oms",
           "engine_health", "service"]

OMS_KEY = DEFAULT_KEY


def service() -> OmsService:
    """The OmsService of the current app: the only thing pages call."""
    return current_oms().service


def engine_health() -> EngineHealth:
    """Scheduler health of the current app's runtime."""
    return current_oms().runtime.health()


def current_actor(default: str = "dashboard") -> str:
    """The authenticated user of this request, for the audit trail (``default`` without auth)."""
    if flask.has_request_context():
        user = flask.g.get(USER_KEY)
        if user:
            return f"{default}:{user}"
    return default
