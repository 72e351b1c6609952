"""Paper venue timing and faults: latency, reject rate, outages, latency spikes, price shocks,
halts in data gaps, determinism for a seed."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from oms.config import PaperVenueSettings
from oms.errors import VenueUnavailable
from oms.market.replay import KlineReplayMarket
from oms.market.synthetic import SyntheticMarket
from oms.model.enums import OrderType, Side
from oms.model.orders import ChildOrder
from oms.risk.halt import HaltGate
from oms.venues.events import OrderAccepted, OrderFilled, OrderRejected, VenueEvent
from oms.venues.paper import PaperVenue

START = datetime(2024, 5, 1, 14, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def child(cid: str, quantity: str = "0.01", side: Side = Side.BUY,
          symbol: str = "BTCUSDT") -> ChildOrder:
    return ChildOrder(cid, "p1", symbol, side, Decimal(quantity), OrderType.MARKET, START,
                      "paper")


def setup(seed: int = 3, balances: dict[str, Decimal] | None = None,
          **settings: object) -> tuple[SyntheticMarket, PaperVenue]:
    market = SyntheticMarket(["BTCUSDT"], START, seed=seed)
    return market, PaperVenue(HaltGate(), market, PaperVenueSettings(**settings), seed=seed,  # type: ignore[arg-type]
                              balances=balances)


def drive(market: SyntheticMarket, venue: PaperVenue, until: datetime,
          step: timedelta = 5 * MS) -> list[tuple[datetime, VenueEvent]]:
    seen: list[tuple[datetime, VenueEvent]] = []
    now = market.now
    while now < until:
        now += step
        market.advance_to(now)
        seen += [(now, e) for e in venue.poll(now)]
    return seen


def test_events_become_visible_only_after_the_latency() -> None:
    market, venue = setup(latency_ms=40, latency_jitter_ms=0)

    venue.submit(child("c1"), START)
    assert venue.poll(START) == []
    seen = drive(market, venue, START + timedelta(milliseconds=100), step=MS)

    assert [type(e) for _, e in seen] == [OrderAccepted, OrderFilled]
    assert all(t == START + 40 * MS for t, _ in seen)
    fill = seen[1][1].fill  # type: ignore[union-attr]
    assert fill.ts == START + 20 * MS  # matched when it reached the exchange (half way)
    assert fill.submitted_at == START


def test_latency_is_seeded_and_distributed() -> None:
    def latencies(seed: int) -> list[float]:
        market, venue = setup(seed=seed, latency_ms=20, latency_jitter_ms=10)
        for k in range(50):
            venue.submit(child(f"c{k}"), START)
        seen = drive(market, venue, START + timedelta(milliseconds=400), step=MS)
        return [(t - START) / MS for t, e in seen if isinstance(e, OrderAccepted)]

    first = latencies(5)
    assert first == latencies(5)
    assert first != latencies(6)
    assert 10 < sorted(first)[25] < 30 and max(first) > min(first) + 5


def test_reject_rate_rejects_that_share_deterministically() -> None:
    _market, venue = setup(latency_ms=0, latency_jitter_ms=0, reject_rate=0.3)

    for k in range(200):
        venue.submit(child(f"c{k}"), START)
    events = venue.poll(START)

    rejected = [e for e in events if isinstance(e, OrderRejected)]
    assert 40 <= len(rejected) <= 80
    assert {e.code for e in rejected} == {-2010}
    assert len(venue.accepted_log) == 200 - len(rejected)


def test_outage_makes_the_venue_unreachable_then_delivers() -> None:
    market, venue = setup(latency_ms=10, latency_jitter_ms=0)
    venue.submit(child("before"), START)
    venue.faults.add_outage(START + 5 * MS, START + timedelta(seconds=2))

    market.advance_to(START + timedelta(seconds=1))
    with pytest.raises(VenueUnavailable):
        venue.submit(child("during"), START + timedelta(seconds=1))
    with pytest.raises(VenueUnavailable):
        venue.cancel("before", START + timedelta(seconds=1))
    assert venue.poll(START + timedelta(seconds=1)) == []
    market.advance_to(START + timedelta(seconds=2))
    after = venue.poll(START + timedelta(seconds=2))

    assert [type(e) for e in after] == [OrderAccepted, OrderFilled]
    assert [cid for cid, _ in venue.accepted_log] == ["before"]


def test_latency_spike_delays_acknowledgements() -> None:
    market, venue = setup(latency_ms=10, latency_jitter_ms=0)
    venue.faults.add_latency_spike(START, START + timedelta(seconds=1), extra_ms=1500)

    venue.submit(child("slow"), START)
    early = drive(market, venue, START + timedelta(milliseconds=1500), step=10 * MS)
    late = drive(market, venue, START + timedelta(milliseconds=1600), step=10 * MS)

    assert early == []
    assert [t for t, e in late if isinstance(e, OrderAccepted)] == [START + 1510 * MS]


def test_price_shock_moves_the_mid_at_its_time() -> None:
    market, venue = setup()
    shock_at = START + timedelta(seconds=30)
    venue.price_shock("BTCUSDT", -300, at=shock_at)

    market.advance_to(shock_at - MS)
    before = float(market.quote("BTCUSDT").mid)
    path_before = market.path_mid("BTCUSDT", quoted=True)
    market.advance_to(shock_at)
    after = float(market.quote("BTCUSDT").mid)
    path_after = market.path_mid("BTCUSDT", quoted=True)

    assert (after / path_after) / (before / path_before) == pytest.approx(0.97, abs=1e-4)


def test_same_seed_same_events() -> None:
    def stream(seed: int) -> list[str]:
        market, venue = setup(seed=seed, balances={"USDT": Decimal(10**6), "BTC": Decimal(10)})
        now = START
        out: list[str] = []
        for k in range(30):
            venue.submit(child(f"c{k}", "0.5", Side.BUY if k % 3 else Side.SELL), now)
            now += timedelta(milliseconds=250)
            market.advance_to(now)
            out += [repr(e) for e in venue.poll(now)]
        return out

    assert stream(9) == stream(9)
    assert stream(9) != stream(10)
    assert "OrderRejected" not in "".join(stream(9))  # both sides trade: the account holds both


def _halt_day() -> Path | None:
    env = os.environ.get("OMS_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance")
    base = next((c for c in candidates if c.is_dir()), None)
    return None if base is None else base / "klines_1m/edge_cases/BTCUSDT-1m-2023-03-24.zip"


def test_orders_in_a_data_gap_are_rejected_market_closed() -> None:
    path = _halt_day()
    if path is None or not path.exists():
        pytest.skip("../shared/data/binance is not available")
    market = KlineReplayMarket(path)
    venue = PaperVenue(HaltGate(), market, PaperVenueSettings(latency_ms=0, latency_jitter_ms=0))
    in_gap = datetime(2023, 3, 24, 13, 15, tzinfo=UTC)
    market.advance_to(in_gap)

    venue.submit(child("gap"), in_gap)
    events = venue.poll(in_gap)

    assert len(events) == 1 and isinstance(events[0], OrderRejected)
    assert (events[0].code, events[0].reason) == (-1013, "Market is closed.")
    reopened = datetime(2023, 3, 24, 14, 0, 5, tzinfo=UTC)
    market.advance_to(reopened)
    venue.submit(child("open"), reopened)
    assert any(isinstance(e, OrderFilled) for e in venue.poll(reopened))


def test_cancels_have_their_own_latency() -> None:
    market, venue = setup(latency_ms=10, latency_jitter_ms=0, cancel_latency_ms=300)
    price = market.quote("BTCUSDT").bid - 100
    order = ChildOrder("rest", "p1", "BTCUSDT", Side.BUY, Decimal("0.01"), OrderType.LIMIT,
                       START, "paper", limit_price=price)

    venue.submit(order, START)
    drive(market, venue, START + 20 * MS, step=MS)
    venue.cancel("rest", START + 20 * MS)
    seen = drive(market, venue, START + timedelta(milliseconds=400), step=MS)

    assert [t for t, _ in seen] == [START + 320 * MS]
