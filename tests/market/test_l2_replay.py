"""L2 replay on a small hand-made recording: the queue a resting order waits in, a taker walking
the recorded levels, and every bad input named by its option."""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from oms.config import PaperVenueSettings
from oms.errors import ValidationError
from oms.market.l2_files import load_l2
from oms.market.l2_replay import L2ReplayMarket
from oms.model.enums import OrderType, Side
from oms.model.orders import ChildOrder, Fill
from oms.risk.halt import HaltGate
from oms.venues.events import OrderFilled
from oms.venues.paper import PaperVenue

T0_MS = 1_723_161_600_000  # 2024-08-09T00:00:00Z
T0 = datetime(2024, 8, 9, tzinfo=UTC)
DEPTH_HEADER = ["local_recv_ts_ns", "event_time_ms", "first_update_id", "final_update_id",
                "side", "price", "qty"]
TRADE_HEADER = ["trade_id", "price", "qty", "trade_time_ms", "event_time_ms", "is_buyer_maker",
                "local_recv_ts_ns"]
# (ms after T0, first id, final id, [(side, price, qty)])
DIFFS: list[tuple[int, int, int, list[tuple[str, str, str]]]] = [
    (-100, 95, 100, [("bid", "100.00", "1")]),  # before the snapshot: dropped
    (0, 99, 101, [("ask", "100.03", "2")]),  # bridges lastUpdateId 100
    (250, 102, 102, [("bid", "100.00", "7")]),  # 4 join behind the queue
    (300, 103, 104, [("bid", "100.00", "5")]),  # 2 cancelled: 3/7 of them ahead of us
    (400, 105, 105, [("bid", "100.00", "2")]),  # the 3 sold at 400 ms, nothing cancelled
    (900, 106, 106, [("ask", "100.01", "4")]),  # the ask level is refreshed
]
# (ms after T0, price, qty, aggressor sold)
TRADES: list[tuple[int, str, str, bool]] = [
    (200, "100.00", "2", True),
    (400, "100.00", "3", True),
    (600, "99.99", "1", True),  # through our 100.00 bid
    (950, "100.01", "0.5", False),
]


@dataclass(frozen=True)
class Recording:
    """Paths of a hand-made recording."""

    book: Path
    depth: Path
    trades: Path


def write_recording(directory: Path, *, symbol: str = "BTCUSDT",
                    diffs: list[tuple[int, int, int, list[tuple[str, str, str]]]] | None = None,
                    trade_symbol: str | None = None) -> Recording:
    """Write the snapshot (lastUpdateId 100), DIFFS and TRADES in the recorder's formats."""
    stem = f"{symbol}_20240809T0000_20240809T0001"
    book = directory / f"{stem}_depth_snapshot_1000.json"
    book.write_text(json.dumps({"lastUpdateId": 100,
                                "bids": [["100.00", "5"], ["99.99", "3"]],
                                "asks": [["100.01", "4"], ["100.02", "6"]]}))
    depth = directory / f"{stem}_depth_updates.csv.gz"
    with gzip.open(depth, "wt", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(DEPTH_HEADER)
        for ms, first, final, rows in DIFFS if diffs is None else diffs:
            for side, price, qty in rows:
                writer.writerow([0, T0_MS + ms, first, final, side, price, qty])
    trades = directory / f"{trade_symbol or symbol}_20240809T0000_20240809T0001_trades.csv.gz"
    with gzip.open(trades, "wt", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(TRADE_HEADER)
        for k, (ms, price, qty, sold) in enumerate(TRADES):
            writer.writerow([k + 1, price, qty, T0_MS + ms, T0_MS + ms, str(sold).lower(), 0])
    return Recording(book, depth, trades)


def market_of(rec: Recording) -> L2ReplayMarket:
    return L2ReplayMarket({"BTCUSDT": load_l2(rec.book, rec.depth, rec.trades)})


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def fills_until(market: L2ReplayMarket, venue: PaperVenue, stops_ms: list[int]) -> list[Fill]:
    fills: list[Fill] = []
    for ms in stops_ms:
        market.advance_to(at(ms))
        fills += [e.fill for e in venue.poll(at(ms)) if isinstance(e, OrderFilled)]
    return fills


def instant_venue(market: L2ReplayMarket) -> PaperVenue:
    return PaperVenue(HaltGate(), market, PaperVenueSettings(latency_ms=0, latency_jitter_ms=0))


def test_the_queue_ahead_is_eaten_by_trades_and_cancels_then_we_fill(tmp_path: Path) -> None:
    market = market_of(write_recording(tmp_path))
    t = T0.timestamp()

    # joins behind the 5 displayed at 100.00 (at 50 ms); 2 sold, 4 joined behind,
    # 2 cancelled of which 3/7 ahead of us: 2 + 6/7 moved us forward by 350 ms
    first = market.volume_through("BTCUSDT", Side.BUY, 100.0, t + 0.05, t + 0.35)
    # 3 sold: 15/7 left ahead, so 6/7 of it reach us
    second = market.volume_through("BTCUSDT", Side.BUY, 100.0, t + 0.35, t + 0.5)
    # a sale at 99.99 went through our price
    third = market.volume_through("BTCUSDT", Side.BUY, 100.0, t + 0.5, t + 0.7)

    assert first[0] == pytest.approx(2 + 6 / 7, abs=1e-12) and first[1] is False
    assert second == (pytest.approx(3.0, abs=1e-12), False)
    assert third[1] is True


def test_a_resting_buy_fills_behind_the_real_queue(tmp_path: Path) -> None:
    market = market_of(write_recording(tmp_path))
    venue = instant_venue(market)
    market.advance_to(at(50))
    venue.submit(ChildOrder("rest", "p1", "BTCUSDT", Side.BUY, Decimal(1), OrderType.LIMIT,
                            at(50), "paper", limit_price=Decimal("100.00")), at(50))

    fills = fills_until(market, venue, [50, 350, 500, 700])

    # 6/7 of the 400 ms sale reach us (rounded down to the 0.00001 step), the trade through
    # 99.99 at 600 ms fills the rest, both at our price
    assert [(f.quantity, f.price, f.ts) for f in fills] == [
        (Decimal("0.85714"), Decimal("100.00"), at(500)),
        (Decimal("0.14286"), Decimal("100.00"), at(700))]
    assert sum(f.quantity for f in fills) == Decimal(1)


def test_a_taker_walks_the_recorded_levels_and_does_not_take_them_twice(tmp_path: Path) -> None:
    market = market_of(write_recording(tmp_path))
    venue = instant_venue(market)
    market.advance_to(at(100))

    venue.submit(ChildOrder("t1", "p1", "BTCUSDT", Side.BUY, Decimal(6), OrderType.MARKET,
                            at(100), "paper"), at(100))
    first = fills_until(market, venue, [100])
    venue.submit(ChildOrder("t2", "p1", "BTCUSDT", Side.BUY, Decimal(3), OrderType.MARKET,
                            at(150), "paper"), at(150))
    second = fills_until(market, venue, [150])
    # 100.01 is refreshed to 4 at 900 ms: the recorded size counts again
    venue.submit(ChildOrder("t3", "p1", "BTCUSDT", Side.BUY, Decimal(1), OrderType.MARKET,
                            at(900), "paper"), at(900))
    third = fills_until(market, venue, [900])

    assert [(f.quantity, f.price) for f in first] == [(Decimal(4), Decimal("100.01")),
                                                      (Decimal(2), Decimal("100.02"))]
    assert [(f.quantity, f.price) for f in second] == [(Decimal(3), Decimal("100.02"))]
    assert [(f.quantity, f.price) for f in third] == [(Decimal(1), Decimal("100.01"))]


def test_the_market_quotes_the_bridged_book_and_the_trades(tmp_path: Path) -> None:
    market = market_of(write_recording(tmp_path))

    market.advance_to(at(260))
    quote = market.quote("BTCUSDT")
    book = market.book("BTCUSDT", depth=3)
    volume = market.traded_volume("BTCUSDT", T0, at(1000))

    # the dropped diff (bid 100.00 -> 1) never applies; the 250 ms one does
    assert (quote.bid, quote.bid_size, quote.ask, quote.ask_size) == (
        Decimal("100.00"), Decimal("7.00000000"), Decimal("100.01"), Decimal("4.00000000"))
    assert [(lv.price, lv.quantity) for lv in book.asks] == [
        (Decimal("100.01"), Decimal("4.00000000")), (Decimal("100.02"), Decimal("6.00000000")),
        (Decimal("100.03"), Decimal("2.00000000"))]
    assert volume == Decimal("2.00000000")  # only the 200 ms trade is before now
    assert market.synced_at == T0 and market.is_open("BTCUSDT")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    rec = write_recording(tmp_path)

    with pytest.raises(ValidationError) as err:
        load_l2(rec.book, tmp_path / "BTCUSDT_x_depth_updates.csv.gz", rec.trades)

    assert [e.field for e in err.value.errors] == ["depth"]
    assert "does not exist" in str(err.value)


def test_files_of_different_symbols_are_refused(tmp_path: Path) -> None:
    rec = write_recording(tmp_path, trade_symbol="ETHUSDT")

    with pytest.raises(ValidationError) as err:
        load_l2(rec.book, rec.depth, rec.trades)

    assert [e.field for e in err.value.errors] == ["trades"]
    assert "ETHUSDT" in str(err.value) and "BTCUSDT" in str(err.value)


def test_diffs_that_do_not_reach_the_snapshot_are_refused(tmp_path: Path) -> None:
    late = [(0, 103, 104, [("ask", "100.03", "2")])]  # 101 and 102 are missing
    rec = write_recording(tmp_path, diffs=late)

    with pytest.raises(ValidationError) as err:
        load_l2(rec.book, rec.depth, rec.trades)

    assert [e.field for e in err.value.errors] == ["depth"]
    assert "does not bridge the snapshot" in str(err.value) and "101" in str(err.value)


def test_a_gap_in_the_diff_sequence_is_refused(tmp_path: Path) -> None:
    gap = [DIFFS[1], (250, 103, 103, [("bid", "100.00", "7")])]  # 102 is missing
    rec = write_recording(tmp_path, diffs=gap)

    with pytest.raises(ValidationError) as err:
        load_l2(rec.book, rec.depth, rec.trades)

    assert [e.field for e in err.value.errors] == ["depth"]
    assert "gap" in str(err.value)


def test_a_snapshot_that_is_not_one_is_named(tmp_path: Path) -> None:
    rec = write_recording(tmp_path)
    rec.book.write_text('{"bids": []}')

    with pytest.raises(ValidationError) as err:
        load_l2(rec.book, rec.depth, rec.trades)

    assert [e.field for e in err.value.errors] == ["book"]


def test_a_level_twice_in_one_message_ends_at_its_last_row(tmp_path: Path) -> None:
    twice = [DIFFS[1], (250, 102, 102, [("bid", "100.00", "7"), ("bid", "100.00", "6")])]
    market = market_of(write_recording(tmp_path, diffs=twice))

    market.advance_to(at(250))  # the recording's last instant

    assert market.quote("BTCUSDT").bid_size == Decimal("6.00000000")
