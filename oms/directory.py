"""The accounts a process serves and which one a request is for.

The Dash app and the REST API find an ``OmsDirectory`` in the Flask config: the embedded mode
(``oms run``) serves one account (``SingleAccount``), a web worker of the split deployment every
account of the registry (oms.cluster.web_directory). A request names its account with the
``account`` query argument (strict: an unknown name is NotFound, HTTP 404 naming it); otherwise
the account the dashboard's switcher chose (the ``oms_account`` cookie, ignored when it names no
account); otherwise the process's default account. A page's address may name it too
(``/orders?account=NAME``, what the switcher reloads); there an unknown name is ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import flask

from oms.auth import machine_path
from oms.errors import FieldError, NotFound, ValidationError

if TYPE_CHECKING:
    from oms.bootstrap import Oms

__all__ = ["ACCOUNT_ARG", "ACCOUNT_COOKIE", "DEFAULT_KEY", "DIRECTORY_KEY", "OmsDirectory",
           "SingleAccount", "current_directory", "current_oms", "requested_account"]

DIRECTORY_KEY = "OMS_DIRECTORY"
DEFAULT_KEY = "OMS"  # the default account's Oms (what tests and tools reach for)
ACCOUNT_ARG = "account"
ACCOUNT_COOKIE = "oms_account"
_MAX_NAME = 64


class OmsDirectory(Protocol):
    """The OMS of each account this process serves."""

    @property
    def default(self) -> str:
        """The account of a request that names none."""

    def names(self) -> list[str]:
        """Every account served, by name."""

    def get(self, name: str) -> Oms:
        """The OMS of account ``name``; NotFound naming it."""

    def close(self) -> None:
        """Close every account's parts."""


class SingleAccount:
    """The embedded mode: one process, one engine, one account."""

    def __init__(self, oms: Oms) -> None:
        self.oms = oms

    @property
    def default(self) -> str:
        return self.oms.settings.account

    def names(self) -> list[str]:
        return [self.default]

    def get(self, name: str) -> Oms:
        if name != self.default:
            raise NotFound(FieldError(ACCOUNT_ARG, f"no account {name!r:.70}: this process "
                                                   f"serves {self.default!r} only"))
        return self.oms

    def close(self) -> None:
        self.oms.close()


def current_directory() -> OmsDirectory:
    """The directory of the app serving the current request."""
    directory: OmsDirectory = flask.current_app.config[DIRECTORY_KEY]
    return directory


def requested_account(directory: OmsDirectory) -> str:
    """The account of the current request (see the module's docstring); ValidationError for
    an ``account`` argument that is empty or too long."""
    if not flask.has_request_context():
        return directory.default
    named = flask.request.args.get(ACCOUNT_ARG)
    if named is not None:
        if not 0 < len(named) <= _MAX_NAME:
            raise ValidationError(FieldError(ACCOUNT_ARG, f"must be 1-{_MAX_NAME} characters, "
                                                          f"got {len(named)}"))
        if machine_path(flask.request.path) or named in directory.names():  # API: strict
            return named
    chosen = flask.request.cookies.get(ACCOUNT_COOKIE)
    if chosen and chosen in directory.names():
        return chosen
    return directory.default


def current_oms() -> Oms:
    """The OMS of the current request's account (NotFound for an unknown ``account``)."""
    directory = current_directory()
    return directory.get(requested_account(directory))
