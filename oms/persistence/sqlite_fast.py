"""SQLite fast path for the engine's batched writes.

SQLAlchemy's per-value type processing costs more than SQLite's own work at tens of thousands of
rows a second. On SQLite, the journal's INSERTs and UPDATEs are therefore prepared once per table
and executed with plain tuples, converted exactly as the column types would have stored them:
Money as text, UtcDateTime as naive UTC text in SQLAlchemy's SQLite format, JSON as json.dumps.
Reads still go through SQLAlchemy, so both paths must agree (tests/persistence checks they do).
Other databases use the Core statements.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.engine import Connection

from oms.persistence.types import Money, UtcDateTime

__all__ = ["SqliteWriter"]

Converter = Callable[[Any], Any]


def _money(value: Any) -> Any:
    return None if value is None else str(value)


@lru_cache(maxsize=1024)
def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _utc(value: Any) -> Any:
    # a batch repeats the same few instants (one tick's time) many times: cache the text
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"naive or non-datetime value {value!r} cannot be stored; use UTC")
    return _utc_text(value)


def _json(value: Any) -> Any:
    return None if value is None else json.dumps(value)


def _plain(value: Any) -> Any:
    return value


def _converter(column_type: Any) -> Converter:
    if isinstance(column_type, Money):
        return _money
    if isinstance(column_type, UtcDateTime):
        return _utc
    if isinstance(column_type, JSON):
        return _json
    return _plain


class _Statement:
    """One prepared statement: its SQL, and how a row dict becomes its parameter list."""

    __slots__ = ("converted", "getter", "sql")

    def __init__(self, sql: str, order: tuple[str, ...], converters: list[Converter]) -> None:
        self.sql = sql
        # itemgetter of one name returns the value itself, not a 1-tuple
        self.getter = itemgetter(*order) if len(order) > 1 else (lambda row: (row[order[0]],))
        # only the columns that need converting are touched per row
        self.converted = [(i, c) for i, c in enumerate(converters) if c is not _plain]

    def params(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        getter, converted = self.getter, self.converted
        out = []
        for row in rows:
            values = list(getter(row))
            for i, convert in converted:
                values[i] = convert(values[i])
            out.append(tuple(values))
        return out


class SqliteWriter:
    """Prepared INSERT / UPDATE-by-primary-key statements with their value converters."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, tuple[str, ...]], _Statement] = {}

    def _prepare(self, kind: str, table: Table, names: tuple[str, ...]) -> _Statement:
        key = (kind, table.name, names)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if kind in ("insert", "replace"):
            order = names
            verb = "INSERT" if kind == "insert" else "INSERT OR REPLACE"
            sql = (f"{verb} INTO {table.name} ({', '.join(names)}) "
                   f"VALUES ({', '.join('?' for _ in names)})")
        elif kind == "delete":
            order = names
            sql = f"DELETE FROM {table.name} WHERE {names[0]} = ?"
        else:
            pk, *rest = names
            order = (*rest, pk)
            sql = (f"UPDATE {table.name} SET {', '.join(f'{n} = ?' for n in rest)} "
                   f"WHERE {pk} = ?")
        converters = [_converter(table.columns[n].type) for n in order]
        statement = self._cache[key] = _Statement(sql, order, converters)
        return statement

    def insert(self, connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """INSERT ``rows`` (all with the same keys)."""
        statement = self._prepare("insert", table, tuple(rows[0]))
        connection.exec_driver_sql(statement.sql, statement.params(rows))

    def replace(self, connection: Connection, table: Table,
                rows: Sequence[dict[str, Any]]) -> None:
        """INSERT OR REPLACE ``rows`` (whole rows, all with the same keys) by primary key."""
        statement = self._prepare("replace", table, tuple(rows[0]))
        connection.exec_driver_sql(statement.sql, statement.params(rows))

    def delete(self, connection: Connection, table: Table, keys: Sequence[Any]) -> None:
        """DELETE the rows of these primary keys."""
        pk = table.primary_key.columns.values()[0].key
        statement = self._prepare("delete", table, (pk,))
        connection.exec_driver_sql(statement.sql, statement.params([{pk: k} for k in keys]))

    def update(self, connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """UPDATE rows by primary key (every row has the same keys, the key included)."""
        pk = table.primary_key.columns.values()[0].key
        statement = self._prepare("update", table, (pk, *(n for n in rows[0] if n != pk)))
        connection.exec_driver_sql(statement.sql, statement.params(rows))
