"""Database connection: SQLite (WAL, foreign keys) by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from oms.errors import ConfigError
from oms.persistence.json_codec import dumps

__all__ = ["Database"]

_MIGRATIONS = Path(__file__).with_name("migrations")


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
        schema is upgraded). ConfigError naming the database when it cannot be."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        try:
            with self.engine.begin() as connection:
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
