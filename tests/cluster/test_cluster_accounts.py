"""Two accounts on one PostgreSQL database, the split deployment as the README runs it: an
``oms engine`` for each (and a hot standby for alpha), ``oms web`` under gunicorn with 3 workers
serving both. Each account has its own schema, book, limits and sessions; ``?account=`` picks
one on every REST call (an unknown one is a 404 naming it); 500 commands through random workers
to both accounts are each applied once, to their own account; kill -9 of alpha's engine mid-TWAP
hands over to the standby within 5 s and the TWAP completes while beta trades on; a kill of
beta through any worker halts beta alone within 1 s and survives both engines restarting.

``pytest tests/cluster/test_cluster_accounts.py -s`` prints the takeover and kill times.
"""

from __future__ import annotations

import random
import re
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cluster_process import EngineProcess, WebProcess, cluster_database, query
from oms_harness import shared_data_dir
from oms_process import request

from oms.cluster.accounts import add_account
from oms.persistence.database import Database

SPEED = 60
BETA_MAX_POSITION_USD = 1500  # beta's own limit (alpha keeps the default 10,000)


def _data(binance_data: Path) -> tuple[str, ...]:
    return ("--data", str(binance_data / "klines_1m" / "BTCUSDT-1m-2024-01-01_2024-06-25.csv.gz"),
            "--lease-timeout", "1.5")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    binance_data = shared_data_dir()
    if binance_data is None:
        pytest.skip("../shared/data/binance is not available")
    workdir = tmp_path_factory.mktemp("accounts")
    with cluster_database("oms_accounts", account="alpha") as url:
        registry = Database(url)
        add_account(registry, "beta",
                    settings={"risk": {"max_position_usd": BETA_MAX_POSITION_USD}})
        registry.dispose()
        args = _data(binance_data)
        engines = {"alpha": EngineProcess(url, workdir, account="alpha", speed=SPEED, args=args),
                   "beta": EngineProcess(url, workdir, account="beta", speed=SPEED, args=args)}
        web = WebProcess(url, workdir, workers=3, timeout_s=20, args=("--account", "alpha"))
        started = list(engines.values())  # every engine process, stopped at the end
        try:
            for engine in engines.values():
                engine.wait_active(60)
            started.append(EngineProcess(url, workdir, account="alpha", speed=SPEED, args=args))
            web.wait_ready()
            yield {"url": url, "workdir": workdir, "args": args, "web": web,
                   "engines": engines, "standby": started[-1], "started": started}
        finally:
            web.stop()
            for engine in started:
                engine.stop()


def _api(stack: dict[str, Any], path: str, account: str | None, body: Any = None,
         timeout_s: float = 10.0) -> tuple[int, dict[str, Any]]:
    query_text = f"?{urllib.parse.urlencode({'account': account})}" if account else ""
    return request(stack["web"].port, path + query_text, body, timeout_s=timeout_s)


def _count(stack: dict[str, Any], account: str, sql: str, **params: Any) -> Any:
    return query(stack["url"], sql, schema_of=account, **params)[0][0]


def _until(predicate: Any, timeout_s: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout_s, what
        time.sleep(0.05)
    return time.monotonic() - started


def test_each_account_has_its_own_book_limits_and_sessions(stack: dict[str, Any]) -> None:
    # Arrange
    before = {a: _count(stack, a, "SELECT count(*) FROM sessions") for a in ("alpha", "beta")}

    # Act: the same rebalance to each account, an unknown account, no account at all
    alpha = _api(stack, "/rebalance", "alpha", {"targets": {"BTCUSDT": 3000}, "algo": "twap",
                                                "duration_minutes": 5})
    beta = _api(stack, "/rebalance", "beta", {"targets": {"BTCUSDT": 3000}, "algo": "twap",
                                              "duration_minutes": 5})
    ghost = _api(stack, "/status", "ghost")
    default = _api(stack, "/status", None)
    overview = _api(stack, "/accounts", None)

    # Assert: alpha took it; beta refused it on its own limit; each stored only its own
    assert alpha[0] == 201, alpha
    assert beta[0] == 422 and "position limit 1500 USD" in beta[1]["error"], beta
    assert ghost[0] == 404 and ghost[1]["errors"][0]["field"] == "account", ghost
    assert "ghost" in ghost[1]["error"]
    assert default[0] == 200 and default[1]["account"] == "alpha"
    assert _api(stack, "/status", "beta")[1]["account"] == "beta"
    assert _count(stack, "alpha", "SELECT count(*) FROM sessions") == before["alpha"] + 1
    assert _count(stack, "beta", "SELECT count(*) FROM sessions") == before["beta"]
    parent_id = alpha[1]["parent_ids"][0]
    assert _count(stack, "beta", "SELECT count(*) FROM parent_orders WHERE parent_id = :p",
                  p=parent_id) == 0
    rows = {row["account"]: row for row in overview[1]["accounts"]}
    assert set(rows) == {"alpha", "beta"} and rows["alpha"]["default"] is True
    assert {row["engine"] for row in rows.values()} == {"running"}
    assert _api(stack, f"/orders/{parent_id}/cancel", "beta", {})[0] == 404  # not beta's
    assert _api(stack, f"/orders/{parent_id}/cancel", "alpha", {})[0] == 200


def test_500_commands_to_two_accounts_through_random_workers_each_applied_once_to_its_own(
        stack: dict[str, Any]) -> None:
    # Arrange: 500 rebalances from 10 client threads, to alpha or beta at random
    before = {a: _count(stack, a, "SELECT count(*) FROM sessions") for a in ("alpha", "beta")}
    accounts = [random.Random(7).choice(("alpha", "beta")) for _ in range(500)]

    def rebalance(i: int) -> tuple[str, int, dict[str, Any]]:
        status, body = _api(stack, "/rebalance", accounts[i], {
            "targets": {"BTCUSDT": 1000 + 10 * (i % 7)}, "algo": "twap",
            "duration_minutes": 10}, timeout_s=30)
        return accounts[i], status, body

    # Act
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(rebalance, range(500)))

    # Assert: every answer a distinct session of the account it was sent to, stored once
    assert [status for _, status, _ in answers] == [201] * 500, answers[:3]
    for account in ("alpha", "beta"):
        sent = [body["session_id"] for a, _, body in answers if a == account]
        assert len(set(sent)) == len(sent) == accounts.count(account)
        stored = {row[0] for row in query(stack["url"], "SELECT session_id FROM sessions",
                                          schema_of=account)}
        assert set(sent) <= stored
        assert len(stored) - before[account] == len(sent)
        assert _count(stack, account, "SELECT count(*) FROM commands "
                                      "WHERE status = 'pending'") == 0


def test_kill_9_of_alphas_engine_mid_twap_the_standby_completes_it_beta_trades_on(
        stack: dict[str, Any]) -> None:
    # Arrange: a TWAP working on alpha; beta's engine beside it
    status, body = _api(stack, "/rebalance", "alpha", {"targets": {"BTCUSDT": 2500},
                                                      "algo": "twap", "duration_minutes": 4})
    assert status == 201 and body["parent_ids"], body
    parent_id = body["parent_ids"][0]
    _until(lambda: _count(stack, "alpha", "SELECT count(*) FROM fills WHERE parent_id = :p",
                          p=parent_id) > 0, 30, "no fill before the kill")

    # Act: kill -9 the active engine of alpha
    stack["engines"]["alpha"].sigkill()
    took = stack["standby"].wait_active(10)
    stack["engines"]["alpha"], stack["standby"] = stack["standby"], None

    # Assert: taken over within 5 s; the TWAP completes; beta's engine never stopped
    assert took < 5.0, took
    _until(lambda: query(stack["url"], "SELECT state FROM parent_orders WHERE parent_id = :p",
                         schema_of="alpha", p=parent_id) == [("COMPLETED",)], 60,
           "the TWAP did not complete after the takeover")
    assert stack["engines"]["beta"].process.poll() is None
    beta = _api(stack, "/rebalance", "beta", {"targets": {"BTCUSDT": 1200}, "algo": "market",
                                              "duration_minutes": 1})
    assert beta[0] == 201 and beta[1]["parent_ids"], beta
    print(f"kill -9 of alpha's engine -> standby active in {took:.2f} s (lease timeout 1.5 s)")


def test_a_kill_of_beta_through_a_worker_halts_beta_alone_and_survives_restarts(
        stack: dict[str, Any]) -> None:
    # Act: the kill switch of beta through whichever worker answers
    status, body = _api(stack, "/kill", "beta", {"reason": "beta drill"})
    engine = stack["engines"]["beta"]

    def gate_ms() -> list[float]:  # beta's engine logs how long after the kill was written
        return [float(m) for m in re.findall(
            r"account beta: kill received, halt gate closed ([\d.]+) ms", engine.text())]

    _until(gate_ms, 5, "beta's engine did not log its gate closing")
    # the state shows once beta's engine has applied the kill: a tick in progress ends first,
    # and after 250 superseded rebalances each tick also builds queued execution reports
    _until(lambda: _api(stack, "/status", "beta")[1].get("trading_state") == "HALTED", 20,
           "beta's status did not show HALTED")

    # Assert: beta halted, durable at the answer; alpha trades on
    assert status == 200 and body["durable"] is True, body
    assert gate_ms()[-1] < 1000
    assert _api(stack, "/status", "alpha")[1]["trading_state"] == "ACTIVE"
    assert _api(stack, "/rebalance", "beta", {"targets": {"BTCUSDT": 800}, "algo": "twap",
                                              "duration_minutes": 5})[0] == 409
    assert _api(stack, "/rebalance", "alpha", {"targets": {"BTCUSDT": 800}, "algo": "twap",
                                               "duration_minutes": 5})[0] == 201

    # Act: kill -9 both engines (and alpha's standby, if this test runs alone), start both again
    url, workdir, args = stack["url"], stack["workdir"], stack["args"]
    if stack["standby"] is not None:
        stack["standby"].sigkill()
        stack["standby"] = None
    for account in ("alpha", "beta"):
        stack["engines"][account].sigkill()
        stack["engines"][account] = EngineProcess(url, workdir, account=account, speed=SPEED,
                                                  args=args)
        stack["started"].append(stack["engines"][account])
    for account in ("alpha", "beta"):
        stack["engines"][account].wait_active(60)

    # Assert: beta is still HALTED after the restart, alpha ACTIVE
    def published(account: str, state: str) -> bool:
        answer = _api(stack, "/status", account)
        return answer[0] == 200 and answer[1].get("trading_state") == state \
            and answer[1].get("tick", 0) > 0
    _until(lambda: published("beta", "HALTED") and published("alpha", "ACTIVE"), 20,
           "the states after the restart are not beta HALTED, alpha ACTIVE")
    assert _count(stack, "beta", "SELECT count(*) FROM risk_events WHERE kind = 'KILL'") == 1
    assert _count(stack, "alpha", "SELECT count(*) FROM risk_events WHERE kind = 'KILL'") == 0
    assert Decimal(_api(stack, "/accounts", None)[1]["accounts"][0]["equity"]) > 0
    print(f"kill of beta -> its gate closed {gate_ms()[-1]:.1f} ms after the halt was written")
