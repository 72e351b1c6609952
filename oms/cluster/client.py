"""The web side of commands as rows: insert a command for an account, then wait for the engine's
reply (LISTEN/NOTIFY wakes the waiters, polling is the fallback) and re-raise its error as the
embedded service would; past the timeout, NotYetApplied carries the command's id."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Table, insert, select, text

from oms.cluster.codec import encode_command, raise_reply
from oms.cluster.lease import libpq_url
from oms.cluster.source import DONE_CHANNEL, NEW_CHANNEL
from oms.commands import Command
from oms.errors import FieldError, NotFound, NotYetApplied
from oms.persistence.cluster_tables import CommandRow
from oms.persistence.database import Database

__all__ = ["CommandClient"]

log = logging.getLogger(__name__)
_COMMANDS: Table = CommandRow.__table__  # type: ignore[assignment]


class _Listener:
    """One LISTEN connection per process; every notification bumps a generation counter that
    waiters block on, so a notification between a waiter's check and its wait is not lost."""

    def __init__(self, url: str) -> None:
        self._url = libpq_url(url)
        self._cond = threading.Condition()
        self.generation = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="oms-listen", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {DONE_CHANNEL}")
                    self._bump()  # (re)connected: waiters re-check what they missed
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self._bump()
            except psycopg.Error as exc:  # polling covers the gap until it reconnects
                log.warning("LISTEN %s failed (%s); polling until it reconnects",
                            DONE_CHANNEL, exc)
                self._stop.wait(0.5)

    def _bump(self) -> None:
        with self._cond:
            self.generation += 1
            self._cond.notify_all()

    def wait_past(self, generation: int, timeout_s: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self.generation != generation, timeout=timeout_s)

    def stop(self) -> None:
        self._stop.set()


class CommandClient:
    """Send commands to an account's engine through the ``commands`` table of its schema
    (``database``: the account's, oms.cluster.accounts.account_url; the web worker's account
    directory answers NotFound for an account that does not exist before one is sent)."""

    def __init__(self, database: Database, *, poll_s: float = 0.25) -> None:
        self.database = database
        self.poll_s = poll_s
        self._listener = _Listener(database.url.render_as_string(hide_password=False))

    def send(self, account: str, command: Command) -> int:
        """Store the command; its id."""
        kind, payload = encode_command(command)
        with self.database.engine.begin() as connection:
            command_id = connection.execute(insert(_COMMANDS).values(
                account=account, kind=kind, payload=payload, actor=command.actor,
                status="pending", created_at=datetime.now(UTC)).returning(_COMMANDS.c.id)
            ).scalar_one()
            connection.execute(text("SELECT pg_notify(:channel, :account)"),
                               {"channel": NEW_CHANNEL, "account": account})
        return int(command_id)

    def reply(self, command_id: int) -> tuple[str, dict[str, Any] | None]:
        """The command's status and reply (None while pending)."""
        with self.database.engine.connect() as connection:
            row = connection.execute(select(_COMMANDS.c.status, _COMMANDS.c.reply)
                                     .where(_COMMANDS.c.id == command_id)).first()
        if row is None:
            raise NotFound(FieldError("command_id", f"no command {command_id}"))
        return str(row[0]), row[1]

    def wait(self, command_id: int, account: str, timeout_s: float) -> Any:
        """The command's result, or raise its error; NotYetApplied after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            generation = self._listener.generation
            status, reply = self.reply(command_id)
            if status != "pending" and reply is not None:
                return raise_reply(reply)
            left = deadline - time.monotonic()
            if left <= 0:
                raise NotYetApplied(command_id, account, timeout_s)
            self._listener.wait_past(generation, min(left, self.poll_s))

    def call(self, account: str, command: Command, timeout_s: float = 10.0) -> Any:
        """``send`` then ``wait``."""
        return self.wait(self.send(account, command), account, timeout_s)

    def close(self) -> None:
        """Stop listening."""
        self._listener.stop()
