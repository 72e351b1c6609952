"""`oms report --session / --latest / --daily` on a database the engine wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from oms_harness import make_harness

from oms.cli import main


def test_report_commands_print_stored_reports(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    h = make_harness(tmp_path)
    future = h.service.submit_rebalance("BTCUSDT 2000\nETHUSDT 1000", algo="twap",
                                        duration_minutes=2, wait=False)
    h.tick()
    session_id = future.result(timeout=1).session_id  # type: ignore[attr-defined]
    h.run(4 * 60)
    h.oms.close()
    url = f"sqlite:///{tmp_path / 'oms.db'}"

    assert main(["report", "--session", session_id, "--database-url", url]) == 0
    by_id = json.loads(capsys.readouterr().out)
    assert main(["report", "--latest", "--database-url", url]) == 0
    latest = json.loads(capsys.readouterr().out)
    assert main(["report", "--daily", "--database-url", url]) == 0
    daily = json.loads(capsys.readouterr().out)

    assert by_id["session_id"] == latest["session_id"] == session_id
    assert by_id["summary"]["parent_orders"] == 2 and by_id["summary"]["fill_rate"] == 1.0
    assert daily[0]["day"] == "2024-03-04" and daily[0]["orders"] == 2
    assert main(["report", "--session", "nope", "--database-url", url]) == 1
