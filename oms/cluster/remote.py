"""The web side of the split deployment: an OmsService whose commands are rows for the account's
engine (oms.cluster.client) and whose snapshot is the engine's published row; the kill switch
commits the halt in the worker's own transaction before it answers, then NOTIFYs the engine and
queues the cancel-all. ``build_web_oms`` wires what the Dash app and the REST API need, with no
engine inside."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select, text

from oms.alerts.feed import AlertFeed
from oms.cluster.client import CommandClient
from oms.cluster.publish import HALT_CHANNEL, halt_payload, read_snapshot
from oms.commands import Command, KillSwitch
from oms.config import Settings
from oms.errors import OmsError, PersistenceError
from oms.persistence.cluster_tables import CommandRow
from oms.persistence.database import Database
from oms.persistence.repository import Repository
from oms.risk.halt import HaltGate
from oms.runtime import EngineHealth
from oms.service import OmsService
from oms.service_inputs import validate_reason
from oms.snapshot import EngineSnapshot

__all__ = ["RemoteRuntime", "RemoteService", "WebOms", "build_web_oms"]

log = logging.getLogger(__name__)
_COMMANDS: Table = CommandRow.__table__  # type: ignore[assignment]
SNAPSHOT_TTL_S = 0.1  # one worker decodes the snapshot row at most this often
STALE_S = 5.0  # an engine whose snapshot is older than this is shown as not running


class _SnapshotCache:
    """The account's latest snapshot row, decoded at most every SNAPSHOT_TTL_S per worker."""

    def __init__(self, database: Database, account: str) -> None:
        self.database = database
        self.account = account
        self._lock = threading.Lock()
        self._value: tuple[EngineSnapshot, EngineHealth, datetime] | None = None
        self._read_at = 0.0

    def get(self) -> tuple[EngineSnapshot, EngineHealth, datetime] | None:
        with self._lock:
            if self._value is None or time.monotonic() - self._read_at > SNAPSHOT_TTL_S:
                self._value = read_snapshot(self.database, self.account) or self._value
                self._read_at = time.monotonic()
            return self._value


class RemoteService(OmsService):
    """OmsService for a web worker: validation as embedded, commands through the database."""

    def __init__(self, client: CommandClient, repository: Repository, settings: Settings,
                 gate: HaltGate, snapshots: _SnapshotCache) -> None:
        # the embedded service's engine is not here: every method that used it is overridden
        self.client = client
        self.repository = repository
        self.settings = settings
        self.gate = gate
        self.timeout_s = settings.command_timeout_s
        self.account = settings.account
        self._snapshots = snapshots

    def _call(self, command: Command, wait: bool) -> Any:
        """The reply (re-raising the engine's error), or the command id when not ``wait``;
        NotYetApplied (HTTP 202) when the engine did not answer in time."""
        if not wait:
            return self.client.send(self.account, command)
        return self.client.call(self.account, command, self.timeout_s)

    def kill(self, reason: object = "kill switch", *, actor: str = "api",
             wait: bool = False) -> Any:
        """Halt: commit the halt rows now (durable before this returns), NOTIFY the engine
        (its listener closes the halt gate at once), queue the cancel-all. PersistenceError
        when the halt could not be committed (the NOTIFY and the cancel-all still go)."""
        text_reason = validate_reason(reason)
        latest = self._snapshots.get()
        now = latest[0].ts if latest is not None else datetime.now(UTC)  # the engine's clock
        previous = str(latest[0].trading_state) if latest is not None else "ACTIVE"
        failure: Exception | None = None
        try:
            self.repository.record_halt(now, text_reason, actor, previous=previous)
        except Exception as exc:  # the wake-up and the cancel-all must still be sent
            failure = exc
        try:
            with self.repository.db.engine.begin() as connection:
                connection.execute(text("SELECT pg_notify(:c, :p)"), {
                    "c": HALT_CHANNEL,
                    "p": halt_payload(self.account, text_reason, datetime.now(UTC))})
        except Exception as exc:  # the engine's tick reads the durable halt all the same
            log.error("kill NOTIFY for %s failed: %s", self.account, exc)
        command_id = self.client.send(
            self.account, KillSwitch(text_reason, actor=actor, durable=failure is None))
        if failure is not None:
            raise PersistenceError(f"the kill is queued (command {command_id}) but the halt is "
                                   f"not yet durable: {failure}") from failure
        return self.client.wait(command_id, self.account, self.timeout_s) if wait \
            else command_id

    def snapshot(self) -> EngineSnapshot:
        """The account's latest published snapshot (OmsError before the first one)."""
        latest = self._snapshots.get()
        if latest is None:
            raise OmsError(f"the engine of account {self.account} has not published yet")
        return latest[0]

    def command_queue_depth(self) -> int:
        """Commands of this account not yet applied."""
        with self.repository.db.engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(_COMMANDS).where(
                _COMMANDS.c.account == self.account, _COMMANDS.c.status == "pending")).scalar()
        return int(count or 0)


class RemoteRuntime:
    """The engine's scheduler health as its last snapshot row tells it (no scheduler here)."""

    def __init__(self, snapshots: _SnapshotCache) -> None:
        self._snapshots = snapshots
        self.tick_observers: list[Any] = []  # no ticks in a web worker

    @property
    def running(self) -> bool:
        latest = self._snapshots.get()
        return latest is not None and (datetime.now(UTC) - latest[2]).total_seconds() < STALE_S

    def health(self) -> EngineHealth:
        latest = self._snapshots.get()
        if latest is None:
            return EngineHealth(False, 0, 0, "no engine has published yet", None)
        health = latest[1]
        return EngineHealth(self.running, health.errors, health.missed, health.last_problem,
                            health.last_problem_at)

    def start(self) -> None:
        """Nothing to start: the engine runs in its own process (``oms engine``)."""

    def stop(self) -> None:
        """Nothing to stop."""


@dataclass(slots=True)
class WebOms:
    """What the Dash app and the REST API find in the Flask config, for a web worker."""

    settings: Settings
    database: Database
    repository: Repository
    gate: HaltGate
    service: RemoteService
    runtime: RemoteRuntime
    alerts: AlertFeed
    notifier: None = field(default=None)

    def close(self) -> None:
        """Stop listening and close the database."""
        self.service.client.close()
        self.database.dispose()


def build_web_oms(settings: Settings) -> WebOms:
    """A web worker's parts for ``settings.account``, whose ``database_url`` is the account's
    own (oms.cluster.accounts.account_settings; PostgreSQL; no engine, no migration)."""
    database = Database(settings.database_url)
    repository = Repository(database)
    snapshots = _SnapshotCache(database, settings.account)
    gate = HaltGate()  # a web worker sends nothing to a venue: this gate stays open
    service = RemoteService(CommandClient(database), repository, settings, gate, snapshots)
    return WebOms(settings, database, repository, gate, service, RemoteRuntime(snapshots),
                  AlertFeed(settings.alerts))
