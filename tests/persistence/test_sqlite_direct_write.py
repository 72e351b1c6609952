"""The SQLite write path on the sqlite3 connection itself: a batch is one transaction (a failing
statement leaves nothing of it), and once the writer session is lent out (its reads join the
writes' transaction) every write goes through that session."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from oms.errors import PersistenceError
from oms.persistence import Database, Repository, WriteBatch

T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


def _repository(path: Path) -> Repository:
    database = Database(f"sqlite:///{path}")
    database.migrate()
    return Repository(database)


def _session_row(session_id: str) -> dict[str, Any]:
    return {"session_id": session_id, "kind": "backtest", "created_at": T0, "venue": "paper",
            "actor": "test", "targets": {}, "params": {}}


def _count(repo: Repository, table: str) -> int:
    with repo.db.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_a_failing_statement_leaves_nothing_of_its_batch(tmp_path: Path) -> None:
    # Arrange: a session row already stored, then a batch whose second insert repeats its key
    repo = _repository(tmp_path / "oms.db")
    repo.write(WriteBatch(sessions=[_session_row("s1")]))
    batch = WriteBatch(sessions=[_session_row("s2"), _session_row("s1")],
                       audit=[{"ts": T0, "event": "Tested", "entity_id": "s2", "actor": "test",
                               "payload": {}}])
    # Act / Assert
    with pytest.raises(PersistenceError, match="database write failed"):
        repo.write(batch)
    assert _count(repo, "sessions") == 1
    assert _count(repo, "audit_log") == 0
    repo.write(WriteBatch(sessions=[_session_row("s3")]))  # the connection is usable again
    assert _count(repo, "sessions") == 2
    repo.db.dispose()


def test_writes_join_the_lent_writer_session(tmp_path: Path) -> None:
    # Arrange: the writer session lent out, with a read of its own open
    repo = _repository(tmp_path / "oms.db")
    session = repo.writer_session()
    session.execute(text("SELECT COUNT(*) FROM sessions")).scalar_one()
    # Act
    repo.write(WriteBatch(sessions=[_session_row("s1")]))
    # Assert: committed by that session (its transaction has ended), visible to others
    assert not session.in_transaction()
    assert _count(repo, "sessions") == 1
    repo.db.dispose()


def test_write_checks_run_last_in_the_batchs_transaction_and_a_refusal_undoes_it(
        tmp_path: Path) -> None:
    # Arrange: a check that sees what the batch wrote (it runs after the statements, right
    # before the commit, so a row it locks is held for milliseconds), then one that refuses
    from oms.errors import Fenced

    repo = _repository(tmp_path / "oms.db")
    seen: list[int] = []

    def sees(session: Any, _batch: WriteBatch) -> None:
        seen.append(int(session.execute(text("SELECT COUNT(*) FROM sessions")).scalar_one()))

    def refuses(_session: Any, _batch: WriteBatch) -> None:
        raise Fenced("epoch lost")

    repo.write_checks.append(sees)
    repo.write(WriteBatch(sessions=[_session_row("s1")]))
    repo.write_checks.append(refuses)

    # Act
    with pytest.raises(Fenced):
        repo.write(WriteBatch(sessions=[_session_row("s2")]))

    # Assert
    assert seen == [1, 2]  # each batch's own row was already written when the checks ran
    assert _count(repo, "sessions") == 1  # the refused batch left nothing
