"""Reader for Binance 1-minute kline files in the data.binance.vision format.

Accepts plain CSV, CSV.gz and the daily .zip archives, with or without the header row, with
millisecond or microsecond ``open_time`` (Binance switched spot files to microseconds in 2025).
Parsing is vectorised (pandas C parser); times become int64 epoch seconds for fast indexing.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from oms.clock import utc

__all__ = ["KLINE_COLUMNS", "KlineArrays", "kline_arrays", "read_klines", "symbol_from_path"]

KLINE_COLUMNS = (
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
    "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore",
)
_USED = ("open_time", "open", "high", "low", "close", "volume", "quote_volume", "count",
         "taker_buy_volume")
_MICROS_THRESHOLD = 10**14  # epoch ms stay below 1e14 until year 5138; epoch µs are above

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _open_binary(path: Path) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".zip"):
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
        if not members:
            raise ValueError(f"{path}: no CSV inside the zip")
        return archive.open(members[0])
    if name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return open(path, "rb")


def _has_header(first_line: bytes) -> bool:
    head = first_line.split(b",", 1)[0].strip()
    return not head.isdigit()


def _to_seconds(raw: IntArray) -> IntArray:
    if raw.size and int(raw[0]) >= _MICROS_THRESHOLD:
        return raw // 1_000_000
    return raw // 1_000


def _epoch(ts: datetime) -> int:
    return int(utc(ts).timestamp())


def _read(
    path: str | Path, start: datetime | None, end: datetime | None
) -> tuple[pd.DataFrame, IntArray]:
    path = Path(path)
    with _open_binary(path) as handle:
        data = handle.read()
    first = data.split(b"\n", 1)[0]
    frame = pd.read_csv(
        io.BytesIO(data),
        header=0 if _has_header(first) else None,
        names=list(KLINE_COLUMNS),
        usecols=list(_USED),
        dtype={c: "float64" for c in _USED if c not in ("open_time", "count")}
        | {"open_time": "int64", "count": "int64"},
        engine="c",
    )
    seconds = _to_seconds(frame["open_time"].to_numpy(np.int64))
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= seconds >= _epoch(start)
    if end is not None:
        keep &= seconds < _epoch(end)
    return frame.loc[keep].reset_index(drop=True), seconds[keep]


def read_klines(
    path: str | Path, start: datetime | None = None, end: datetime | None = None
) -> pd.DataFrame:
    """Read a kline file into a DataFrame indexed 0..n-1 with ``open_time`` as UTC datetimes.

    Columns: open_time, open, high, low, close, volume, quote_volume, count, taker_buy_volume
    (floats, ``count`` int). ``start``/``end`` keep bars with ``start <= open_time < end``.
    """
    frame, seconds = _read(path, start, end)
    frame["open_time"] = pd.to_datetime(seconds, unit="s", utc=True)
    return frame


@dataclass(frozen=True, slots=True)
class KlineArrays:
    """Kline columns as numpy arrays; ``open_s`` is the bar start in epoch seconds (sorted)."""

    symbol: str
    open_s: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    quote_volume: FloatArray
    trades: IntArray
    taker_buy_volume: FloatArray

    def __len__(self) -> int:
        return int(self.open_s.size)


def symbol_from_path(path: str | Path) -> str:
    """The symbol a data.binance.vision file name starts with (``BTCUSDT-1m-...`` -> BTCUSDT)."""
    return Path(path).name.split("-", 1)[0].split(".", 1)[0].upper()


def kline_arrays(
    path: str | Path,
    symbol: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> KlineArrays:
    """Read a kline file into KlineArrays (sorted by time, duplicates dropped)."""
    frame, open_s = _read(path, start, end)
    if open_s.size and np.any(np.diff(open_s) <= 0):
        order = np.argsort(open_s, kind="stable")
        open_s = open_s[order]
        frame = frame.iloc[order].reset_index(drop=True)
        unique = np.concatenate(([True], np.diff(open_s) > 0))
        open_s = open_s[unique]
        frame = frame.loc[unique].reset_index(drop=True)

    def col(name: str) -> FloatArray:
        return frame[name].to_numpy(np.float64, copy=True)

    return KlineArrays(
        symbol=symbol or symbol_from_path(path),
        open_s=open_s,
        open=col("open"),
        high=col("high"),
        low=col("low"),
        close=col("close"),
        volume=col("volume"),
        quote_volume=col("quote_volume"),
        trades=frame["count"].to_numpy(np.int64, copy=True),
        taker_buy_volume=col("taker_buy_volume"),
    )
