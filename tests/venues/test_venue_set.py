"""VenueSet on real paper venues (three profiles on one simulated market): the strictest rules,
balances split or held whole, events merged in time order, the health breaker; the backtest CLI
routes across profiles (and one venue alone for comparison); the venue panel and the routing
table read the decisions; bad names are refused naming the setting."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from components.venue_panel import routing_table, venues_table
from oms.cli import main
from oms.config import RoutingSettings
from oms.errors import ConfigError, VenueUnavailable
from oms.market.synthetic import SyntheticMarket
from oms.model import ChildOrder, OrderType, Side
from oms.risk.halt import HaltGate
from oms.snapshot import VenueView
from oms.venues.filters import SymbolFilters
from oms.venues.routed import routed_paper_venues
from oms.venues.venue_set import HealthSettings, VenueHealth, VenueSet, split_evenly, strictest

T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
BTC_FILE = "klines_1m/BTCUSDT-1m-2024-01-01_2024-06-25.csv.gz"


def _set(funding: str = "split", route: str = "sor") -> VenueSet:
    market = SyntheticMarket(["BTCUSDT"], T0, seed=3)
    market.advance_to(T0)
    routing = RoutingSettings(venues="binance,okx,bybit", route=route, funding=funding)  # type: ignore[arg-type]
    venue = routed_paper_venues(routing, ["BTCUSDT"], seed=3,
                                balances={"USDT": Decimal(300_000)})(HaltGate(), market)
    assert isinstance(venue, VenueSet)
    return venue


def _child(cid: str, venue: str, quantity: str = "0.01") -> ChildOrder:
    return ChildOrder(client_order_id=cid, parent_id="p1", symbol="BTCUSDT", side=Side.BUY,
                      quantity=Decimal(quantity), order_type=OrderType.MARKET, created_at=T0,
                      venue=venue, updated_at=T0)


def test_the_strictest_rules_accept_what_every_venue_accepts() -> None:
    a = SymbolFilters("BTCUSDT", tick_size=Decimal("0.01"), step_size=Decimal("0.00001"),
                      min_notional=Decimal(5), max_qty=Decimal(9000), max_notional=Decimal(0))
    b = SymbolFilters("BTCUSDT", tick_size=Decimal("0.1"), step_size=Decimal("0.000001"),
                      min_notional=Decimal(1), max_qty=Decimal(70),
                      max_notional=Decimal(2_000_000))
    rules = strictest([a, b])
    assert (rules.tick_size, rules.step_size, rules.min_notional, rules.max_qty,
            rules.max_notional) == (Decimal("0.1"), Decimal("0.00001"), Decimal(5),
                                    Decimal(70), Decimal(2_000_000))


def test_balances_are_split_or_held_whole_and_summed() -> None:
    split, whole = _set("split"), _set("each")
    assert {n: b["USDT"].total for n, b in split.venue_balances().items()} == {
        "binance": Decimal(100_000), "okx": Decimal(100_000), "bybit": Decimal(100_000)}
    assert split.balances()["USDT"].total == Decimal(300_000)
    thirds = split_evenly({"USDT": Decimal(100_000)}, 3)
    assert sum(t["USDT"] for t in thirds) == Decimal(100_000)  # exactly: no -1E-23 baseline
    assert thirds[1]["USDT"] == Decimal("33333.33333333")
    assert all(b["USDT"].total == Decimal(300_000) for b in whole.venue_balances().values())


def test_each_child_goes_to_its_venue_and_events_come_back_in_time_order() -> None:
    venues = _set()
    for i, name in enumerate(["okx", "binance", "bybit", "okx"]):
        venues.submit(_child(f"c{i}", name), T0)
    events = venues.poll(T0 + timedelta(seconds=2))
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    assert {venues.venue_of(f"c{i}").name for i in range(4)} == {"okx", "binance", "bybit"}  # type: ignore[union-attr]
    fills = [e.fill for e in events if hasattr(e, "fill")]
    assert {f.client_order_id: f.venue for f in fills} == {
        "c0": "okx", "c1": "binance", "c2": "bybit", "c3": "okx"}


def test_an_unreachable_venue_is_unhealthy_at_once_and_the_others_are_not() -> None:
    venues = _set()
    okx = venues.venues["okx"]
    okx.faults.add_outage(T0, T0 + timedelta(minutes=1))  # type: ignore[attr-defined]
    with pytest.raises(VenueUnavailable):
        venues.submit(_child("c1", "okx"), T0)
    venues.submit(_child("c2", "binance"), T0)
    assert not venues.healthy("okx", T0) and venues.healthy("binance", T0)
    assert venues.healthy("okx", T0 + timedelta(minutes=3))  # the cool-down ran out
    assert "okx UNHEALTHY" in venues.status_text()


def test_rejects_trip_the_health_breaker_only_past_the_threshold() -> None:
    health = VenueHealth(HealthSettings(failures=3, window=timedelta(seconds=60)))
    health.failed(T0, "rejected -2010")
    health.failed(T0 + timedelta(seconds=70), "rejected -2010")  # the first left the window
    assert health.healthy(T0 + timedelta(seconds=71))
    health.failed(T0 + timedelta(seconds=80), "rejected -2010")
    health.failed(T0 + timedelta(seconds=90), "rejected -2010")
    assert not health.healthy(T0 + timedelta(seconds=91))


def test_a_set_refuses_a_venue_twice_and_an_unknown_venue() -> None:
    venues = _set()
    with pytest.raises(ConfigError, match="twice"):
        VenueSet(HaltGate(), [venues.venues["okx"], venues.venues["okx"]])
    with pytest.raises(ConfigError, match="kraken"):
        routed_paper_venues(RoutingSettings(venues=["okx", "kraken"]), ["BTCUSDT"])


def test_the_venue_panel_and_the_routing_table_read_what_they_are_given() -> None:
    view = VenueView("okx", False, "UNHEALTHY: unreachable", Decimal(10), Decimal(20),
                     Decimal(900), Decimal(1000), Decimal(5000), 0.25)
    panel = str(venues_table([view], "binance+okx"))
    assert "okx" in panel and "UNHEALTHY" in panel and "25.0%" in panel
    assert "one venue: paper" in str(venues_table([], "paper"))
    decision = {"client_order_id": "c1", "ts": T0, "venue": "okx", "expected_cost_bps": 11.234,
                "reason": "all to okx", "considered": [
                    {"venue": "okx", "eligible": True, "total_bps": 11.234},
                    {"venue": "bybit", "eligible": False, "reason": "unhealthy"}]}
    text = str(routing_table([decision]))
    assert "11.2" in text and "bybit excluded (unhealthy)" in text


def test_the_backtest_cli_routes_across_profiles_and_one_alone(
        binance_data: Path, tmp_path: Path) -> None:
    common = ["backtest", "--data", str(binance_data / BTC_FILE), "--side", "buy",
              "--quantity", "25", "--algo", "market", "--start", "2024-02-01T10:00:00Z",
              "--duration-minutes", "5", "--venues", "binance,okx,bybit"]
    routed, alone = tmp_path / "sor.json", tmp_path / "okx.json"
    assert main([*common, "--route", "sor", "--json", str(routed)]) == 0
    assert main([*common, "--route", "okx", "--json", str(alone)]) == 0
    sor = json.loads(routed.read_text())["venues"]
    okx = json.loads(alone.read_text())["venues"]
    assert [r["venue"] for r in okx] == ["okx"]
    assert len(sor) >= 2  # 25 BTC at once: one book is not enough
    assert sum(r["share_of_notional"] for r in sor) == pytest.approx(1.0, abs=1e-3)
    cost = sum(r["all_in_cost_bps"] * r["share_of_notional"] for r in sor)
    assert cost < okx[0]["all_in_cost_bps"]


def test_the_backtest_cli_refuses_an_unknown_venue_or_a_venue_twice(
        binance_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["backtest", "--data", str(binance_data / BTC_FILE), "--start",
            "2024-02-01T10:00:00Z", "--venues"]
    assert main([*base, "binance,kraken"]) == 2
    assert "OMS_ROUTING__VENUES" in capsys.readouterr().err
    assert main([*base, "okx,okx"]) == 2
    assert "twice" in capsys.readouterr().err
