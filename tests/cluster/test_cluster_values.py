"""The snapshot row: a real engine's EngineSnapshot (positions, working parents, fills, plan
inputs, reconciliation, quotes) round-trips exactly through JSON, every Decimal digit kept."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from oms_harness import make_harness

from oms.cluster.values import from_json, to_json
from oms.runtime import EngineHealth
from oms.snapshot import EngineSnapshot


def test_a_working_engines_snapshot_round_trips_exactly(tmp_path: Path) -> None:
    # Arrange: a rebalance working on two symbols, with fills
    harness = make_harness(tmp_path)
    try:
        harness.service.submit_rebalance({"BTCUSDT": 5000, "ETHUSDT": 3000}, "twap", 10,
                                         wait=False)
        harness.run(120)
        snapshot = harness.engine.snapshot
        assert snapshot.parents and snapshot.recent_fills and snapshot.plan_inputs is not None

        # Act
        back = from_json(json.loads(json.dumps(to_json(snapshot))), EngineSnapshot)

        # Assert
        assert back == snapshot
        assert [str(f.price) for f in back.recent_fills] == \
            [str(f.price) for f in snapshot.recent_fills]
        assert isinstance(back.cash, Decimal) and back.ts.tzinfo is not None
    finally:
        harness.oms.close()


def test_the_engine_health_round_trips() -> None:
    health = EngineHealth(True, 2, 1, "tick missed", None)
    assert from_json(json.loads(json.dumps(to_json(health))), EngineHealth) == health
