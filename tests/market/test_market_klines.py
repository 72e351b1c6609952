"""Kline reader: the data.binance.vision formats (gz/zip/csv, header or not, ms or µs)."""
# ruff: noqa: F811 - the fixtures imported from market_testdata are used as test arguments

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from market_testdata import data_dir, halt_day, kline_file  # noqa: F401 - fixtures, used as arguments

from oms.market.klines import kline_arrays, read_klines, symbol_from_path

ROWS_MS = (
    "1709560800000,62000.1,62010.0,61990.5,62005.0,12.5,1709560859999,775000.0,900,6.0,372000.0,0\n"
    "1709560860000,62005.0,62020.0,62000.0,62019.9,8.25,1709560919999,511600.0,700,4.0,248100.0,0\n"
)
HEADER = ("open_time,open,high,low,close,volume,close_time,quote_volume,count,"
          "taker_buy_volume,taker_buy_quote_volume,ignore\n")


def test_full_gz_file_with_header_and_milliseconds(data_dir: Path) -> None:
    bars = kline_arrays(kline_file(data_dir, "BTCUSDT"))

    assert len(bars) == 254_880
    assert bars.symbol == "BTCUSDT"
    assert bars.open_s[0] == int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    assert np.all(np.diff(bars.open_s) == 60)
    assert bars.close[0] == 42298.61 and bars.volume[0] == 35.92724


def test_daily_zip_without_header_keeps_the_gap(halt_day: Path) -> None:
    frame = read_klines(halt_day)

    assert len(frame) == 1360  # 1440 minutes minus the 80-minute halt
    times = frame["open_time"]
    assert times.iloc[0] == datetime(2023, 3, 24, tzinfo=UTC)
    gap = times.diff().dt.total_seconds().max()
    assert gap == 81 * 60  # 12:39 -> 14:00


def test_microseconds_and_no_header_read_like_milliseconds(tmp_path: Path) -> None:
    micro = ROWS_MS.replace("1709560800000,", "1709560800000000,").replace(
        "1709560860000,", "1709560860000000,")
    (tmp_path / "a.csv").write_text(HEADER + ROWS_MS)
    with zipfile.ZipFile(tmp_path / "BTCUSDT-1m-2025-01-01.zip", "w") as archive:
        archive.writestr("BTCUSDT-1m-2025-01-01.csv", micro)

    plain = kline_arrays(tmp_path / "a.csv", symbol="BTCUSDT")
    zipped = kline_arrays(tmp_path / "BTCUSDT-1m-2025-01-01.zip")

    assert zipped.symbol == "BTCUSDT"
    assert plain.open_s.tolist() == zipped.open_s.tolist() == [1709560800, 1709560860]
    assert zipped.close.tolist() == [62005.0, 62019.9]


def test_time_range_filter(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text(ROWS_MS)

    frame = read_klines(tmp_path / "x.csv", start=datetime(2024, 3, 4, 14, 1, tzinfo=UTC))

    assert len(frame) == 1
    assert frame["open"].iloc[0] == 62005.0


def test_symbol_from_path() -> None:
    assert symbol_from_path("x/ETHUSDT-1m-2024-01-01.zip") == "ETHUSDT"


def test_time_slices_agree_with_filtering_the_whole_file(halt_day: Path) -> None:
    whole = read_klines(halt_day)
    windows = [
        (datetime(2023, 3, 24, 12, 30, tzinfo=UTC), datetime(2023, 3, 24, 14, 10, tzinfo=UTC)),
        (datetime(2023, 3, 24, 13, 0, tzinfo=UTC), datetime(2023, 3, 24, 13, 30, tzinfo=UTC)),
        (datetime(2023, 3, 23, tzinfo=UTC), datetime(2023, 3, 24, 0, 5, 30, tzinfo=UTC)),
        (datetime(2023, 3, 24, 23, 58, tzinfo=UTC), datetime(2023, 3, 26, tzinfo=UTC)),
    ]
    for start, end in windows:
        expected = whole[(whole["open_time"] >= start) & (whole["open_time"] < end)]

        sliced = read_klines(halt_day, start=start, end=end)

        assert sliced["open_time"].tolist() == expected["open_time"].tolist()
        assert sliced["close"].tolist() == expected["close"].tolist()


def test_microsecond_file_slices(tmp_path: Path) -> None:
    lines = "".join(
        f"{(1709560800 + 60 * k) * 1_000_000},1,2,0.5,1.5,3,0,4.5,1,1.5,2.25,0\n"
        for k in range(100))
    (tmp_path / "m.csv").write_text(lines)

    frame = read_klines(tmp_path / "m.csv", start=datetime(2024, 3, 4, 14, 10, tzinfo=UTC),
                        end=datetime(2024, 3, 4, 14, 20, tzinfo=UTC))

    assert len(frame) == 10
    assert frame["open_time"].iloc[0] == datetime(2024, 3, 4, 14, 10, tzinfo=UTC)
