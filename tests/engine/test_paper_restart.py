"""Restarting the OMS on the paper venue behaves like restarting against Binance: the child
resting at the exchange is found and followed, its later fill is booked once, ids never repeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from oms.bootstrap import Oms, build_oms
from oms.clock import TestClock
from oms.commands import SubmitParentOrder
from oms.config import Settings
from oms.market.synthetic import SyntheticMarket
from oms.model import AlgoName, ChildState, IdGenerator, Side
from oms.persistence.tables import ChildOrderRow, FillRow, PaperOrderRow
from oms.venues.paper import PaperVenue

START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


def process(settings: Settings, now: datetime, token: str) -> tuple[Oms, TestClock]:
    """One OMS process as bootstrap builds it: its own market, venue, database handle."""
    clock = TestClock(now)
    market = SyntheticMarket(settings.symbols, START, seed=settings.seed)
    oms = build_oms(settings, clock=clock, market=market, ids=IdGenerator(token))
    oms.engine.start()
    return oms, clock


def tick(oms: Oms, clock: TestClock, seconds: int = 1) -> None:
    for _ in range(seconds):
        clock.advance(timedelta(seconds=1))
        oms.engine.tick()


def test_a_child_resting_at_the_paper_venue_survives_a_restart(tmp_path: Path) -> None:
    # Arrange: a passive child rests at the paper venue when the first process stops
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'oms.db'}")
    first, clock = process(settings, START, "a")
    bid = first.market.quote("ETHUSDT").bid
    first.engine.enqueue(SubmitParentOrder(
        "ETHUSDT", Side.BUY, Decimal("0.1"), AlgoName.ICEBERG, 30, limit_price=bid - 2,
        algo_options={"display_share": 1.0}))
    tick(first, clock, 20)
    venue = first.venue
    assert isinstance(venue, PaperVenue)
    resting = venue.open_order_ids("ETHUSDT")
    assert len(resting) == 1 and first.engine.open_children[resting[0]].state is ChildState.NEW
    cid = resting[0]
    with first.database.session() as s:
        first_run = {r.client_order_id: r.venue_order_id for r in s.scalars(select(ChildOrderRow))}
    crash = clock.now()
    first.close()  # every tick committed its rows: what a crash after the last tick leaves
    restart = crash + timedelta(minutes=2)

    # Act: a new process on the same database, later
    second, clock2 = process(settings, restart, "b")
    followed = dict(second.engine.open_children)
    venue2 = second.venue
    assert isinstance(venue2, PaperVenue)
    open_at_venue = venue2.open_order_ids()
    for _ in range(15 * 60):
        tick(second, clock2)
        if cid not in second.engine.open_children:
            break
    second.engine.enqueue(SubmitParentOrder("BTCUSDT", Side.BUY, Decimal("0.001"),
                                            AlgoName.MARKET, 1))
    tick(second, clock2, 10)

    # Assert: followed, filled once after the restart, new venue order ids
    assert cid in followed and cid in open_at_venue
    with second.database.session() as s:
        child = s.get(ChildOrderRow, cid)
        fills = s.scalars(select(FillRow).where(FillRow.client_order_id == cid)).all()
        children = {r.client_order_id: r.venue_order_id for r in s.scalars(select(ChildOrderRow))}
        paper_rows = s.scalars(select(PaperOrderRow)).all()
    assert child is not None and child.state == ChildState.FILLED.value
    assert child.filled_quantity == Decimal("0.1") == sum(f.quantity for f in fills)
    assert len({f.fill_id for f in fills}) == len(fills) >= 1
    assert all(f.ts >= restart for f in fills)  # nothing traded for it while it was down
    first_ids = {v for v in first_run.values() if v is not None}
    second_ids = {v for c, v in children.items() if c not in first_run and v is not None}
    assert first_ids and second_ids and not first_ids & second_ids
    assert {r.client_order_id for r in paper_rows} == set(venue2.open_order_ids())
    second.close()
