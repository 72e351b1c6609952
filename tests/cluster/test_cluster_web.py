"""``oms web`` under gunicorn (3 workers, no engine inside) in front of a real ``oms engine``, on
the local PostgreSQL: REST commands come back with the embedded answers (201, 404 naming the
parent); 500 commands through random workers are each applied once; the dashboard pages render
from the engine's snapshot row; the kill switch through a worker is durable when answered and
closes the engine's halt gate within 1 s; a command sent while no engine runs answers 202 with
its id and is applied once by the next engine.

``pytest tests/cluster/test_cluster_web.py -s`` prints the kill latencies.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cluster_process import EngineProcess, WebProcess, cluster_database, query
from oms_process import request

SPEED = 60


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("web")
    with cluster_database("oms_web") as url:
        engine = EngineProcess(url, workdir, speed=SPEED)
        web = WebProcess(url, workdir, workers=3)
        try:
            engine.wait_active(60)
            web.wait_ready()
            yield {"url": url, "engine": engine, "web": web}
        finally:
            web.stop()
            engine.stop()


def test_rest_commands_through_the_web_workers_reach_the_engine(stack: dict[str, Any]) -> None:
    port, url = stack["web"].port, stack["url"]

    # Act
    created = request(port, "/rebalance", {"targets": {"BTCUSDT": 2000}, "algo": "twap",
                                           "duration_minutes": 10})
    missing = request(port, "/orders/p-none/cancel", {})
    statuses = [request(port, "/status")[0] for _ in range(6)]  # spread over the workers

    # Assert
    assert created[0] == 201, created
    parent_id = created[1]["parent_ids"][0]
    assert query(url, "SELECT algo FROM parent_orders WHERE parent_id = :p",
                 p=parent_id) == [("twap",)]
    assert missing[0] == 404 and missing[1]["errors"][0]["field"] == "parent_id", missing
    assert statuses == [200] * 6


def test_500_commands_through_random_workers_none_lost_none_applied_twice(
        stack: dict[str, Any]) -> None:
    # Arrange: 500 rebalances from 10 client threads, spread by gunicorn over the workers
    port, url = stack["web"].port, stack["url"]
    before = query(url, "SELECT count(*) FROM sessions")[0][0]

    def rebalance(i: int) -> tuple[int, dict[str, Any]]:
        return request(port, "/rebalance", {"targets": {"BTCUSDT": 1000 + 10 * (i % 7)},
                                            "algo": "twap", "duration_minutes": 10},
                       timeout_s=30)

    # Act
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(rebalance, range(500)))

    # Assert: every answer a distinct session, each stored once, every command done
    assert [status for status, _ in answers] == [201] * 500, answers[:3]
    sessions = {body["session_id"] for _, body in answers}
    assert len(sessions) == 500
    assert query(url, "SELECT count(*) FROM sessions")[0][0] - before == 500
    assert query(url, "SELECT count(*) FROM commands WHERE status = 'pending'") == [(0,)]
    workers = query(url, "SELECT count(DISTINCT pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND query LIKE 'LISTEN%'")
    assert workers[0][0] >= 2  # the commands went through more than one worker


def test_the_dashboard_pages_render_from_the_snapshot_row(stack: dict[str, Any]) -> None:
    port = stack["web"].port
    for path in ("/", "/orders", "/risk"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as page:
            assert page.status == 200 and b"DipMaster OMS" in page.read()


def test_the_kill_switch_through_a_worker_closes_the_engines_gate_within_1_s(
        stack: dict[str, Any]) -> None:
    port, url, engine = stack["web"].port, stack["url"], stack["engine"]

    # Act
    started = time.monotonic()
    status, body = request(port, "/kill", {"reason": "web kill test"})
    answered = time.monotonic()
    durable = query(url, "SELECT count(*) FROM risk_events WHERE kind = 'KILL' "
                         "AND message = 'web kill test'")
    gate_ms: list[float] = []
    while not gate_ms:  # the engine logs when its listener closed the gate, and how late
        assert time.monotonic() - started < 1.0, "the engine's gate was not closed within 1 s"
        gate_ms = [float(m) for m in re.findall(r"halt gate closed ([\d.]+) ms", engine.text())]
        time.sleep(0.01)
    while request(port, "/status")[1].get("trading_state") != "HALTED":  # the next snapshot
        assert time.monotonic() - started < 3.0, "the status did not show HALTED within 3 s"
        time.sleep(0.02)
    shown = time.monotonic() - started

    # Assert: durable once answered; the gate closed on the notification within 1 s (the halt:
    # no child can leave after it); the snapshot and the status follow; trading refused
    assert status == 200 and body["durable"] is True, body
    assert durable == [(1,)]
    assert gate_ms[-1] < 1000
    refused = request(port, "/rebalance", {"targets": {"BTCUSDT": 1000}, "algo": "twap",
                                           "duration_minutes": 5})
    assert refused[0] == 409, refused
    print(f"kill answered in {1000 * (answered - started):.1f} ms; gate closed "
          f"{gate_ms[-1]:.1f} ms after the halt was written; HALTED shown after "
          f"{1000 * shown:.0f} ms")


def test_a_command_without_an_engine_is_queued_then_applied_once(tmp_path: Path) -> None:
    with cluster_database("oms_web_queue") as url:
        engine = EngineProcess(url, tmp_path, speed=SPEED)
        web = WebProcess(url, tmp_path, timeout_s=0.5)
        try:
            engine.wait_active(60)
            web.wait_ready()
            engine.sigkill()

            # Act: no engine runs; the worker answers 202 with the command id
            status, body = request(web.port, "/rebalance", {
                "targets": {"BTCUSDT": 1500}, "algo": "twap", "duration_minutes": 5})
            assert status == 202 and body["status"] == "queued", body
            command_id = body["command_id"]
            assert query(url, "SELECT status FROM commands WHERE id = :i",
                         i=command_id) == [("pending",)]
            engine = EngineProcess(url, tmp_path, speed=SPEED)
            engine.wait_active(60)
            deadline = time.monotonic() + 10
            while query(url, "SELECT status FROM commands WHERE id = :i",
                        i=command_id) != [("done",)]:
                assert time.monotonic() < deadline, "the queued command was not applied"
                time.sleep(0.05)

            # Assert: applied once, by the new engine
            assert query(url, "SELECT count(*) FROM sessions WHERE kind = 'rebalance'") \
                == [(1,)]
        finally:
            web.stop()
            engine.stop()


def test_a_worker_killed_mid_request_loses_nothing(tmp_path: Path) -> None:
    with cluster_database("oms_web_worker") as url:
        engine = EngineProcess(url, tmp_path, speed=SPEED)
        web = WebProcess(url, tmp_path, workers=1, timeout_s=20)
        try:
            engine.wait_active(60)
            web.wait_ready()
            engine.signal(signal.SIGSTOP)  # the worker will wait for a reply that cannot come
            answers: list[object] = []

            def send() -> None:
                try:
                    answers.append(request(web.port, "/rebalance", {
                        "targets": {"BTCUSDT": 1200}, "algo": "twap", "duration_minutes": 5},
                        timeout_s=30))
                except OSError as exc:  # the worker died under the request
                    answers.append(exc)

            caller = threading.Thread(target=send)
            caller.start()
            deadline = time.monotonic() + 10
            while query(url, "SELECT count(*) FROM commands") != [(1,)]:
                assert time.monotonic() < deadline, "the command was not stored"
                time.sleep(0.02)

            # Act: kill -9 the worker while it waits, then let the engine run again
            workers = subprocess.run(["pgrep", "-P", str(web.process.pid)], text=True,
                                     capture_output=True, check=True).stdout.split()
            for pid in workers:
                os.kill(int(pid), signal.SIGKILL)
            caller.join(timeout=30)
            engine.signal(signal.SIGCONT)
            deadline = time.monotonic() + 10
            while query(url, "SELECT status FROM commands") != [("done",)]:
                assert time.monotonic() < deadline, "the stored command was not applied"
                time.sleep(0.05)

            # Assert: the caller got no success; the command was applied once; a new worker
            assert answers and not (isinstance(answers[0], tuple) and answers[0][0] == 201)
            assert query(url, "SELECT count(*) FROM sessions WHERE kind = 'rebalance'") \
                == [(1,)]
            web.wait_ready()
        finally:
            engine.signal(signal.SIGCONT)
            web.stop()
            engine.stop()


def test_oms_web_for_an_unknown_account_is_refused(tmp_path: Path) -> None:
    with cluster_database("oms_web_ghost") as url:
        web = WebProcess(url, tmp_path, args=("--account", "ghost"))
        try:
            assert web.process.wait(timeout=60) != 0
            assert "no account 'ghost'" in web.log_path.read_text()
        finally:
            web.stop()
