"""Database connection: SQLite (WAL, foreign keys) by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from oms.errors import ConfigError
from oms.persistence.json_codec import dumps

__all__ = ["Database", "schema_of", "with_schema"]

_MIGRATIONS = Path(__file__).with_name("migrations")
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SEARCH_PATH = re.compile(r"-c\s*search_path=(\S+)")


def with_schema(url: str, schema: str) -> str:
    """``url`` (PostgreSQL) with every connection's ``search_path`` set to ``schema`` alone, so
    the tables of one account live apart from another's in one database (raw psycopg
    connections made from the URL get it too). ValueError for a name that is not a plain
    lower-case identifier."""
    if not _SCHEMA.match(schema):
        raise ValueError(f"schema must be a lower-case identifier, got {schema!r:.70}")
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"a schema needs PostgreSQL, got {parsed.get_backend_name()}")
    given = parsed.query.get("options", "")
    options = " ".join(([given] if isinstance(given, str) and given else [])
                       + [f"-csearch_path={schema}"])
    return parsed.update_query_dict({"options": options}).render_as_string(
        hide_password=False)


def schema_of(url: str | URL) -> str | None:
    """The schema ``with_schema`` put in ``url`` (None: the server's default search path)."""
    options = make_url(url).query.get("options", "")
    found = _SEARCH_PATH.findall(options if isinstance(options, str) else " ".join(options))
    return str(found[-1]) if found else None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """An SQLAlchemy engine plus a session factory; ``migrate()`` brings the schema to head."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        # JSON columns: the same text whichever path writes them (oms.persistence.json_codec)
        kwargs: dict[str, Any] = {"json_serializer": dumps}
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False}
        self.url = parsed
        self.engine: Engine = create_engine(parsed, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Run Alembic migrations up to head (creates the schema on first start; an older
        schema is upgraded; a PostgreSQL schema named in the URL is created first).
        ConfigError naming the database when it cannot be."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        schema = schema_of(self.url)
        try:
            with self.engine.begin() as connection:
                if schema is not None:
                    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except (CommandError, SQLAlchemyError) as exc:
            where = self.url.render_as_string(hide_password=True)
            raise ConfigError(f"database {where} cannot be brought to this version's schema: "
                              f"{exc}") from exc

    def session(self) -> Session:
        """A new session (one per thread, short-lived for reads)."""
        return self.sessions()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
