"""The Binance testnet venue and paper venues routed as one set (loopback fake Binance): each
child names its venue, the router considered both, the kill switch cancels on both; beside
real-money Binance the combination is refused before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from binance_helpers import live_oms
from fake_binance_server import FakeBinance
from sqlalchemy import select

from oms.bootstrap import build_oms
from oms.config import RoutingSettings, Settings
from oms.errors import ConfigError
from oms.persistence.tables import AuditRow
from oms.venues.venue_set import VenueSet


def test_the_testnet_and_a_paper_venue_are_routed_as_one_set(server: FakeBinance,
                                                              tmp_path: Path) -> None:
    oms, live = live_oms(server, tmp_path / "oms.db",
                         routing=RoutingSettings(venues=["okx"]))
    try:
        venue = oms.venue
        assert isinstance(venue, VenueSet) and list(venue.venues) == ["binance-testnet", "okx"]
        oms.engine.tick()
        oms.service.submit_order("BTCUSDT", "BUY", "0.01", algo="market", wait=False)
        for _ in range(50):
            oms.engine.tick()
            if oms.service.fills():
                break
        fills = oms.service.fills()
        with oms.database.session() as s:
            routed = [dict(r.payload) for r in
                      s.scalars(select(AuditRow).where(AuditRow.event == "ChildRouted"))]
        oms.service.kill("test", wait=False)
        for _ in range(3):
            oms.engine.tick()
    finally:
        oms.close()
    assert fills and {f.venue for f in fills} <= {"binance-testnet", "okx"}
    assert routed and {c["venue"] for c in routed[0]["considered"]} == {"binance-testnet",
                                                                         "okx"}
    assert live.open_order_ids() == [] and venue.venues["okx"].open_order_ids() == []


def test_paper_venues_beside_production_binance_are_refused(tmp_path: Path) -> None:
    settings = Settings(venue="binance", database_url=f"sqlite:///{tmp_path / 'oms.db'}",
                        routing=RoutingSettings(venues=["okx"]))
    with pytest.raises(ConfigError, match="real-money"):
        build_oms(settings)
    assert not (tmp_path / "oms.db").exists()
