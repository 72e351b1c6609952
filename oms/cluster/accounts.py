"""Accounts of the split deployment (``oms accounts add|list``): a name, a venue, settings that
are never secrets, and where the keys live (a file path or the names of environment variables).
Split mode runs on PostgreSQL only; an SQLite URL is refused before anything is written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from oms.errors import ConfigError, FieldError, NotFound, ValidationError
from oms.persistence.cluster_tables import AccountRow
from oms.persistence.database import Database

__all__ = ["AccountInfo", "add_account", "find_account", "list_accounts", "require_postgresql"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# setting names that would carry a secret: refused, the key file reference is the way
_SECRET = re.compile(r"(secret|password|passwd|api[_-]?key|token|private|credential|auth)",
                     re.IGNORECASE)
# process-wide settings (and the ones carrying credentials), never an account's
_NOT_ACCOUNT_SETTINGS = {"account", "database_url", "auth_users", "api_token", "host", "port"}
_TABLE: Table = AccountRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """One account as stored (no secret in it)."""

    name: str
    venue: str
    settings: dict[str, Any]
    key_file: str | None
    created_at: datetime


def require_postgresql(url: str, what: str) -> None:
    """ConfigError unless ``url`` is PostgreSQL (split mode shares the database between
    processes and takes rows FOR UPDATE SKIP LOCKED: SQLite cannot)."""
    backend = make_url(url).get_backend_name()
    if backend != "postgresql":
        raise ConfigError(f"{what} needs a PostgreSQL OMS_DATABASE_URL (got {backend}); the "
                          "embedded mode on SQLite is `oms run`. Nothing was written")


def _keys(settings: dict[str, Any]) -> list[str]:
    """Every key of the settings, nested ones included (``binance={"api_key": ...}``)."""
    keys: list[str] = []
    for key, value in settings.items():
        keys.append(str(key))
        if isinstance(value, dict):
            keys += _keys(value)
    return keys


def _info(row: Any) -> AccountInfo:
    return AccountInfo(row.name, row.venue, dict(row.settings), row.key_file, row.created_at)


def add_account(database: Database, name: str, *, venue: str = "paper",
                settings: dict[str, Any] | None = None, key_file: str | None = None) -> AccountInfo:
    """Create an account (the schema is migrated first); ValidationError for a bad name, a
    secret-looking setting or a name taken."""
    errors: list[FieldError] = []
    if not _NAME.match(name):
        errors.append(FieldError("name", f"letters, digits, '_', '.', '-' (1-64), got "
                                         f"{name!r:.70}"))
    errors += [FieldError("settings", f"{key!r} looks like a secret: give --key-file instead")
               for key in _keys(settings or {}) if _SECRET.search(key)]
    errors += [FieldError("settings", f"{key!r} is not an account setting")
               for key in (settings or {}) if key in _NOT_ACCOUNT_SETTINGS]
    if errors:
        raise ValidationError(errors)
    database.migrate()
    info = AccountInfo(name, venue, dict(settings or {}), key_file, datetime.now(UTC))
    try:
        with database.engine.begin() as connection:
            connection.execute(insert(_TABLE).values(
                name=info.name, venue=info.venue, settings=info.settings,
                key_file=info.key_file, created_at=info.created_at))
    except IntegrityError:
        raise ValidationError(FieldError("name", f"account {name!r} exists")) from None
    return info


def list_accounts(database: Database) -> list[AccountInfo]:
    """Every account, by name (none before the first ``add``; nothing is written)."""
    if "accounts" not in inspect(database.engine).get_table_names():
        return []
    with database.engine.connect() as connection:
        return [_info(r) for r in connection.execute(select(_TABLE).order_by(_TABLE.c.name))]


def find_account(database: Database, name: str) -> AccountInfo:
    """The account named ``name``; NotFound naming it (nothing is written either way)."""
    for info in list_accounts(database):
        if info.name == name:
            return info
    raise NotFound(FieldError("account", f"no account {name!r}: create it with "
                                         f"`oms accounts add {name}`"))
