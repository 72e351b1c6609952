"""Accounts of the split deployment (``oms accounts add|list``): a name, a venue, settings that
are never secrets, and where the keys live (a file path or the names of environment variables).
Split mode runs on PostgreSQL only; an SQLite URL is refused before anything is written.

The registry (``accounts``) lives in the database's default schema; each account's orders,
sessions, commands, lease and snapshot live in a schema of its own (``account_schema``), so one
account's engine, limits, positions and TCA never see another's. ``account_url`` is the
database URL of one account (every connection's search path set to its schema)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from oms.config import Settings
from oms.errors import ConfigError, FieldError, NotFound, ValidationError
from oms.persistence.cluster_tables import AccountRow
from oms.persistence.database import Database, with_schema

__all__ = ["AccountInfo", "account_schema", "account_settings", "account_url", "add_account",
           "find_account", "list_accounts", "require_postgresql"]

# 58 at most: its schema ``acct_<name>`` must fit PostgreSQL's 63-byte identifiers
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,57}$")
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

    @property
    def schema(self) -> str:
        """The PostgreSQL schema of this account's tables."""
        return account_schema(self.name)


def account_schema(name: str) -> str:
    """The schema of account ``name``: ``acct_`` and the name in lower case, with ``.`` and
    ``-`` as ``_`` (two names that would share a schema cannot both be added)."""
    return "acct_" + re.sub(r"[^a-z0-9_]", "_", name.lower())[:58]


def account_url(url: str, name: str) -> str:
    """The database URL of account ``name``'s tables (``url``: the registry's database)."""
    return with_schema(url, account_schema(name))


def account_settings(base: Settings, account: AccountInfo, **flags: Any) -> Settings:
    """The settings of ``account``'s engine and web workers: the environment's (``base``, whose
    ``database_url`` is the registry's), then the account's stored ones, then ``flags``; on the
    account's own schema."""
    return Settings(**{**base.model_dump(exclude_unset=True), **account.settings, **flags,
                       "account": account.name, "venue": account.venue,
                       "database_url": account_url(base.database_url, account.name)})


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
    """Create an account: the registry row, then its own schema, migrated (the registry's
    schema is migrated first); ValidationError for a bad name, a secret-looking setting, a
    name taken or one whose schema another account has (``a.b`` and ``a_b``)."""
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
    clash = [a.name for a in list_accounts(database) if a.schema == info.schema]
    if clash:
        raise ValidationError(FieldError("name", f"account {clash[0]!r} exists and would "
                                                 f"share the schema {info.schema}"))
    # its schema first (migrating an existing one changes nothing), so that no registered
    # account is ever without its tables
    own = Database(account_url(database.url.render_as_string(hide_password=False), name))
    try:
        own.migrate()
    finally:
        own.dispose()
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
    raise NotFound(FieldError("account", f"no account {name!r:.70}: create it with "
                                         f"`oms accounts add {name}`"))
