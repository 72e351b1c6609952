"""The book rebuilt from a real Binance snapshot and its diffs equals the recorded bookTicker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oms.market.l2_book import L2Book
from oms.market.l2_files import L2Recording, load_l2

STEM = "l2_trades/{symbol}_20240808T2354_20240809T0005"


def recording(binance_data: Path, symbol: str) -> L2Recording:
    stem = binance_data / STEM.format(symbol=symbol)
    return load_l2(f"{stem}_depth_snapshot_1000.json", f"{stem}_depth_updates.csv.gz",
                   f"{stem}_trades.csv.gz")


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_rebuilt_top_equals_the_recorded_book_ticker(binance_data: Path, symbol: str) -> None:
    import pandas as pd

    rec = recording(binance_data, symbol)
    book = L2Book(rec)
    ticker = pd.read_csv(binance_data / f"{STEM.format(symbol=symbol)}_bookTicker.csv.gz")
    # a bookTicker update whose id ends a depth message shows the book right after it
    ids = ticker["update_id"].to_numpy()
    k = np.minimum(np.searchsorted(rec.message_final_id, ids), len(rec.message_final_id) - 1)
    same = rec.message_final_id[k] == ids
    sampled = np.flatnonzero(same)[::5]  # every fifth, spread over the recording

    rebuilt = [book.top_at(int(k[i])) for i in sampled]

    expected = ticker[["best_bid_price", "best_bid_qty", "best_ask_price",
                       "best_ask_qty"]].to_numpy()[sampled]
    assert len(sampled) > 150
    assert np.array_equal(np.array(rebuilt), expected)


def test_the_book_moves_backwards_to_what_it_was(binance_data: Path) -> None:
    book = L2Book(recording(binance_data, "BTCUSDT"))
    early, late = 100, len(book.message_time) - 1
    book.seek(early)
    before = list(book.walk(early, True, 0.0))[:50], list(book.walk(early, False, 0.0))[:50]

    book.seek(late)
    book.seek(early)
    after = list(book.walk(early, True, 0.0))[:50], list(book.walk(early, False, 0.0))[:50]

    assert after == before
    assert before[0][0][0] > before[1][0][0]  # best ask above best bid: the book is synced
