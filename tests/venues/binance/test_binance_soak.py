"""Issue 13's "done when": an hour of market time against the loopback Binance with random
faults ends with the OMS's positions equal to the server's balances, no orphan open order and
every fill booked once. ``OMS_SOAK_MINUTES`` changes the length (60 runs in seconds here)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from binance_soak import SoakResult, run_soak

# seed 5 once halted on an order acknowledged moments before a reconciliation could see it
SEEDS = (1, 5, 9)
MINUTES = float(os.environ.get("OMS_SOAK_MINUTES", "60"))


@pytest.fixture(scope="module", params=SEEDS, ids=lambda seed: f"seed{seed}")
def soak(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SoakResult:
    result = run_soak(MINUTES, request.param, workdir=Path(tmp_path_factory.mktemp("soak")))
    print("\n" + result.summary())
    return result


def test_the_soak_was_attacked(soak: SoakResult) -> None:
    # the checks below mean something only if the soak traded and the faults hit
    assert soak.ticks == int(MINUTES * 60)
    assert soak.orders_sent > 0 and soak.server_fills > 0
    assert sum(soak.faults.values()) > 0 and soak.kill_at_tick is not None


def test_positions_equal_the_servers_balances(soak: SoakResult) -> None:
    # base-asset fees left the position (as Binance takes them); BNB fees are kept apart
    assert soak.oms_base == soak.server_base
    assert soak.oms_cash == soak.server_usdt
    assert soak.oms_other_fees.get("BNB", 0) == soak.server_other_spent["BNB"]


def test_no_order_is_left_open_or_pending(soak: SoakResult) -> None:
    assert soak.server_open == [] and soak.server_open_any == []
    assert soak.pending_placements == 0
    assert soak.oms_open == [] and soak.venue_working == []
    assert soak.unresolved == [] and soak.unconfirmed_cancels == []


def test_every_server_trade_is_booked_exactly_once(soak: SoakResult) -> None:
    booked = Counter(soak.db_fill_ids)
    assert [f for f, n in booked.items() if n > 1] == []
    assert set(soak.trade_fill_ids) - set(booked) == set()  # a trade the OMS never booked
    assert set(booked) - set(soak.trade_fill_ids) == set()  # a fill the server never made


def test_each_childs_filled_quantity_is_the_sum_of_its_fills(soak: SoakResult) -> None:
    assert soak.child_fill_gaps == {}


def test_no_client_order_id_is_sent_twice(soak: SoakResult) -> None:
    assert soak.duplicate_cids == []


def test_only_the_drill_and_breakers_halted_trading(soak: SoakResult) -> None:
    # a reconciliation halt means the OMS and the server disagreed for two runs in a row
    unexpected = [(tick, why) for tick, why in soak.halts
                  if why != "soak drill" and not why.startswith("circuit breaker")]
    assert unexpected == [] and soak.mismatches == []
    assert soak.resume_error == "" and not soak.halted
