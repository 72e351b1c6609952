"""A web worker's accounts: every account of the registry, each with its own parts
(oms.cluster.remote.build_web_oms on its own schema), built the first time a request names it
and kept for the worker's life; an account added while the worker runs is served at once."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, cast

from oms.cluster.accounts import account_settings, find_account, list_accounts
from oms.cluster.remote import WebOms, build_web_oms
from oms.config import Settings
from oms.persistence.database import Database

if TYPE_CHECKING:
    from oms.bootstrap import Oms

__all__ = ["NAMES_TTL_S", "WebDirectory"]

NAMES_TTL_S = 2.0  # the account list (the switcher's options) is read at most this often


class WebDirectory:
    """The OmsDirectory of a web worker (``settings``: the environment's, on the registry's
    database; ``settings.account`` is the default account)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = Database(settings.database_url)
        self._lock = threading.Lock()
        self._served: dict[str, WebOms] = {}
        self._names: list[str] = []
        self._names_at = -NAMES_TTL_S

    @property
    def default(self) -> str:
        return self.settings.account

    def names(self) -> list[str]:
        with self._lock:
            if time.monotonic() - self._names_at > NAMES_TTL_S:
                self._names = [a.name for a in list_accounts(self.registry)]
                self._names_at = time.monotonic()
            return list(self._names)

    def get(self, name: str) -> Oms:
        with self._lock:
            served = self._served.get(name)
            if served is None:
                info = find_account(self.registry, name)  # NotFound naming it
                served = build_web_oms(account_settings(self.settings, info))
                self._served[name] = served
            return cast("Oms", served)

    def close(self) -> None:
        with self._lock:
            for served in self._served.values():
                served.close()
            self._served.clear()
        self.registry.dispose()
