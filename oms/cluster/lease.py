"""Fencing: one writer per account. The active engine holds ``pg_try_advisory_lock`` of its
account on a dedicated connection, and its lease row's epoch; a second engine for the account is
a hot standby that polls the lock and takes over when it is released (the holder's connection
died), incrementing the epoch. Every write transaction of an engine first checks its epoch
(``check``), so a frozen engine's writes fail once a standby took over. A standby also evicts a
holder whose heartbeat is stale while its session is still there (``pg_terminate_backend`` of
every connection of that holder, named by its ``application_name``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from typing import Any

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from oms.errors import ConfigError, Fenced, PersistenceError
from oms.persistence.repository import WriteBatch

__all__ = ["Lease", "advisory_key", "libpq_url", "settings_differences"]

log = logging.getLogger(__name__)


def advisory_key(account: str) -> int:
    """The account's advisory lock key (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"oms-engine:{account}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq connection string (for psycopg itself)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def settings_differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """``name: active=... standby=...`` for each setting that differs."""
    return [f"{name}: active={theirs.get(name)!r} standby={mine.get(name)!r}"
            for name in sorted(set(mine) | set(theirs)) if mine.get(name) != theirs.get(name)]


class Lease:
    """The account's lock and lease for one engine process (``holder`` names its sessions)."""

    def __init__(self, url: str, account: str, *, holder: str, settings: dict[str, Any],
                 stale_s: float = 5.0, poll_s: float = 0.15) -> None:
        self.account = account
        self.holder = holder
        self.settings = settings
        self.stale_s = stale_s
        self.poll_s = poll_s
        self.key = advisory_key(account)
        self.epoch: int | None = None
        self.lost = threading.Event()
        self._conn = psycopg.connect(libpq_url(url), autocommit=True, application_name=holder)
        self._thread: threading.Thread | None = None

    # -- taking the lock (active or standby) ---------------------------------------------

    def acquire(self, stop: threading.Event) -> int | None:
        """Take the lock (waiting as a standby while another engine holds it), then the next
        epoch; None when ``stop`` was set first. ConfigError when the active engine runs with
        other settings."""
        checked = False
        while not stop.is_set():
            if self._try_lock():
                return self._take_epoch()
            if not checked:
                self._refuse_other_settings()
                log.info("standby for account %s: another engine holds it; waiting", self.account)
                checked = True
            self._evict_if_stale()
            stop.wait(self.poll_s)
        return None

    def _try_lock(self) -> bool:
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row and row[0])

    def _lease_row(self) -> tuple[int, str, float, dict[str, Any]] | None:
        row = self._conn.execute(
            "SELECT epoch, holder, EXTRACT(EPOCH FROM now() - heartbeat_at), settings "
            "FROM engine_leases WHERE account = %s", (self.account,)).fetchone()
        if row is None:
            return None
        settings = row[3] if isinstance(row[3], dict) else json.loads(row[3])
        return int(row[0]), str(row[1]), float(row[2]), settings

    def _refuse_other_settings(self) -> None:
        lease = self._lease_row()
        if lease is None:
            return
        differences = settings_differences(self.settings, lease[3])
        if differences:
            self.close()
            raise ConfigError(f"standby for account {self.account} refused: its settings differ "
                              f"from the active engine's ({lease[1]}): {'; '.join(differences)}")

    def _evict_if_stale(self) -> None:
        """The holder's heartbeat is older than ``stale_s`` while its session is still there
        (a frozen process): terminate every connection of that holder, so the lock is freed
        and no transaction of it can commit."""
        lease = self._lease_row()
        if lease is None or lease[2] < self.stale_s or lease[1] == self.holder:
            return
        pids = [r[0] for r in self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND pid <> "
            "pg_backend_pid()", (lease[1],))]
        if pids:
            log.warning("account %s: holder %s silent for %.1f s; terminating its %d sessions",
                        self.account, lease[1], lease[2], len(pids))
            for pid in pids:
                self._conn.execute("SELECT pg_terminate_backend(%s)", (pid,))

    def _take_epoch(self) -> int:
        for _ in range(50):
            try:
                with self._conn.transaction():
                    self._conn.execute("SET LOCAL lock_timeout = '2s'")
                    row = self._conn.execute(
                        "INSERT INTO engine_leases (account, epoch, holder, heartbeat_at, settings)"
                        " VALUES (%s, 1, %s, now(), %s) ON CONFLICT (account) DO UPDATE SET "
                        "epoch = engine_leases.epoch + 1, holder = EXCLUDED.holder, "
                        "heartbeat_at = now(), settings = EXCLUDED.settings RETURNING epoch",
                        (self.account, self.holder, json.dumps(self.settings))).fetchone()
            except psycopg.errors.LockNotAvailable:  # a frozen writer holds the lease row
                self._evict_if_stale()
                continue
            assert row is not None
            self.epoch = int(row[0])
            log.info("account %s: engine %s is active (epoch %d)", self.account, self.holder,
                     self.epoch)
            return self.epoch
        raise PersistenceError(f"account {self.account}: the lease row stayed locked")

    # -- while active ----------------------------------------------------------------------

    def check(self, session: Session, batch: WriteBatch) -> None:
        """Write check: this engine still holds its epoch (else Fenced: the batch rolls back)."""
        self.check_connection(session)

    def check_connection(self, session: Session | Connection) -> None:
        """The epoch check inside the caller's transaction (Fenced when it is lost)."""
        result = session.execute(
            text("UPDATE engine_leases SET heartbeat_at = now() "
                 "WHERE account = :account AND epoch = :epoch"),
            {"account": self.account, "epoch": self.epoch})
        if self.lost.is_set() or getattr(result, "rowcount", 0) != 1:
            self.lost.set()
            raise Fenced(f"account {self.account}: epoch {self.epoch} is no longer this "
                         "engine's (a standby took over); nothing written")

    def start_heartbeat(self, every_s: float | None = None) -> None:
        """Beat from a thread of its own (a frozen process stops beating)."""
        interval = every_s if every_s is not None else max(0.05, self.stale_s / 5)
        self._thread = threading.Thread(target=self._beat, args=(interval,),
                                        name="lease-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self, interval: float) -> None:
        while not self.lost.is_set():
            try:
                cursor = self._conn.execute(
                    "UPDATE engine_leases SET heartbeat_at = now() "
                    "WHERE account = %s AND epoch = %s", (self.account, self.epoch))
                if cursor.rowcount != 1:
                    log.error("account %s: lease lost (epoch %s taken over)", self.account,
                              self.epoch)
                    self.lost.set()
            except psycopg.Error as exc:  # the lock's session is gone: so is the lock
                log.error("account %s: lease connection lost: %s", self.account, exc)
                self.lost.set()
            time.sleep(interval)

    def close(self) -> None:
        """Release the lock (closing its session does)."""
        self.lost.set()
        if not self._conn.closed:
            self._conn.close()
