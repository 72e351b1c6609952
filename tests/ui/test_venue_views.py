"""The dashboard with several venues: the /risk Venues panel lists each venue with its health
and balance, and a routed parent's detail shows where each child went and why."""

from __future__ import annotations

from pathlib import Path

from oms_harness import until
from ui_helpers import text_of, ticking_app

from oms.config import RoutingSettings
from pages import orders, risk

VENUES = RoutingSettings(venues=["binance", "okx", "bybit"])


def test_the_venue_panel_and_a_routed_parents_detail(tmp_path: Path) -> None:
    with ticking_app(tmp_path / "sor.db", routing=VENUES) as app:
        service = app.server.config["OMS"].service
        result = service.submit_rebalance("BTCUSDT 3000", "market", 1, 0.9, actor="t")
        parent_id = result.parent_ids[0]
        until(lambda: service.parent_orders().total == 1
              and service.parent_orders().rows[0]["state"] == "COMPLETED")

        _usage, _breakers, venues = risk.refresh_risk(1)
        detail, fills, _disabled = orders.parent_detail(
            {"parent_id": parent_id, "session_id": result.session_id}, 1)

        panel = text_of(venues)
        assert all(name in panel for name in ("binance", "okx", "bybit"))
        assert "HEALTHY" in panel and "%" in panel
        shown = text_of(fills)
        assert "Routing" in shown and "Considered" in shown
        assert any(f"{name} " in shown for name in ("binance", "okx", "bybit"))
        assert parent_id in text_of(detail)
