"""POV keeps its share of printed volume; iceberg shows one display quantity at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from algo_fakes import BTC, T0, FakeMarket, ScriptedVenue, make_parent, shared_kline_file

from oms.algos.iceberg import IcebergAlgo
from oms.algos.pov import PovAlgo
from oms.algos.simloop import run_parent
from oms.model.enums import AlgoName, ChildState, OrderType, Side


def test_pov_keeps_its_share_of_volume_on_a_replayed_hour() -> None:
    replay = pytest.importorskip("oms.market.replay")
    path = shared_kline_file("BTCUSDT")
    start = datetime(2024, 2, 14, 15, 0, tzinfo=UTC)
    market = replay.KlineReplayMarket(path, start=start - timedelta(hours=1),
                                      end=start + timedelta(hours=2), seed=3)
    parent = make_parent("1000", algo=AlgoName.POV, duration=60)  # far more than 10% can fill
    parent.created_at = start
    algo = PovAlgo(parent, seed=1, filters=BTC, target_rate=0.1)
    checks: list[tuple[datetime, Decimal]] = []

    def watch(now: datetime) -> bool:  # trading always allowed; samples the fill ratio
        if now.second == 0 and now.microsecond == 0 and now > start + timedelta(minutes=5):
            checks.append((now, parent.filled_quantity))
        return True

    run_parent(algo, parent, market, ScriptedVenue(market), start=start, trading_allowed=watch)

    printed = market.traded_volume("BTCUSDT", start, start + timedelta(minutes=60))
    assert parent.filled_quantity / printed == pytest.approx(Decimal("0.1"), rel=0.03)
    for now, filled in checks:
        so_far = market.traded_volume("BTCUSDT", start, now)
        assert abs(filled / so_far - Decimal("0.1")) < Decimal("0.01")


def test_pov_waits_for_the_minimum_child_and_caps_the_maximum() -> None:
    market = FakeMarket(volume_per_minute=1.2)
    parent = make_parent("0.5", algo=AlgoName.POV, duration=10)
    algo = PovAlgo(parent, seed=1, filters=BTC, target_rate=0.1, min_child_notional=2_000,
                   max_child_notional=2_500, child_interval_s=1)

    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0)

    sizes = [c.quantity * 50_000 for c in result.children]
    assert all(Decimal(2_000) <= s <= Decimal(2_500) for s in sizes[:-1])
    # 10% of 1.2 BTC a minute: 0.5 BTC takes about 4.2 minutes, not less
    assert parent.filled_quantity == Decimal("0.5")
    assert result.ended_at is not None
    assert abs((result.ended_at - T0).total_seconds() - 250) < 20


def test_pov_refuses_a_bad_rate() -> None:
    with pytest.raises(ValueError):
        PovAlgo(make_parent(algo=AlgoName.POV), seed=1, filters=BTC, target_rate=0.0)


def test_iceberg_shows_one_display_at_a_time_and_refills() -> None:
    # price falls 1 USD a minute: each resting buy at the bid is crossed soon after it is placed
    market = FakeMarket(price_fn=lambda t: 50_000 - (t - T0).total_seconds() / 60)
    parent = make_parent("0.1", algo=AlgoName.ICEBERG, duration=30)
    algo = IcebergAlgo(parent, seed=1, filters=BTC, display_quantity="0.01")
    venue = ScriptedVenue(market)
    overlaps = 0

    def watch(now: datetime) -> bool:
        nonlocal overlaps
        overlaps += len(venue.open) > 1
        return True

    result = run_parent(algo, parent, market, venue, start=T0, trading_allowed=watch)

    assert parent.filled_quantity == Decimal("0.1")
    assert overlaps == 0
    assert all(c.order_type is OrderType.LIMIT for c in result.children)
    assert all(Decimal("0.008") <= c.quantity <= Decimal("0.012") for c in result.children[:-1])
    assert len(result.children) >= 8


def test_iceberg_respects_its_limit_and_reports_the_rest_at_window_end() -> None:
    market = FakeMarket()  # flat: a sell resting above the ask never fills
    parent = make_parent("0.1", algo=AlgoName.ICEBERG, side=Side.SELL, duration=5,
                         limit_price=Decimal(50_100))
    algo = IcebergAlgo(parent, seed=1, filters=BTC, display_quantity="0.02")

    result = run_parent(algo, parent, market, ScriptedVenue(market), start=T0)

    assert len(result.children) == 1
    assert result.children[0].limit_price == Decimal(50_100)
    assert result.children[0].state is ChildState.CANCELED
    assert parent.filled_quantity == 0 and algo.stop_reason is not None
