"""SQLite fast path for the engine's batched writes.

SQLAlchemy's per-value type processing costs more than SQLite's own work at tens of thousands of
rows a second. On SQLite, the journal's INSERTs and UPDATEs are therefore prepared once per table
and executed with plain tuples, converted exactly as the column types would have stored them:
Money as text, UtcDateTime as naive UTC text in SQLAlchemy's SQLite format, JSON as json.dumps
(a value the journal already encoded, ``JsonText``, as its text). They run on the sqlite3
connection itself (``executemany``; SQLAlchemy's execution layer costs more than the statement),
inside the transaction of whoever holds it, and raise sqlite3.Error as it is. Reads still go
through SQLAlchemy, so both paths must agree (tests/persistence checks they do). Other databases
use the Core statements.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Table

from oms.persistence.json_codec import dumps
from oms.persistence.rows import JsonText
from oms.persistence.types import Money, UtcDateTime

__all__ = ["SqliteWriter", "driver_connection"]

Params = Callable[[Sequence[Any]], list[tuple[Any, ...]]]

#: a batch repeats the same few instants (one tick's time) many times: their text, by instant
_UTC_TEXT: dict[datetime, str] = {}
_UTC_TEXT_SIZE = 4096


def _utc(value: Any) -> str:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"naive or non-datetime value {value!r} cannot be stored; use UTC")
    text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if len(_UTC_TEXT) >= _UTC_TEXT_SIZE:
        _UTC_TEXT.clear()
    _UTC_TEXT[value] = text
    return text


def _json(value: Any) -> str:
    return value.text if type(value) is JsonText else dumps(value)


#: how one column's value becomes its parameter, as an expression of ``v`` (never None there)
_MONEY, _UTC_EXPR, _JSON = "str(v)", "(_utc_text(v) or _utc(v))", "_json(v)"


def _expression(column_type: Any) -> str | None:
    if isinstance(column_type, Money):
        return _MONEY
    if isinstance(column_type, UtcDateTime):
        return _UTC_EXPR
    if isinstance(column_type, JSON):
        return _JSON
    return None  # stored as it is


def _compile(sources: Sequence[str], expressions: Sequence[str | None]) -> Params:
    """One function building every row's parameter tuple in a single comprehension.

    ``sources`` are the expressions reading each value from a row ``r``; a column without a
    conversion is passed as it is, the others are converted inline (None stays None), so no
    call or list is made per value. Generated once per statement, as namedtuple and dataclasses
    generate their methods.
    """
    items = []
    for source, expression in zip(sources, expressions, strict=True):
        if expression is None:
            items.append(source)
        else:
            items.append(f"(None if (v := {source}) is None else {expression})")
    code = f"def params(rows):\n    return [({', '.join(items)},) for r in rows]\n"
    namespace: dict[str, Any] = {"_utc_text": _UTC_TEXT.get, "_utc": _utc, "_json": _json}
    # the source holds only the repr of column names the table declares (see _prepare)
    exec(code, namespace)
    params: Params = namespace["params"]
    return params


def driver_connection(connection: Any) -> sqlite3.Connection:
    """The sqlite3 connection under a SQLAlchemy Connection (or a pooled DBAPI connection)."""
    driver = getattr(connection, "driver_connection", None)
    if driver is None:  # a SQLAlchemy Connection: its pooled DBAPI connection holds it
        driver = connection.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):
        raise TypeError(f"not a sqlite3 connection: {type(driver).__name__}")
    return driver


class _Statement:
    """One prepared statement: its SQL, and how its rows become parameter tuples."""

    __slots__ = ("params", "sql")

    def __init__(self, sql: str, params: Params) -> None:
        self.sql = sql
        self.params = params


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
        expressions = [_expression(table.columns[n].type) for n in order]
        # a delete's rows are the keys themselves, the others' dicts by column name
        sources = ["r"] if kind == "delete" else [f"r[{n!r}]" for n in order]
        statement = self._cache[key] = _Statement(sql, _compile(sources, expressions))
        return statement

    def insert(self, connection: sqlite3.Connection, table: Table,
               rows: Sequence[dict[str, Any]]) -> None:
        """INSERT ``rows`` (all with the same keys)."""
        statement = self._prepare("insert", table, tuple(rows[0]))
        connection.executemany(statement.sql, statement.params(rows))

    def replace(self, connection: sqlite3.Connection, table: Table,
                rows: Sequence[dict[str, Any]]) -> None:
        """INSERT OR REPLACE ``rows`` (whole rows, all with the same keys) by primary key."""
        statement = self._prepare("replace", table, tuple(rows[0]))
        connection.executemany(statement.sql, statement.params(rows))

    def delete(self, connection: sqlite3.Connection, table: Table,
               keys: Sequence[Any]) -> None:
        """DELETE the rows of these primary keys."""
        pk = table.primary_key.columns.values()[0].key
        statement = self._prepare("delete", table, (pk,))
        connection.executemany(statement.sql, statement.params(keys))

    def update(self, connection: sqlite3.Connection, table: Table,
               rows: Sequence[dict[str, Any]]) -> None:
        """UPDATE rows by primary key (every row has the same keys, the key included)."""
        pk = table.primary_key.columns.values()[0].key
        statement = self._prepare("update", table, (pk, *(n for n in rows[0] if n != pk)))
        connection.executemany(statement.sql, statement.params(rows))
