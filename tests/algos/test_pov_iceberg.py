"""POV keeps its share of printed volume; iceberg shows one display quantity at a time (runs
through the real engine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from algo_fakes import BTC, T0, FakeMarket, ScriptedVenue, execute, make_parent, shared_kline_file

from oms.algos.pov import PovAlgo
from oms.execution_harness import ExecutionHarness
from oms.model.enums import AlgoName, ChildState, OrderType, Side


def test_pov_keeps_its_share_of_volume_on_a_replayed_hour() -> None:
    replay = pytest.importorskip("oms.market.replay")
    path = shared_kline_file("BTCUSDT")
    start = datetime(2024, 2, 14, 15, 0, tzinfo=UTC)
    market = replay.KlineReplayMarket(path, start=start - timedelta(hours=1),
                                      end=start + timedelta(hours=2), seed=3)
    checks: list[tuple[datetime, Decimal]] = []

    def watch(harness: ExecutionHarness) -> None:  # samples the fill ratio every minute
        now = harness.now
        if now.second == 0 and now.microsecond == 0 and now > start + timedelta(minutes=5):
            checks.append((now, harness.parents(harness.session_ids[0])[0].filled_quantity))

    result = execute(AlgoName.POV, "1000", market=market, duration=60, start=start,  # far more
                     options={"target_rate": 0.1}, observe=watch)  # than 10% can fill

    printed = market.traded_volume("BTCUSDT", start, start + timedelta(minutes=60))
    share = result.parent.filled_quantity / printed
    assert share == pytest.approx(Decimal("0.1"), rel=Decimal("0.03"))
    assert len(checks) >= 50
    for now, filled in checks:
        so_far = market.traded_volume("BTCUSDT", start, now)
        assert abs(filled / so_far - Decimal("0.1")) < Decimal("0.01")


def test_pov_waits_for_the_minimum_child_and_caps_the_maximum() -> None:
    market = FakeMarket(volume_per_minute=1.2)

    result = execute(AlgoName.POV, "0.5", market=market, duration=10,
                     options={"target_rate": 0.1, "min_child_notional": 2_000,
                              "max_child_notional": 2_500, "child_interval_s": 1})

    sizes = [c.quantity * 50_000 for c in result.children]
    assert all(Decimal(2_000) <= s <= Decimal(2_500) for s in sizes[:-1])
    # 10% of 1.2 BTC a minute: 0.5 BTC takes about 4.2 minutes, not less
    assert result.parent.filled_quantity == Decimal("0.5")
    assert result.ended_at is not None
    assert abs((result.ended_at - T0).total_seconds() - 250) < 20


def test_pov_refuses_a_bad_rate() -> None:
    with pytest.raises(ValueError):
        PovAlgo(make_parent(algo=AlgoName.POV), seed=1, filters=BTC, target_rate=0.0)


def test_iceberg_shows_one_display_at_a_time_and_refills() -> None:
    # price falls 1 USD a minute: each resting buy at the bid is crossed soon after it is placed
    market = FakeMarket(price_fn=lambda t: 50_000 - (t - T0).total_seconds() / 60)
    overlaps = 0

    def watch(harness: ExecutionHarness) -> None:
        nonlocal overlaps
        assert isinstance(harness.venue, ScriptedVenue)
        overlaps += len(harness.venue.open) > 1

    result = execute(AlgoName.ICEBERG, "0.1", market=market, duration=30,
                     options={"display_quantity": "0.01"}, observe=watch)

    assert result.parent.filled_quantity == Decimal("0.1")
    assert overlaps == 0
    assert all(c.order_type is OrderType.LIMIT for c in result.children)
    assert all(Decimal("0.008") <= c.quantity <= Decimal("0.012") for c in result.children[:-1])
    assert len(result.children) >= 8


def test_iceberg_respects_its_limit_and_reports_the_rest_at_window_end() -> None:
    market = FakeMarket()  # flat: a sell resting above the ask never fills

    result = execute(AlgoName.ICEBERG, "0.1", market=market, side=Side.SELL, duration=5,
                     limit_price=Decimal(50_100), options={"display_quantity": "0.02"})

    assert len(result.children) == 1
    assert result.children[0].limit_price == Decimal(50_100)
    assert result.children[0].state is ChildState.CANCELED
    assert result.parent.filled_quantity == 0
    assert result.end_reason.startswith("window ended with 0.1 of 0.1 unfilled")
