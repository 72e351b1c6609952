"""What a start reads from the database before the engine runs, and refuses.

- The database file itself: an SQLite file that is not a database, or a damaged one, stops the
  start with its path and SQLite's reason before anything is written to it (``check_sqlite``).
- Its identity: the database belongs to one account on one venue (``engine_state`` row
  ``identity``, written on first start). A database written for another account or venue is
  refused (``check_identity``): its orders and positions are not this account's.
- Where the replayed market stood (``replay_start``): restarted on the same kline file (same
  content digest), the replay clock resumes from the market time the engine last recorded
  (``engine_state`` row ``clock``), so a restart never rewinds the market and fills of two runs
  never interleave. A fresh database, another file, or a recorded time outside the file starts
  at the file's first bar.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from oms.engine.recovery import last_market_time
from oms.errors import ConfigError
from oms.persistence.repository import Repository, WriteBatch

__all__ = ["check_identity", "check_sqlite", "file_digest", "replay_start"]

log = logging.getLogger(__name__)

IDENTITY_KEY = "identity"
MARKET_KEY = "market"


def check_sqlite(url: str) -> None:
    """Refuse an existing SQLite file that SQLite cannot read whole (read-only check)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    if parsed.database == ":memory:":
        return
    path = Path(parsed.database)
    if not path.exists() or path.stat().st_size == 0:
        return  # a new database
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA quick_check").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"database {path} cannot be used: {exc}; nothing was changed") from exc
    problems = [row[0] for row in result if row[0] != "ok"]
    if problems:
        raise ConfigError(f"database {path} is damaged: {'; '.join(problems[:3])}; "
                          "nothing was changed")


def _state(repository: Repository) -> dict[str, dict[str, Any]]:
    return {row["key"]: row["value"] for row in repository.state_rows("engine_state")}


def _put(repository: Repository, key: str, value: dict[str, Any]) -> None:
    repository.write(WriteBatch(state={"engine_state": {key: {
        "key": key, "value": value, "updated_at": datetime.now(UTC)}}}))


def check_identity(repository: Repository, *, venue: str, account: str) -> None:
    """Refuse a database written for another venue or account; stamp a new one."""
    stored = _state(repository).get(IDENTITY_KEY)
    if stored is None:
        _put(repository, IDENTITY_KEY, {"venue": venue, "account": account})
        return
    for field, value in (("venue", venue), ("account", account)):
        if stored.get(field) != value:
            raise ConfigError(
                f"the database belongs to {field} {stored.get(field)!r}, not {value!r}: "
                f"use another OMS_DATABASE_URL, or OMS_{field.upper()}={stored.get(field)}")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's content (what identifies a replay file across renames)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def replay_start(repository: Repository, data: Path, first_open: datetime,
                 last_close: datetime) -> datetime:
    """Where the replay clock of ``data`` starts (see the module docstring); records the file."""
    digest = file_digest(data)
    stored = _state(repository).get(MARKET_KEY)
    last = last_market_time(repository)
    start = first_open
    if stored is not None and stored.get("digest") == digest and last is not None:
        if first_open <= last < last_close:
            start = last
        else:
            log.warning("the recorded market time %s is outside %s; replaying from its start",
                        last, data)
    elif stored is not None and last is not None:
        log.warning("the database was last run on another market file (%s); %s replays from "
                    "its start", stored.get("path"), data)
    _put(repository, MARKET_KEY, {"digest": digest, "path": str(data)})
    return start
