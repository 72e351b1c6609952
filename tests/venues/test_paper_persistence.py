"""The paper venue is an exchange, not a cache: its state goes through the OMS database and a
new venue restored from it carries on as if nothing had happened, inventing nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from oms.config import PaperVenueSettings
from oms.market.synthetic import SyntheticMarket
from oms.model.enums import ChildState, OrderType, Side
from oms.model.orders import ChildOrder, Fill
from oms.persistence import Database, Repository
from oms.persistence.repository import WriteBatch
from oms.persistence.tables import PaperOrderRow
from oms.risk.halt import HaltGate
from oms.venues.events import OrderAccepted, OrderCanceled, OrderFilled, VenueEvent
from oms.venues.paper import ACCEPTED_KEPT, FINISHED_KEPT, PaperVenue
from oms.venues.paper_book import epoch_to_datetime

START = datetime(2024, 5, 1, 14, tzinfo=UTC)
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
# jitter: the RNG matters; cancels take longer, so one can be on its way at a crash. No
# impact: it is the market's memory, and a venue built on a market resets it
SLOW = PaperVenueSettings(latency_ms=200, latency_jitter_ms=40, cancel_latency_ms=600,
                          impact_coefficient=0.0)
INSTANT = PaperVenueSettings(latency_ms=0, latency_jitter_ms=0)
RICH = {"USDT": Decimal(10_000_000), "BTC": Decimal(5)}
MS = timedelta(milliseconds=1)


def child(cid: str, quantity: str, order_type: OrderType = OrderType.MARKET, *,
          side: Side = Side.BUY, price: Decimal | None = None,
          symbol: str = "BTCUSDT") -> ChildOrder:
    return ChildOrder(cid, "p1", symbol, side, Decimal(quantity), order_type, START, "paper",
                      limit_price=price)


def venue_on(market: SyntheticMarket, settings: PaperVenueSettings = SLOW) -> PaperVenue:
    return PaperVenue(HaltGate(), market, settings, seed=5, balances=RICH)


def repository(path: Path) -> Repository:
    database = Database(f"sqlite:///{path}")
    database.migrate()
    return Repository(database)


def persist(repo: Repository, venue: PaperVenue) -> dict[str, Any]:
    """Write what changed, as the journal does at a flush; returns the rows written."""
    changes = venue.state_changes()
    repo.write(WriteBatch(state={table: dict(rows) for table, rows in changes.items()}))
    return {table: dict(rows) for table, rows in changes.items()}


def run(market: SyntheticMarket, venue: PaperVenue, start: datetime, seconds: float,
        step: timedelta = 100 * MS,
        each: Callable[[], object] | None = None) -> list[VenueEvent]:
    events: list[VenueEvent] = []
    now = start
    while now < start + timedelta(seconds=seconds):
        now += step
        market.advance_to(now)
        events += venue.poll(now)
        if each is not None:
            each()
    return events


def fills_of(events: list[VenueEvent]) -> list[Fill]:
    return [e.fill for e in events if isinstance(e, OrderFilled)]


def scenario(market: SyntheticMarket, venue: PaperVenue) -> tuple[list[VenueEvent], datetime]:
    """A resting limit, a market order whose ack and fill are not visible yet and a cancel on
    its way; returns the events delivered so far and the instant of the crash."""
    market.advance_to(START)
    below = market.quote("SOLUSDT").bid - Decimal("0.05")  # it fills from 20.8 s on (seed 3)
    deep = (market.quote("ETHUSDT").bid * Decimal("0.9")).quantize(Decimal("0.01"))
    venue.submit(child("rest", "2000", OrderType.LIMIT, price=below, symbol="SOLUSDT"), START)
    venue.submit(child("doomed", "1", OrderType.LIMIT, price=deep, symbol="ETHUSDT"), START)
    events = run(market, venue, START, 20)
    t1 = START + timedelta(seconds=20)
    venue.submit(child("mkt", "0.5"), t1)
    venue.cancel("doomed", t1)
    arrival, visible = next((a[0], a[5]) for a in venue._store.actions
                            if a[3].order.client_order_id == "mkt")
    # the market order has reached the exchange, its events are on the way
    crash = epoch_to_datetime((arrival + visible) / 2)
    market.advance_to(crash)
    events += venue.poll(crash)
    return events, crash


def test_a_restored_venue_carries_on_exactly_as_the_one_that_crashed(tmp_path: Path) -> None:
    # Arrange: the same run twice; one process keeps going, the other crashes after a flush
    reference_market = SyntheticMarket(SYMBOLS, START, seed=3)
    reference = venue_on(reference_market)
    before_ref, crash = scenario(reference_market, reference)
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    crashed = venue_on(market)
    before, crash = scenario(market, crashed)
    repo = repository(tmp_path / "oms.db")
    persist(repo, crashed)
    assert crashed._orders["mkt"].state is ChildState.FILLED and crashed._store.outbox
    assert [a[3].order.client_order_id for a in crashed._store.actions] == ["doomed"]
    assert crashed._resting["rest"].queue_ahead > 0
    used_venue_ids = {w.venue_id for w in crashed._orders.values()}

    # Act: a new venue on the same database and market
    restored = venue_on(market)
    assert restored.restore(repo.state_rows, crash)
    rest, rest_ref = restored._resting["rest"], reference._resting["rest"]
    position = (rest.queue_ahead, rest.credit, rest.filled, rest.locked, rest.lock_unit)
    position_ref = (rest_ref.queue_ahead, rest_ref.credit, rest_ref.filled, rest_ref.locked,
                    rest_ref.lock_unit)
    balances = restored.balances()
    after = run(market, restored, crash, 60)
    restored.submit(child("new", "0.01"), market.now)
    after += restored.poll(market.now + timedelta(seconds=1))
    after_ref = run(reference_market, reference, crash, 60)
    reference.submit(child("new", "0.01"), reference_market.now)
    after_ref += reference.poll(reference_market.now + timedelta(seconds=1))

    # Assert: same orders, queue, locks and balances; every event once; nothing repeats
    assert before == before_ref
    assert after == after_ref
    delivered = [(type(e).__name__, e.client_order_id) for e in after]
    assert delivered.count(("OrderAccepted", "mkt")) == 1
    assert delivered.count(("OrderCanceled", "doomed")) == 1
    assert ("OrderAccepted", "mkt") not in [(type(e).__name__, e.client_order_id) for e in before]
    assert fills_of(after) and any(f.client_order_id == "rest" for f in fills_of(after))
    fill_ids = [f.fill_id for f in fills_of(before + after)]
    assert len(fill_ids) == len(set(fill_ids))
    new_ack = next(e for e in after if isinstance(e, OrderAccepted) and e.client_order_id == "new")
    assert new_ack.venue_order_id not in used_venue_ids
    assert int(new_ack.venue_order_id) > max(int(v) for v in used_venue_ids)
    assert position == position_ref and position[0] > 0
    assert balances == crashed.balances()
    assert restored.balances() == reference.balances()


def test_the_restored_state_is_the_crashed_one(tmp_path: Path) -> None:
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    crashed = venue_on(market)
    _, crash = scenario(market, crashed)
    repo = repository(tmp_path / "oms.db")
    persist(repo, crashed)

    restored = venue_on(SyntheticMarket(SYMBOLS, START, seed=3))
    assert restored.restore(repo.state_rows, crash)

    assert sorted(restored.open_order_ids()) == sorted(crashed.open_order_ids())
    assert restored.balances() == crashed.balances()
    assert restored._rng.getstate() == crashed._rng.getstate()
    for cid, w in crashed._orders.items():
        r = restored._orders[cid]
        assert (r.venue_id, r.state, r.filled, r.notional, r.queue_ahead, r.credit, r.checked_t,
                r.cancel_requested, r.lock_asset, r.locked, r.lock_unit, r.open_counted) == (
                w.venue_id, w.state, w.filled, w.notional, w.queue_ahead, w.credit, w.checked_t,
                w.cancel_requested, w.lock_asset, w.locked, w.lock_unit, w.open_counted), cid
        assert r.order == w.order
        assert restored.query(cid) == crashed.query(cid)
    assert restored._store.outbox == crashed._store.outbox
    assert [a[:3] + a[4:] for a in restored._store.actions] == [
        a[:3] + a[4:] for a in crashed._store.actions]
    assert restored._open_by_symbol == crashed._open_by_symbol


def test_nothing_is_invented_for_the_time_the_oms_was_down(tmp_path: Path) -> None:
    # Arrange: a buy resting behind the bid, a market buy on its way, then ten minutes of
    # downtime (five ticks behind: at the touch, a quote event that widens the spread can put it
    # at the front and fill all 50 within seconds)
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    crashed = venue_on(market)
    behind = market.quote("SOLUSDT").bid - Decimal("0.05")
    crashed.submit(child("rest", "50", OrderType.LIMIT, price=behind, symbol="SOLUSDT"), START)
    run(market, crashed, START, 5)
    crash = START + timedelta(seconds=5)
    crashed.submit(child("late", "0.2"), crash)  # reaches the exchange after the crash
    ask_at_crash = market.quote("BTCUSDT").ask
    repo = repository(tmp_path / "oms.db")
    persist(repo, crashed)
    filled_at_crash = crashed._resting["rest"].filled
    queue_at_crash = crashed._resting["rest"].queue_ahead
    restart = crash + timedelta(minutes=10)
    # a venue that had been running would have filled the rest meanwhile (the test can fail)
    market.advance_to(restart)
    assert fills_of(crashed.poll(restart))

    # Act
    fresh = SyntheticMarket(SYMBOLS, START, seed=3)
    fresh.advance_to(restart)
    ask_at_restart = fresh.quote("BTCUSDT").ask
    restored = venue_on(fresh)
    assert restored.restore(repo.state_rows, restart)
    first = restored.poll(restart)

    # Assert: the resting order consumed nothing; the late order arrived at the restart
    rest = restored._resting["rest"]
    assert rest.filled == filled_at_crash and rest.queue_ahead == queue_at_crash
    events = first + run(fresh, restored, restart, 1)
    assert all(f.ts <= crash for f in fills_of(events) if f.client_order_id == "rest")
    late = [f for f in fills_of(events) if f.client_order_id == "late"]
    assert late and all(f.ts == restart for f in late)
    # at the restart's price, not the crash's
    assert abs(late[0].price - ask_at_restart) < abs(late[0].price - ask_at_crash)


def test_finished_orders_leave_memory_and_the_table(tmp_path: Path) -> None:
    # Arrange: two orders that stay open, then thousands that fill and are delivered
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    venue = venue_on(market, INSTANT)
    repo = repository(tmp_path / "oms.db")
    deep = (market.quote("ETHUSDT").bid * Decimal("0.8")).quantize(Decimal("0.01"))
    venue.submit(child("open-1", "0.1", OrderType.LIMIT, price=deep, symbol="ETHUSDT"), START)
    venue.submit(child("open-2", "0.2", OrderType.LIMIT, price=deep, symbol="ETHUSDT"), START)
    venue.poll(START)
    persist(repo, venue)
    now = START

    # Act
    for k in range(3000):
        side = Side.BUY if k % 2 == 0 else Side.SELL
        venue.submit(child(f"c{k}", "0.001", side=side), now)
        now += 10 * MS
        market.advance_to(now)
        venue.poll(now)
        if k % 97 == 0:
            persist(repo, venue)
    persist(repo, venue)

    # Assert: only the open orders are held, in memory and in the table
    store = venue._store
    assert set(venue._orders) == set(venue._resting) == {"open-1", "open-2"}
    assert not venue._pending and not store.actions and not store.outbox
    assert not store._requests and not store._events
    assert len(store.finished) == FINISHED_KEPT and len(venue.accepted_log) <= ACCEPTED_KEPT
    with repo.db.session() as s:
        rows = s.scalars(select(PaperOrderRow)).all()
    assert {r.client_order_id for r in rows} == {"open-1", "open-2"}
    assert {r.state for r in rows} == {ChildState.NEW.value}
    assert venue.query("c2999") is not None  # lately finished: still answered
    assert venue.query("c0") is None  # long forgotten: the OMS never asks about closed orders


def test_an_idle_venue_writes_nothing() -> None:
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    venue = venue_on(market, INSTANT)
    deep = (market.quote("ETHUSDT").bid * Decimal("0.8")).quantize(Decimal("0.01"))
    venue.submit(child("open", "0.1", OrderType.LIMIT, price=deep, symbol="ETHUSDT"), START)
    venue.poll(START)
    first = venue.state_changes()  # the first call writes everything
    venue.poll(START + timedelta(seconds=1))  # no volume reaches the deep order

    again = venue.state_changes()

    assert set(first["paper_orders"]) == {"open"}
    assert set(first["paper_state"]) == {"balances", "counters", "rng"}
    assert again == {}


def test_restore_on_an_empty_database_returns_false(tmp_path: Path) -> None:
    repo = repository(tmp_path / "oms.db")
    venue = venue_on(SyntheticMarket(SYMBOLS, START, seed=3))

    assert venue.restore(repo.state_rows, START) is False
    assert venue.balances()["USDT"].free == RICH["USDT"]


def test_restore_never_asks_a_closed_market(tmp_path: Path) -> None:
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    crashed = venue_on(market)
    scenario(market, crashed)
    repo = repository(tmp_path / "oms.db")
    persist(repo, crashed)

    class Closed(SyntheticMarket):
        def is_open(self, symbol: str) -> bool:
            raise AssertionError("restore asked the market")

        def top(self, symbol: str, t: float) -> Any:
            raise AssertionError("restore asked the market")

    restored = venue_on(Closed(SYMBOLS, START, seed=3))

    assert restored.restore(repo.state_rows, START + timedelta(minutes=1))
    assert set(restored.adopt({"rest": child("rest", "1"), "gone": child("gone", "1")})) == {
        "rest"}


def test_a_cancel_on_its_way_arrives_at_the_restart(tmp_path: Path) -> None:
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    crashed = venue_on(market)
    _, crash = scenario(market, crashed)
    repo = repository(tmp_path / "oms.db")
    persist(repo, crashed)
    restart = crash + timedelta(minutes=3)
    fresh = SyntheticMarket(SYMBOLS, START, seed=3)
    fresh.advance_to(restart)
    restored = venue_on(fresh)
    restored.restore(repo.state_rows, restart)

    events = run(fresh, restored, restart, 2)

    canceled = [e for e in events if isinstance(e, OrderCanceled)]
    assert [e.client_order_id for e in canceled] == ["doomed"]
    assert canceled[0].ts >= restart
    assert "doomed" not in restored._orders


def test_an_order_that_comes_and_goes_between_two_batches_writes_no_row(
        tmp_path: Path) -> None:
    # Arrange: a written batch, then a market order that fills and is delivered before the next
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    venue = venue_on(market, INSTANT)
    repo = repository(tmp_path / "oms.db")
    persist(repo, venue)
    venue.submit(child("quick", "0.01"), START)

    # Act
    delivered = venue.poll(START)
    written = persist(repo, venue)

    # Assert: the fill happened and moved the balances, yet no paper_orders row came or went
    assert any(isinstance(e, OrderFilled) for e in delivered)
    assert "paper_orders" not in written
    assert set(written["paper_state"]) >= {"balances", "counters"}
    assert "quick" not in venue._orders


def test_an_order_written_before_it_finished_is_deleted(tmp_path: Path) -> None:
    # Arrange: the market order's row is written while its request is in flight
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    venue = venue_on(market, INSTANT)
    repo = repository(tmp_path / "oms.db")
    venue.submit(child("slow", "0.01"), START)
    first = persist(repo, venue)

    # Act
    venue.poll(START)
    second = persist(repo, venue)

    # Assert: one row, then its delete; the table is empty again
    assert set(first["paper_orders"]) == {"slow"}
    assert second["paper_orders"] == {"slow": None}
    with repo.db.session() as s:
        assert s.scalars(select(PaperOrderRow)).all() == []


def test_a_batch_holds_one_row_per_order_of_its_final_state() -> None:
    # Arrange: a resting buy that fills in parts over many polls of one batch
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    venue = venue_on(market)
    venue.state_changes()
    bid = market.quote("SOLUSDT").bid
    venue.submit(child("rest", "20000", OrderType.LIMIT, price=bid, symbol="SOLUSDT"), START)

    # Act: ten seconds of polls (it fills in full at 15 s, seed 3)
    events = run(market, venue, START, 10)
    changes = venue.state_changes()

    # Assert: several fills, a single row, and it says what the venue holds now
    assert len(fills_of(events)) > 1
    (row,) = changes["paper_orders"].values()
    assert row is not None
    rest = venue._orders["rest"]
    assert row["data"]["filled"] == str(rest.filled) and rest.filled > 0
    assert row["state"] == rest.state.value
    assert len(row["data"]["events"]) == len(venue._store.outbox)


def test_rows_keep_each_order_s_own_time_zone() -> None:
    # Arrange: the same instant in UTC and at UTC+2 (equal datetimes that print differently)
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    venue = venue_on(market)
    venue.state_changes()
    plus_two = START.astimezone(timezone(timedelta(hours=2)))
    venue.submit(child("utc", "0.01"), START)
    venue.submit(ChildOrder("zoned", "p1", "BTCUSDT", Side.BUY, Decimal("0.01"),
                            OrderType.MARKET, plus_two, "paper"), START)

    # Act
    rows = venue.state_changes()["paper_orders"]

    # Assert
    utc_row, zoned_row = rows["utc"], rows["zoned"]
    assert utc_row is not None and zoned_row is not None
    assert utc_row["data"]["order"]["created_at"] == START.isoformat()
    assert zoned_row["data"]["order"]["created_at"] == plus_two.isoformat()
    assert plus_two.isoformat().endswith("+02:00")
