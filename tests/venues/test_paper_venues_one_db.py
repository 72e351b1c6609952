"""Several paper venues in ONE database (the OMS's, through the Journal and the Repository): each
writes its own rows and, after a restart, restores its own orders and balances and nothing else;
the default venue's rows are those of a database from before venues had names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from oms.config import PaperVenueSettings
from oms.journal import Journal
from oms.market.synthetic import SyntheticMarket
from oms.model.enums import OrderType, Side
from oms.model.orders import ChildOrder, Fill
from oms.persistence import Database, Repository
from oms.persistence.tables import PaperOrderRow, PaperStateRow
from oms.risk.halt import HaltGate
from oms.venues.events import OrderFilled, VenueEvent
from oms.venues.paper import PaperVenue
from oms.venues.paper_factory import paper_venue_for
from oms.venues.profiles import DEFAULT_PROFILES

START = datetime(2024, 5, 1, 14, tzinfo=UTC)
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
SETTINGS = PaperVenueSettings(impact_coefficient=0.0)  # impact is the market's memory
BALANCES = {
    "paper": {"USDT": Decimal(1_000_000)},
    "binance": {"USDT": Decimal(2_000_000), "BTC": Decimal(1)},
    "okx": {"USDT": Decimal(3_000_000), "SOL": Decimal(100)},
}


def repository(path: Path) -> Repository:
    database = Database(f"sqlite:///{path}")
    database.migrate()
    return Repository(database)


def venues_on(market: SyntheticMarket) -> dict[str, PaperVenue]:
    """The default paper venue and the Binance and OKX profiles, as one process builds them."""
    built = {"paper": PaperVenue(HaltGate(), market, SETTINGS, seed=5,
                                 balances=BALANCES["paper"])}
    for name in ("binance", "okx"):
        built[name] = paper_venue_for(DEFAULT_PROFILES[name], HaltGate(), market, seed=5,
                                      base=SETTINGS, balances=BALANCES[name])
    return built


def child(venue: str, cid: str, quantity: str, order_type: OrderType = OrderType.MARKET, *,
          price: Decimal | None = None, symbol: str = "ETHUSDT",
          side: Side = Side.BUY) -> ChildOrder:
    return ChildOrder(cid, "p1", symbol, side, Decimal(quantity), order_type, START, venue,
                      limit_price=price)


def fills_of(events: list[VenueEvent]) -> list[Fill]:
    return [e.fill for e in events if isinstance(e, OrderFilled)]


def trade(market: SyntheticMarket, venues: dict[str, PaperVenue]) -> datetime:
    """Per venue: a deep resting buy, a market buy that fills, then (okx) a market sell still on
    its way at the returned instant."""
    market.advance_to(START)
    deep = (market.quote("ETHUSDT").bid * Decimal("0.8")).quantize(Decimal("0.01"))
    for name, venue in venues.items():
        venue.submit(child(name, f"{name}-rest", "0.5", OrderType.LIMIT, price=deep), START)
        venue.submit(child(name, f"{name}-mkt", "0.2"), START)
    now = START + timedelta(seconds=2)
    market.advance_to(now)
    for venue in venues.values():
        assert fills_of(venue.poll(now))
    venues["okx"].submit(child("okx", "okx-late", "10", symbol="SOLUSDT", side=Side.SELL), now)
    return now


def traded(tmp_path: Path) -> tuple[Repository, dict[str, PaperVenue], datetime]:
    """Three venues trade on one market and their state is flushed through one journal:
    (the repository, the venues, the instant of the crash)."""
    repo = repository(tmp_path / "oms.db")
    market = SyntheticMarket(SYMBOLS, START, seed=3)
    running = venues_on(market)
    journal = Journal(repo)
    journal.state_sources.extend(v.state_changes for v in running.values())
    crash = trade(market, running)
    journal.flush()
    return repo, running, crash


def test_each_paper_venue_restores_only_its_own_orders_and_balances(tmp_path: Path) -> None:
    # Arrange: three venues trade and their state is flushed through one journal
    repo, running, crash = traded(tmp_path)

    # Act: a new process on the same database
    fresh_market = SyntheticMarket(SYMBOLS, START, seed=3)
    fresh_market.advance_to(crash)
    restored = venues_on(fresh_market)
    found = {name: venue.restore(repo.state_rows, crash) for name, venue in restored.items()}

    # Assert: each has its own orders, balances and counters, and no other's
    assert found == {"paper": True, "binance": True, "okx": True}
    for name, venue in restored.items():
        before = running[name]
        assert sorted(venue.open_order_ids()) == sorted(before.open_order_ids()), name
        assert set(venue._orders) == set(before._orders), name
        assert all(cid.startswith(f"{name}-") for cid in venue._orders), name
        assert venue.balances() == before.balances(), name
        assert venue._rng.getstate() == before._rng.getstate(), name
        assert venue._open_by_symbol == before._open_by_symbol, name
    assert "okx-late" in restored["okx"].open_order_ids()  # the sell on its way
    assert restored["okx"].balances()["SOL"].total == Decimal(100)
    assert "SOL" not in restored["binance"].balances()
    assert restored["binance"].balances()["BTC"].total == Decimal(1)
    assert restored["binance"].balances()["ETH"].total == Decimal("0.2")  # its market buy
    # a venue with nothing stored finds nothing, even in a database full of others' rows
    bybit = paper_venue_for(DEFAULT_PROFILES["bybit"], HaltGate(), fresh_market, seed=5)
    assert bybit.restore(repo.state_rows, crash) is False


def test_the_rows_say_whose_they_are_and_the_default_s_are_unchanged(tmp_path: Path) -> None:
    repo, _running, _crash = traded(tmp_path)

    with repo.db.session() as s:
        keys = set(s.scalars(select(PaperStateRow.key)))
        orders = {r.client_order_id: r.data for r in s.scalars(select(PaperOrderRow))}
    assert keys == {"balances", "counters", "rng", "binance:balances", "binance:counters",
                    "binance:rng", "okx:balances", "okx:counters", "okx:rng"}
    assert set(orders) == {"paper-rest", "binance-rest", "okx-rest", "okx-late"}
    assert "venue" not in orders["paper-rest"]  # as written before venues had names
    assert orders["binance-rest"]["venue"] == "binance"
    assert orders["okx-rest"]["venue"] == orders["okx-late"]["venue"] == "okx"


def test_after_a_restore_each_venue_writes_only_its_own_rows(tmp_path: Path) -> None:
    # Arrange: a restart, then the OKX sell on its way arrives and fills
    repo, _running, crash = traded(tmp_path)
    fresh_market = SyntheticMarket(SYMBOLS, START, seed=3)
    restored = venues_on(fresh_market)
    for venue in restored.values():
        venue.restore(repo.state_rows, crash)
    journal = Journal(repo)
    journal.state_sources.extend(v.state_changes for v in restored.values())
    journal.flush()  # a restored venue writes its state once more

    with repo.db.session() as s:
        before = {r.key: r.value for r in s.scalars(select(PaperStateRow))}

    # Act
    later = crash + timedelta(seconds=1)
    fresh_market.advance_to(later)
    late = fills_of(restored["okx"].poll(later))
    for name in ("paper", "binance"):
        assert restored[name].poll(later) == []
    journal.flush()

    # Assert: OKX's sell filled under its name; only OKX's rows moved
    assert late and {f.venue for f in late} == {"okx"}
    with repo.db.session() as s:
        after = {r.key: r.value for r in s.scalars(select(PaperStateRow))}
        orders = set(s.scalars(select(PaperOrderRow.client_order_id)))
    changed = {key for key in after if after[key] != before.get(key)}
    assert changed and all(key.startswith("okx:") for key in changed)
    assert orders == {"paper-rest", "binance-rest", "okx-rest"}
    again = venues_on(SyntheticMarket(SYMBOLS, START, seed=3))
    for name, venue in again.items():
        assert venue.restore(repo.state_rows, later)
        assert venue.balances() == restored[name].balances(), name
