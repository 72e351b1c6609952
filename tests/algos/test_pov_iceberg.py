"""POV keeps its share of printed volume; iceberg shows one display quantity at a time (runs
through the real engine)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from algo_fakes import (
    BTC,
    T0,
    FakeMarket,
    ScriptedVenue,
    execute,
    make_parent,
    scripted,
    shared_kline_file,
)

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


def _rising() -> FakeMarket:
    """+2 USD a minute (0.4 bps): a resting buy at the bid is soon left behind, never crossed."""
    return FakeMarket(price_fn=lambda t: 50_000 + 2 * (t - T0).total_seconds() / 60)


def test_iceberg_reprices_to_the_touch_in_a_rising_market() -> None:
    # each resting display gets half filled once, then the market leaves it behind: without
    # re-pricing one display's half (0.005) is all that fills
    result = execute(AlgoName.ICEBERG, "0.2", market=_rising(), duration=20,
                     venue=scripted(passive_fill_share=Decimal("0.5")),
                     options={"display_quantity": "0.01"})

    limits = [c.limit_price for c in result.children]
    assert result.parent.filled_quantity > Decimal("0.05")
    assert len(result.children) >= 10
    assert all(a is not None and b is not None and a < b for a, b in itertools.pairwise(limits))
    assert all(c.order_type is OrderType.LIMIT for c in result.children)
    # the rest is reported, with why: it only rests, and it re-priced
    assert result.parent.filled_quantity < Decimal("0.2")
    assert result.end_reason.startswith(f"window ended with {result.parent.remaining} of 0.2")
    assert "resting only (cross_at_end off)" in result.end_reason
    assert "re-priced displays" in result.end_reason


def test_iceberg_with_cross_at_end_finishes_by_its_end_time() -> None:
    result = execute(AlgoName.ICEBERG, "0.2", market=_rising(), duration=20,
                     venue=scripted(passive_fill_share=Decimal("0.5")),
                     options={"display_quantity": "0.01", "cross_at_end": True})

    assert result.parent.filled_quantity == Decimal("0.2")
    assert result.end_reason == "filled"
    assert result.ended_at is not None and result.ended_at <= T0 + timedelta(minutes=20)
    crosses = [c for c in result.children if c.order_type is OrderType.MARKET]
    assert sum(c.filled_quantity for c in crosses) > Decimal("0.05")  # the hidden rest, at once
    assert all(c.created_at >= T0 + timedelta(minutes=19) for c in crosses)
    assert len(crosses) <= 2  # the rest, then the canceled display's unfilled part


def test_iceberg_never_reprices_past_its_limit_and_says_so() -> None:
    result = execute(AlgoName.ICEBERG, "0.1", market=_rising(), duration=10,
                     limit_price=Decimal("50004.00"), options={"display_quantity": "0.02"})

    assert all(c.limit_price is not None and c.limit_price <= Decimal("50004.00")
               for c in result.children)
    assert result.children[-1].limit_price == Decimal("50004.00")
    assert "beyond the limit 50004.00" in result.end_reason


def test_iceberg_without_reprice_rules_keeps_its_first_display() -> None:
    result = execute(AlgoName.ICEBERG, "0.2", market=_rising(), duration=20,
                     venue=scripted(passive_fill_share=Decimal("0.5")),
                     options={"display_quantity": "0.01", "reprice_bps": None,
                              "reprice_after_s": None})

    assert len(result.children) == 1
    assert result.parent.filled_quantity == Decimal("0.005")


def test_iceberg_fills_on_the_paper_venue_in_a_rising_replayed_hour() -> None:
    # 2024-06-03 12:00-13:00 UTC rose ~96 bps without dipping below its open: the old iceberg
    # (never re-priced) filled 7% of this order and left the rest unfilled
    from oms.backtest import BacktestSpec, run_backtest
    spec = BacktestSpec.parse(data=shared_kline_file("BTCUSDT"), symbol="BTCUSDT", side="buy",
                              quantity="20", algo="iceberg", start="2024-06-03T12:00:00Z",
                              duration_minutes=60)

    parent = run_backtest(spec, kline_cache=None)["parents"][0]

    assert parent["fill_rate"] == pytest.approx(1.0)
    assert parent["end_reason"] == "filled"
    assert parent["child_orders"] > 1
