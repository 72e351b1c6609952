"""Tables of the split deployment (``oms engine`` per account, ``oms web``): accounts, commands
as rows, the engine lease that fences a standby, and the latest snapshot per account.

The embedded mode (``oms run``) creates them empty and never uses them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oms.persistence.tables import Base
from oms.persistence.types import UtcDateTime

__all__ = ["AccountRow", "CommandRow", "EngineLeaseRow", "EngineSnapshotRow"]


class AccountRow(Base):
    """A trading account: its venue, its settings (never a secret) and where its keys live."""

    __tablename__ = "accounts"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    venue: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    key_file: Mapped[str | None] = mapped_column(Text)  # a path or env var names, not a key
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CommandRow(Base):
    """A command for one account's engine: pending until the engine's tick that applied it
    commits (status done or failed, with its reply or error, in that same transaction)."""

    __tablename__ = "commands"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))  # pending, done, failed
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EngineLeaseRow(Base):
    """Who writes for an account: ``epoch`` grows at each takeover; every engine write checks
    it still holds its epoch (fencing), ``heartbeat_at`` is the database's time."""

    __tablename__ = "engine_leases"
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer)
    holder: Mapped[str] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)  # the holder's engine settings


class EngineSnapshotRow(Base):
    """The latest published snapshot of an account's engine (one row, replaced)."""

    __tablename__ = "engine_snapshots"
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


Index("ix_commands_account_status_id", CommandRow.account, CommandRow.status, CommandRow.id)
