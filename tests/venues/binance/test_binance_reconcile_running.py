"""Running reconciliation on the real engine trading through BinanceVenue over loopback: an
order placed at Binance behind the OMS's back and a deposit are detected; the actions reach
Binance (cancel) or make the OMS follow the order (adopt)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from binance_helpers import API_KEY, API_SECRET, ENV
from fake_binance_server import FakeBinance

from oms.bootstrap import Oms, build_oms
from oms.clock import LiveClock
from oms.config import BinanceSettings, Settings
from oms.model import ParentState, TradingState
from oms.reconciliation import MismatchKind, MismatchView
from oms.risk.halt import HaltGate
from oms.venues.binance_factory import build_binance_market, build_binance_venue

INTERVAL_S = 0.05  # wall time: the engine runs on a LiveClock here


class FakeBinanceAccount(FakeBinance):
    """The loopback server with an account whose balances a test changes (a deposit)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.balances: dict[str, Decimal] = {"USDT": Decimal("100000")}

    def _route(self, method: str, path: str, p: dict[str, str], headers: dict[str, str]) -> Any:
        if (method, path) == ("GET", "/api/v3/account"):
            return {"canTrade": True, "balances": [
                {"asset": asset, "free": str(amount), "locked": "0.00000000"}
                for asset, amount in self.balances.items()]}
        return super()._route(method, path, p, headers)


@pytest.fixture
def account_server() -> Iterator[FakeBinanceAccount]:
    fake = FakeBinanceAccount(API_KEY, API_SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture
def oms(account_server: FakeBinanceAccount, tmp_path: Path) -> Iterator[Oms]:
    settings = Settings(venue="binance-testnet", symbols=["BTCUSDT", "ETHUSDT"],
                        database_url=f"sqlite:///{tmp_path}/oms.db",
                        reconcile_interval_s=INTERVAL_S,
                        binance=BinanceSettings(rest_base_url=account_server.url,
                                                request_timeout_s=2, rest_poll_interval_s=0.05))
    clock = LiveClock()
    market = build_binance_market(settings, clock=clock)
    venue = build_binance_venue(settings, HaltGate(), production_confirmed=False, clock=clock,
                                market=market, env=ENV)
    built = build_oms(settings, clock=clock, market=market, venue=venue)
    venue.gate = built.gate  # share the process's halt gate, as the composition root must
    built.engine.tick()  # starts the interval
    yield built
    built.close()


def _mismatches(oms: Oms) -> tuple[MismatchView, ...]:
    return oms.service.reconciliation().mismatches


def _tick_until(oms: Oms, done: Any, tries: int = 60) -> None:
    for _ in range(tries):
        time.sleep(INTERVAL_S * 1.2)
        oms.engine.tick()
        if done():
            return
    raise AssertionError("condition not reached")


def _resolve(oms: Oms, mismatch_id: str, action: str, reason: str | None = None) -> Any:
    future = oms.service.resolve_mismatch(mismatch_id, action, reason, actor="desk", wait=False)
    oms.engine.tick()
    return future.result(timeout=2)


def test_an_order_placed_at_binance_behind_the_oms_back_halts(
        oms: Oms, account_server: FakeBinanceAccount) -> None:
    # Arrange
    account_server.place_foreign("BTCUSDT", "BUY", "0.01", "49000.00", cid="manual-1")

    # Act
    _tick_until(oms, lambda: bool(_mismatches(oms)))
    (mismatch,) = _mismatches(oms)
    result = _resolve(oms, mismatch.mismatch_id, "cancel")
    _tick_until(oms, lambda: oms.service.reconciliation().runs >= 6)

    # Assert
    assert mismatch.kind is MismatchKind.UNKNOWN_ORDER and mismatch.subject == "manual-1"
    assert "BUY 0.01 BTCUSDT LIMIT @ 49000 GTC" in mismatch.venue_view
    assert oms.engine.risk.trading_state is TradingState.HALTED
    events = oms.service.risk_events(kind="RECONCILE")
    assert [(e["code"], e["entity_id"]) for e in events] == [("UNKNOWN_ORDER", "manual-1")]
    assert result["action"] == "cancel"
    assert [o["status"] for o in account_server.orders.values()] == ["CANCELED"]
    assert _mismatches(oms) == ()


def test_a_deposit_at_binance_reduces_and_adopt_makes_it_the_baseline(
        oms: Oms, account_server: FakeBinanceAccount) -> None:
    # Arrange: the first settled comparison takes the live account as the baseline
    _tick_until(oms, lambda: oms.service.reconciliation().balances_checked_at is not None)
    (taken,) = [row for row in oms.service.repository.audit(entity_id="account")
                if row["event"] == "ReconcileBaselineTaken"]
    assert {a: Decimal(v) for a, v in taken["payload"]["baseline"].items()} == {
        "BTC": 0, "ETH": 0, "USDT": 0}
    assert _mismatches(oms) == ()

    # Act
    account_server.balances["USDT"] += Decimal("500")
    _tick_until(oms, lambda: bool(_mismatches(oms)))
    (mismatch,) = _mismatches(oms)
    reduced = oms.engine.risk.trading_state
    _resolve(oms, mismatch.mismatch_id, "adopt")
    runs = oms.service.reconciliation().runs
    _tick_until(oms, lambda: oms.service.reconciliation().runs >= runs + 3)

    # Assert
    assert mismatch.kind is MismatchKind.BALANCE and mismatch.subject == "USDT"
    assert mismatch.difference == Decimal("500")
    assert reduced is TradingState.REDUCING and not oms.gate.is_halted
    assert _mismatches(oms) == ()
    assert oms.service.reconciliation().baseline == {"USDT": Decimal("500")}


def test_adopt_follows_an_order_placed_at_binance_to_its_fill(
        oms: Oms, account_server: FakeBinanceAccount) -> None:
    # Arrange
    account_server.place_foreign("ETHUSDT", "BUY", "0.5", "2900.00", cid="manual-2")
    _tick_until(oms, lambda: bool(_mismatches(oms)))
    (mismatch,) = _mismatches(oms)

    # Act
    _resolve(oms, mismatch.mismatch_id, "adopt")
    child = oms.engine.open_children["manual-2"]
    account_server.fill("manual-2", Decimal("0.5"), symbol="ETHUSDT")
    _tick_until(oms, lambda: "manual-2" not in oms.engine.open_children)
    oms.engine.tick()

    # Assert
    assert child.filled_quantity == Decimal("0.5")
    assert [f.client_order_id for f in oms.service.fills()] == ["manual-2"]
    (parent,) = oms.service.parent_orders().rows
    assert parent["state"] == ParentState.COMPLETED.value
    assert oms.engine.account.position("ETHUSDT").quantity == Decimal("0.5")
    assert oms.engine.last_error is None
