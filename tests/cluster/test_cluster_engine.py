"""``oms engine`` end to end against the local PostgreSQL: commands sent as rows come back with
the reply the embedded service gives (errors re-raised as the same class), and bad input is
refused with a clear error, exit status non-zero, nothing written."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from cluster_process import EngineProcess, cluster_database, own, query
from oms_process import ROOT, postgres_database

from oms.cluster.accounts import add_account
from oms.cluster.client import CommandClient
from oms.cluster.web_directory import WebDirectory
from oms.commands import CancelParent, Resume, SubmitParentOrder
from oms.config import Settings
from oms.engine.sessions import SubmitResult
from oms.errors import NotFound, NotYetApplied, ValidationError
from oms.model.enums import AlgoName, Side
from oms.persistence import Repository
from oms.persistence.database import Database
from oms.risk.state import ResumeResult


@pytest.fixture
def url() -> Iterator[str]:
    with cluster_database("oms_engine") as database_url:
        yield database_url


def _oms(*args: str, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oms.cli", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=60,
                          env={"OMS_DATABASE_URL": url, "PYTHONPATH": str(ROOT),
                               "PATH": "/usr/bin:/bin"})


def test_commands_round_trip_through_a_real_engine(url: str, tmp_path: Path) -> None:
    # Arrange
    engine = EngineProcess(url, tmp_path)
    database = Database(own(url))
    client = CommandClient(database)
    try:
        engine.wait_active()

        # Act
        submitted = client.call("main", SubmitParentOrder(
            "BTCUSDT", Side.BUY, Decimal("0.0100"), AlgoName.TWAP, 10.0, actor="desk"))
        resumed = client.call("main", Resume("nothing to resume"))
        with pytest.raises(NotFound) as missing:
            client.call("main", CancelParent("p-none"))

        # Assert: the same answers as the embedded service, and the effect is in the database
        assert isinstance(submitted, SubmitResult) and len(submitted.parent_ids) == 1
        parent = query(url, "SELECT quantity, algo FROM parent_orders WHERE parent_id = :p",
                       p=submitted.parent_ids[0])
        assert parent[0][0] == Decimal("0.0100") and parent[0][1] == "twap"
        assert isinstance(resumed, ResumeResult) and not resumed.changed
        assert missing.value.errors[0].field == "parent_id"
        statuses = query(url, "SELECT status, count(*) FROM commands GROUP BY status")
        assert dict(statuses) == {"done": 2, "failed": 1}
    finally:
        client.close()
        database.dispose()
        engine.stop()


def test_a_durable_halt_alone_halts_the_engine_at_its_next_tick(url: str,
                                                                 tmp_path: Path) -> None:
    # Arrange: no NOTIFY and no KillSwitch command: only the halt rows, as a kill commits them
    engine = EngineProcess(url, tmp_path)
    database = Database(own(url))
    try:
        engine.wait_active()
        _wait_snapshot(url, "ACTIVE")

        # Act
        Repository(database).record_halt(datetime.now(UTC), "rows only", "test")

        # Assert
        _wait_snapshot(url, "HALTED")
    finally:
        database.dispose()
        engine.stop()


def _wait_snapshot(url: str, state: str, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        rows = query(url, "SELECT snapshot FROM engine_snapshots")
        if rows and rows[0][0]["engine"]["trading_state"] == state:
            return
        assert time.monotonic() < deadline, f"the engine's snapshot never showed {state}"
        time.sleep(0.05)


def test_a_command_for_an_unknown_account_is_not_found_and_not_stored(url: str) -> None:
    directory = WebDirectory(Settings(database_url=url))
    try:
        with pytest.raises(NotFound, match="no account 'ghost'"):
            directory.get("ghost").service.resume("r")
        assert query(url, "SELECT count(*) FROM commands")[0][0] == 0
        assert query(url, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'acct_%'",
                     schema_of=None) == [(1,)]  # main's only
    finally:
        directory.close()


def test_without_an_engine_a_command_is_queued_not_yet_applied(url: str) -> None:
    database = Database(own(url))
    client = CommandClient(database, poll_s=0.05)
    try:
        with pytest.raises(NotYetApplied) as queued:
            client.call("main", Resume("r"), timeout_s=0.3)
        assert query(url, "SELECT status FROM commands WHERE id = :i",
                     i=queued.value.command_id) == [("pending",)]
    finally:
        client.close()
        database.dispose()


def test_an_engine_for_an_unknown_account_is_refused_and_writes_nothing(url: str,
                                                                         tmp_path: Path) -> None:
    before = query(url, "SELECT count(*) FROM engine_state")[0][0]
    done = _oms("engine", "--account", "ghost", url=url, cwd=tmp_path)
    assert done.returncode != 0
    assert "no account 'ghost'" in done.stderr and "oms accounts add ghost" in done.stderr
    assert query(url, "SELECT count(*) FROM engine_state")[0][0] == before
    assert query(url, "SELECT count(*) FROM engine_leases")[0][0] == 0


def test_an_engine_on_sqlite_is_refused_and_creates_no_file(tmp_path: Path) -> None:
    done = _oms("engine", "--account", "main", url=f"sqlite:///{tmp_path / 'oms.db'}",
                cwd=tmp_path)
    assert done.returncode != 0 and "needs a PostgreSQL" in done.stderr
    assert not (tmp_path / "oms.db").exists()


def test_an_engine_on_a_database_without_the_schema_writes_nothing(tmp_path: Path) -> None:
    with postgres_database("oms_empty") as url:
        done = _oms("engine", "--account", "main", url=url, cwd=tmp_path)
        assert done.returncode != 0 and "no account 'main'" in done.stderr
        assert query(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") \
            == [(0,)]


@pytest.mark.parametrize("settings", [{"api_secret": "abc"}, {"binance": {"api_key": "abc"}},
                                      {"database_url": "postgresql://u:abc@h/d"},
                                      {"auth_users": {"desk": "abc"}}])
def test_an_account_never_stores_a_secret(url: str, settings: dict[str, object]) -> None:
    database = Database(url)
    try:
        with pytest.raises(ValidationError) as refused:
            add_account(database, "desk3", settings=settings)
        assert "abc" not in str(refused.value)
        assert query(url, "SELECT count(*) FROM accounts WHERE name = 'desk3'",
                     schema_of=None) == [(0,)]
    finally:
        database.dispose()


def test_accounts_add_refuses_a_secret_and_lists_what_it_added(url: str,
                                                               tmp_path: Path) -> None:
    refused = _oms("accounts", "add", "desk2", "--setting", "api_secret=abc", url=url,
                   cwd=tmp_path)
    added = _oms("accounts", "add", "desk2", "--key-file", "/etc/oms/desk2.keys",
                 "--setting", "starting_balance=50000", url=url, cwd=tmp_path)
    listed = _oms("accounts", "list", url=url, cwd=tmp_path)
    assert refused.returncode != 0 and "looks like a secret" in refused.stderr
    assert "abc" not in refused.stderr + refused.stdout
    assert added.returncode == 0, added.stderr
    assert [line.split('"')[3] for line in listed.stdout.splitlines()] == ["desk2", "main"]


def test_two_names_that_would_share_a_schema_cannot_both_be_added(url: str) -> None:
    database = Database(url)
    try:
        added = add_account(database, "Desk.2")
        with pytest.raises(ValidationError, match="share the schema acct_desk_2"):
            add_account(database, "desk_2")
        assert added.schema == "acct_desk_2"
        assert query(url, "SELECT name FROM accounts ORDER BY name", schema_of=None) \
            == [("Desk.2",), ("main",)]
        assert query(url, "SELECT count(*) FROM parent_orders", schema_of="Desk.2") == [(0,)]
    finally:
        database.dispose()
