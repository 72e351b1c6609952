"""``oms engine --account NAME``: one account's single-writer engine on PostgreSQL, no web
server. It refuses SQLite and unknown accounts before writing anything, waits as a hot standby
while another engine holds the account (oms.cluster.lease), then recovers through the restart
path (working parents resume) and ticks, taking its commands from the ``commands`` rows
(oms.cluster.source). Losing the lease closes the halt gate at once and exits with status 3.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from oms.cluster.accounts import account_settings, find_account, require_postgresql
from oms.cluster.lease import Lease
from oms.cluster.publish import HaltListener, SnapshotPublisher
from oms.cluster.source import RowCommandSource
from oms.config import Settings
from oms.errors import ConfigError, Fenced, NotFound, OmsError
from oms.persistence.database import Database

__all__ = ["EXIT_FENCED", "EngineOptions", "engine_settings", "run_engine"]

log = logging.getLogger(__name__)

EXIT_FENCED = 3
PUBLISH_EVERY_S = 0.1  # the live panels' snapshot row is at most this much older than a tick


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """What ``oms engine`` was given (None: the account's or the environment's setting)."""

    account: str
    venue: str | None = None
    data: Path | None = None
    speed: float | None = None
    database_url: str | None = None
    lease_timeout_s: float = 5.0
    command_batch: int = 500


def engine_settings(options: EngineOptions) -> Settings:
    """The engine's settings: environment, then the account's stored settings, then flags.
    ConfigError (nothing written) for SQLite, an unknown account or a venue not its own."""
    given: dict[str, Any] = {"database_url": options.database_url} if options.database_url else {}
    base = Settings(**given)
    require_postgresql(base.database_url, "oms engine")
    database = Database(base.database_url)
    try:
        account = find_account(database, options.account)
    except NotFound as exc:
        raise ConfigError(f"{exc}; nothing was written") from None
    finally:
        database.dispose()
    if options.venue is not None and options.venue != account.venue:
        raise ConfigError(f"account {account.name} trades on {account.venue!r}, not "
                          f"{options.venue!r}; nothing was written")
    flags: dict[str, Any] = {}
    if options.data is not None:
        flags["market_data"] = options.data
    if options.speed is not None:
        flags["speed"] = options.speed
    return account_settings(base, account, **flags)


def fingerprint(settings: Settings) -> dict[str, Any]:
    """The settings a standby must share with the active engine of its account."""
    return {"venue": settings.venue, "symbols": list(settings.symbols),
            "market_data": None if settings.market_data is None else str(settings.market_data),
            "speed": settings.speed, "seed": settings.seed,
            "starting_balance": str(settings.starting_balance),
            "tick_interval_ms": settings.tick_interval_ms}


def _holder(account: str) -> str:
    """A name for this process's sessions (PostgreSQL keeps 63 bytes of it)."""
    tail = f":{socket.gethostname()[:16]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    return f"oms-engine:{account[:63 - 11 - len(tail)]}{tail}"


def run_engine(options: EngineOptions, stop: threading.Event | None = None) -> int:
    """Run until SIGTERM/SIGINT (0) or until the lease is lost (EXIT_FENCED)."""
    settings = engine_settings(options)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per tick is noise
    stop = stop or threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    holder = _holder(settings.account)
    from oms.bootstrap import build_market, build_oms  # before waiting: a standby is hot

    # a replay file is parsed before the lock is taken, so a takeover only recovers
    market = (build_market(settings, datetime.now(UTC))
              if settings.market_data is not None and settings.venue == "paper" else None)
    lease = Lease(settings.database_url, settings.account, holder=holder,
                  settings=fingerprint(settings), stale_s=options.lease_timeout_s)
    if lease.acquire(stop) is None:
        lease.close()
        return 0
    lease.start_heartbeat()
    url = make_url(settings.database_url).update_query_dict({"application_name": holder})
    settings = settings.model_copy(
        update={"database_url": url.render_as_string(hide_password=False)})
    oms = build_oms(settings, market=market)
    oms.repository.write_checks.insert(0, lease.check)
    RowCommandSource(oms.repository, oms.engine.journal, settings.account,
                     batch_size=max(1, options.command_batch)).attach(oms.engine)
    listener = HaltListener(settings.database_url, settings.account, oms.gate,
                            on_command=oms.runtime.wake)
    listener.start()  # before the first tick: a kill from now on closes the gate at once
    listener.ready.wait(5)
    oms.runtime.start()  # recovery first: the parents the previous holder left resume
    publisher = SnapshotPublisher(oms.database, settings.account, lease,
                                  lambda: oms.engine.snapshot, oms.runtime.health)
    log.info("engine for account %s running (epoch %s)", settings.account, lease.epoch)
    while not stop.is_set() and not lease.lost.is_set():
        _publish(publisher)
        lease.lost.wait(PUBLISH_EVERY_S)
    fenced = lease.lost.is_set() and not stop.is_set()
    if fenced:
        oms.gate.halt("this engine lost its lease: another engine took over", oms.clock.now())
    listener.stop()
    oms.close()
    lease.close()
    return EXIT_FENCED if fenced else 0


def _publish(publisher: SnapshotPublisher) -> None:
    try:
        publisher.publish()
    except Fenced:
        pass  # the lease is marked lost: the loop ends
    except (OmsError, SQLAlchemyError) as exc:  # the next publish tries again
        log.warning("snapshot not published: %s", exc)
