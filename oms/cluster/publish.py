"""What an account's engine shares with the web workers besides command replies: its latest
snapshot (one ``engine_snapshots`` row, replaced, fenced by the lease, NOTIFY at commit), and the
kill switch's wake-up (a listener thread that closes the in-process halt gate on the web's
NOTIFY, before any tick)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Table, select, text
from sqlalchemy.dialects.postgresql import insert

from oms.cluster.lease import Lease, libpq_url
from oms.cluster.source import NEW_CHANNEL
from oms.cluster.values import from_json, to_json
from oms.persistence.cluster_tables import EngineSnapshotRow
from oms.persistence.database import Database
from oms.risk.halt import HaltGate
from oms.runtime import EngineHealth
from oms.snapshot import EngineSnapshot

__all__ = ["HALT_CHANNEL", "SNAPSHOT_CHANNEL", "HaltListener", "SnapshotPublisher",
           "halt_payload", "read_snapshot"]

log = logging.getLogger(__name__)

HALT_CHANNEL = "oms_halt"  # payload: {"account", "reason", "at"} (JSON)
SNAPSHOT_CHANNEL = "oms_snapshot"  # payload: the account
_TABLE: Table = EngineSnapshotRow.__table__  # type: ignore[assignment]


def halt_payload(account: str, reason: str, at: datetime) -> str:
    """The NOTIFY payload of a kill (a reason is at most a few hundred characters)."""
    return json.dumps({"account": account, "reason": reason, "at": at.isoformat()})


class SnapshotPublisher:
    """Writes the engine's latest snapshot and scheduler health as the account's row."""

    def __init__(self, database: Database, account: str, lease: Lease,
                 snapshot: Callable[[], EngineSnapshot],
                 health: Callable[[], EngineHealth]) -> None:
        self.database = database
        self.account = account
        self.lease = lease
        self._snapshot = snapshot
        self._health = health
        self._last: datetime | None = None

    def publish(self) -> bool:
        """Write the snapshot if the engine published a new one; False when nothing changed."""
        snap = self._snapshot()
        if snap.wall_ts == self._last:
            return False
        health = self._health()
        row = {"account": self.account, "ts": snap.ts, "updated_at": datetime.now(UTC),
               "snapshot": {"engine": to_json(snap), "health": to_json(health)}}
        upsert = insert(_TABLE).values(row)
        with self.database.engine.begin() as connection:
            self.lease.check_connection(connection)
            connection.execute(upsert.on_conflict_do_update(
                index_elements=[_TABLE.c.account],
                set_={"ts": upsert.excluded.ts, "updated_at": upsert.excluded.updated_at,
                      "snapshot": upsert.excluded.snapshot}))
            connection.execute(text("SELECT pg_notify(:c, :a)"),
                               {"c": SNAPSHOT_CHANNEL, "a": self.account})
        self._last = snap.wall_ts
        return True


def read_snapshot(database: Database, account: str
                  ) -> tuple[EngineSnapshot, EngineHealth, datetime] | None:
    """The account's latest published snapshot, its engine's health and when it was written."""
    with database.engine.connect() as connection:
        row = connection.execute(select(_TABLE.c.snapshot, _TABLE.c.updated_at)
                                 .where(_TABLE.c.account == account)).first()
    if row is None:
        return None
    stored: dict[str, Any] = row[0]
    return (from_json(stored["engine"], EngineSnapshot),
            from_json(stored["health"], EngineHealth), row[1])


class HaltListener:
    """LISTENs for kills of one account and closes the halt gate the moment one arrives; and
    for its new commands, calling ``on_command`` (the runtime's ``wake``: tick now)."""

    def __init__(self, url: str, account: str, gate: HaltGate,
                 on_command: Callable[[], None] | None = None) -> None:
        self.account = account
        self.gate = gate
        self.on_command = on_command
        self.latencies_ms: list[float] = []  # kill written -> gate closed, wall clock
        self._url = libpq_url(url)
        self._stop = threading.Event()
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="halt-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {HALT_CHANNEL}")
                    if self.on_command is not None:
                        conn.execute(f"LISTEN {NEW_CHANNEL}")
                    self.ready.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            if note.channel == HALT_CHANNEL:
                                self._on(note.payload)
                            elif note.payload == self.account and self.on_command is not None:
                                self.on_command()
            except psycopg.Error as exc:  # the tick's durable check covers the gap
                log.warning("halt listener failed (%s); reconnecting", exc)
                self._stop.wait(0.5)

    def _on(self, payload: str) -> None:
        try:
            kill = json.loads(payload)
        except json.JSONDecodeError:
            return
        if kill.get("account") != self.account:
            return
        at = datetime.fromisoformat(kill["at"])
        self.gate.halt(str(kill.get("reason", "kill switch")), datetime.now(UTC))
        latency = (datetime.now(UTC) - at).total_seconds() * 1000
        self.latencies_ms.append(latency)
        log.warning("account %s: kill received, halt gate closed %.1f ms after the kill was "
                    "written", self.account, latency)

    def stop(self) -> None:
        self._stop.set()

