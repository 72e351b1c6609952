"""Reader for Binance 1-minute kline files in the data.binance.vision format.

Accepts plain CSV, CSV.gz and the daily .zip archives, with or without the header row, with
millisecond or microsecond ``open_time`` (Binance switched spot files to microseconds in 2025).
Parsing is vectorised (pandas C parser); times become int64 epoch seconds for fast indexing.
"""

from __future__ import annotations

import io
import threading
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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


def _load_bytes(path: Path) -> bytes:
    name = path.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
            if not members:
                raise ValueError(f"{path}: no CSV inside the zip")
            return archive.read(members[0])
    raw = path.read_bytes()
    if name.endswith(".gz"):
        return zlib.decompress(raw, 16 + zlib.MAX_WBITS)  # faster than gzip's stream reader
    return raw


_CACHE: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
_CACHE_FILES = 3  # decompressed files kept per process (~40 MB each for half a year)
_CACHE_LOCK = threading.Lock()


def _file_bytes(path: Path) -> bytes:
    """The decompressed CSV text of ``path`` (cached per process: backtests reread files)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    data = _load_bytes(path)
    with _CACHE_LOCK:
        _CACHE[key] = data
        while len(_CACHE) > _CACHE_FILES:
            _CACHE.popitem(last=False)
    return data


def _line_start(data: bytes, pos: int, body: int) -> int:
    """Offset of the first line starting at or after ``pos`` (``body``: first data line)."""
    if pos <= body:
        return body
    newline = data.find(b"\n", pos - 1)
    return len(data) if newline < 0 else newline + 1


def _line_seconds(data: bytes, offset: int, micros: bool) -> int:
    comma = data.find(b",", offset, offset + 32)
    value = int(data[offset:comma])
    return value // 1_000_000 if micros else value // 1_000


def _offset_of(data: bytes, body: int, target: int, micros: bool) -> int:
    """Byte offset of the first line with open_time >= ``target`` seconds (time-sorted files)."""
    lo, hi = body, len(data)
    while hi - lo > 256:
        mid = _line_start(data, (lo + hi) // 2, body)
        if mid >= hi:
            break
        if _line_seconds(data, mid, micros) < target:
            lo = mid + 1
        else:
            hi = mid
    offset = _line_start(data, lo, body)
    while offset < len(data) and data[offset:offset + 1].strip() and \
            _line_seconds(data, offset, micros) < target:
        offset = _line_start(data, offset + 1, body)
    return offset


def _slice(data: bytes, body: int, start: datetime | None, end: datetime | None) -> bytes:
    """The data lines of ``data`` within [start, end), found by bisection (no full parse)."""
    if body >= len(data) or not data[body:body + 1].strip():
        return data[body:]
    micros = _line_seconds(data, body, False) >= _MICROS_THRESHOLD // 1000
    first = body if start is None else _offset_of(data, body, _epoch(start), micros)
    last = len(data) if end is None else _offset_of(data, body, _epoch(end), micros)
    return data[first:max(first, last)]


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
    data = _file_bytes(path)
    newline = data.find(b"\n")
    first = data if newline < 0 else data[:newline]  # no split: it would copy the whole file
    body = len(first) + 1 if _has_header(first) else 0
    try:
        rows = _slice(data, body, start, end)
        keep_all = True
    except ValueError:  # not sorted or not parseable by bisection: parse all, filter after
        rows, keep_all = data[body:], False
    frame = pd.read_csv(
        io.BytesIO(rows),
        header=None,
        names=list(KLINE_COLUMNS),
        usecols=list(_USED),
        dtype={c: "float64" for c in _USED if c not in ("open_time", "count")}
        | {"open_time": "int64", "count": "int64"},
        engine="c",
    )
    seconds = _to_seconds(frame["open_time"].to_numpy(np.int64))
    if keep_all and frame.shape[0] == 0:
        return frame, seconds
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
