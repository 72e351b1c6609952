"""Smart order routing through the real engine: children go to the venues of a VenueSet (three
paper profiles on one simulated market), each with its ChildRouted audit row; a venue's limit
and its outage are routed around; the kill switch cancels on every venue; a fixed route sends
everything to one venue; the ExecutionReport has a ``venues`` section; bad settings stop the
start with an error naming the setting."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from oms_harness import OmsHarness, make_harness
from sqlalchemy import select

from benchmarks.kill_bench import resting_ladder
from oms.config import RiskLimits, RoutingSettings
from oms.errors import ConfigError
from oms.model import AlgoName, Side
from oms.persistence.tables import AuditRow, ChildOrderRow
from oms.venues.venue_set import VenueSet

VENUES = ["binance", "okx", "bybit"]
LIMITS = RiskLimits(max_position_usd=Decimal(10**7), max_gross_exposure_usd=Decimal(10**7),
                    max_orders_per_minute=10_000, max_order_notional_usd=Decimal(10**6))


def _harness(tmp_path: Path, **routing: Any) -> OmsHarness:
    return make_harness(tmp_path, routing=RoutingSettings(venues=VENUES, **routing),
                        risk=LIMITS, starting_balance=Decimal(3_000_000))


def _children(h: OmsHarness) -> list[ChildOrderRow]:
    with h.oms.database.session() as s:
        return list(s.scalars(select(ChildOrderRow)))


def _routed(h: OmsHarness) -> dict[str, dict[str, Any]]:
    with h.oms.database.session() as s:
        rows = s.scalars(select(AuditRow).where(AuditRow.event == "ChildRouted"))
        return {r.entity_id: dict(r.payload) for r in rows}


def _order(h: OmsHarness, quantity: str, algo: AlgoName, minutes: float,
           **options: Any) -> str:
    future = h.service.submit_order("BTCUSDT", Side.BUY, Decimal(quantity), algo, minutes,
                                    algo_options=options or None, wait=False)
    h.tick()
    result = future.result(timeout=1)
    return str(result.parent_ids[0])


LADDER_LIMITS = {v: Decimal(2_000) for v in VENUES}  # 12 rungs (~5,100 USD) need 3 venues


def _ladder(h: OmsHarness) -> None:
    """12 resting buys 1% under the bid (benchmarks.kill_bench's ladder), acknowledged."""
    with resting_ladder():
        _order(h, "0.144", AlgoName.ICEBERG, 120, rungs=12)
    h.run(2, step=0.05)


def test_every_child_is_routed_and_recorded_and_the_report_counts_each_venue(
        tmp_path: Path) -> None:
    h = _harness(tmp_path)
    assert isinstance(h.oms.venue, VenueSet)
    _order(h, "1.5", AlgoName.TWAP, 5)
    h.run(8 * 60, step=2)

    children, routed = _children(h), _routed(h)
    assert children and {c.venue for c in children} <= set(VENUES)
    assert {c.client_order_id for c in children} == set(routed)
    for child in children:
        decision = routed[child.client_order_id]
        assert decision["venue"] == child.venue
        assert {c["venue"] for c in decision["considered"]} == set(VENUES)
    parent = h.service.parent_orders().rows[0]
    assert parent["state"] == "COMPLETED"
    h.run(70, step=5)
    report = h.service.report(parent["session_id"])
    assert report is not None
    rows = report["venues"]
    assert {r["venue"] for r in rows} == {c.venue for c in children if c.filled_quantity > 0}
    assert sum(r["share_of_notional"] for r in rows) == pytest.approx(1.0, abs=1e-3)
    assert sum(Decimal(r["filled_quantity"]) for r in rows) == Decimal("1.5")
    h.oms.close()


def test_a_fixed_route_sends_everything_to_that_venue(tmp_path: Path) -> None:
    h = _harness(tmp_path, route="bybit")
    assert list(h.oms.venue.venues) == ["bybit"]  # type: ignore[attr-defined]
    _order(h, "0.5", AlgoName.TWAP, 3)
    h.run(5 * 60, step=2)
    assert {c.venue for c in _children(h)} == {"bybit"}
    assert h.service.parent_orders().rows[0]["state"] == "COMPLETED"
    h.oms.close()


def test_a_venue_at_its_limit_gets_nothing_more(tmp_path: Path) -> None:
    h = _harness(tmp_path, max_venue_notional_usd={"okx": Decimal(1_000),
                                                   "bybit": Decimal(1_000)})
    _order(h, "1.0", AlgoName.TWAP, 4)
    h.run(6 * 60, step=2)
    notional = Counter[str]()
    for child in _children(h):
        notional[child.venue] += float(child.filled_notional)
    assert notional["okx"] <= 1_000 + 1e-6 and notional["bybit"] <= 1_000 + 1e-6
    assert h.service.parent_orders().rows[0]["state"] == "COMPLETED"
    h.oms.close()


def test_an_outage_mid_twap_moves_the_rest_to_the_other_venues(tmp_path: Path) -> None:
    h = _harness(tmp_path)
    _order(h, "2.0", AlgoName.TWAP, 10)
    h.run(3 * 60, step=2)
    before = Counter(c.venue for c in _children(h))
    sick = before.most_common(1)[0][0]
    venue = h.oms.venue
    assert isinstance(venue, VenueSet)
    outage_at = h.clock.now()
    outage_end = outage_at + timedelta(minutes=4)
    venue.venues[sick].faults.add_outage(outage_at, outage_end)  # type: ignore[attr-defined]
    h.run(3 * 60, step=2)
    assert not venue.healthy(sick, h.clock.now())
    assert "UNHEALTHY" in h.service.snapshot().venue_status
    h.run(9 * 60, step=2)

    during = [c for c in _children(h)
              if outage_at + timedelta(seconds=5) < c.created_at < outage_end]
    assert during and all(c.venue != sick for c in during)
    # its order stuck at the dark venue was canceled once the venue came back; the rest done
    parent = h.service.parent_orders().rows[0]
    assert parent["state"] == "COMPLETED", parent
    h.oms.close()


def test_the_kill_switch_cancels_on_every_venue(tmp_path: Path) -> None:
    # per-venue limits spread the resting ladder over the three venues
    h = _harness(tmp_path, max_venue_notional_usd=LADDER_LIMITS)
    _ladder(h)
    venue = h.oms.venue
    assert isinstance(venue, VenueSet)
    resting = {name: v.open_order_ids() for name, v in venue.venues.items()}
    assert sum(1 for ids in resting.values() if ids) >= 2, resting

    h.service.kill("drill", actor="desk")
    h.run(5, step=0.05)
    assert all(not v.open_order_ids() for v in venue.venues.values())
    assert h.service.parent_orders().rows[0]["state"] == "HALTED"
    h.oms.close()


def test_a_restart_routes_cancels_to_the_venue_each_child_is_at(tmp_path: Path) -> None:
    h = _harness(tmp_path, max_venue_notional_usd=LADDER_LIMITS)
    _ladder(h)
    crashed_at = h.clock.now()
    working = {c.client_order_id: c.venue for c in _children(h) if c.state == "NEW"}
    h.oms.close()

    again = make_harness(tmp_path, start=crashed_at + timedelta(seconds=1), token="r",
                         routing=RoutingSettings(venues=VENUES,
                                                 max_venue_notional_usd=LADDER_LIMITS),
                         risk=LIMITS, starting_balance=Decimal(3_000_000))
    venue = again.oms.venue
    assert isinstance(venue, VenueSet)
    for cid, name in working.items():
        held = venue.venue_of(cid)
        assert held is not None and held.name == name
    again.service.kill("after restart", actor="desk")
    again.run(5, step=0.05)
    assert all(not v.open_order_ids() for v in venue.venues.values())
    again.oms.close()


@pytest.mark.parametrize(("routing", "message"), [
    ({"venues": ["binance", "kraken"]}, "kraken"),
    ({"venues": ["binance", "okx"], "route": "bybit"}, "OMS_ROUTING__ROUTE"),
    ({"venues": ["binance", "okx"], "max_venue_notional_usd": {"bybit": 10_000}}, "bybit"),
    ({"venues": ["binance", "okx"], "max_venue_notional_usd": {"binance": "0.5"}},
     "minimum notional"),
])
def test_bad_routing_settings_stop_the_start_naming_the_setting(
        tmp_path: Path, routing: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_harness(tmp_path, routing=RoutingSettings(**routing))
    assert not (tmp_path / "oms.db").exists()  # nothing started


def test_a_venue_listed_twice_is_refused_by_the_settings() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="twice"):
        RoutingSettings(venues="binance,okx,binance")
