"""Reader for Binance 1-minute kline files in the data.binance.vision format.

Accepts plain CSV, CSV.gz and the daily .zip archives, with or without the header row, with
millisecond or microsecond ``open_time`` (Binance switched spot files to microseconds in 2025).
Parsing is vectorised (pandas C parser, imported only when a file is parsed); times become int64
epoch seconds. A file is parsed whole, once: its columns (in file order) are kept in the on-disk
kline cache (``oms.market.kline_cache``, ``var/cache/klines/``) and in a per-process memo of the
last three files read, and each call cuts its time window out of them (binary search when the
file is sorted, which Binance files are).
"""

from __future__ import annotations

import io
import threading
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from oms.clock import utc
from oms.market.kline_cache import COLUMNS, Columns, KlineCache, SourceKey, default_cache

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_CACHE",
    "KLINE_COLUMNS",
    "CacheChoice",
    "KlineArrays",
    "clear_memo",
    "kline_arrays",
    "read_klines",
    "symbol_from_path",
]

KLINE_COLUMNS = (
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
    "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore",
)
_USED = ("open_time", "open", "high", "low", "close", "volume", "quote_volume", "count",
         "taker_buy_volume")
_STORED = dict(zip(_USED, COLUMNS, strict=True))  # file column -> cached column
_MICROS_THRESHOLD = 10**14  # epoch ms stay below 1e14 until year 5138; epoch µs are above

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class _Default(Enum):
    CACHE = "default"


#: ``cache=DEFAULT_CACHE``: the cache ``oms.market.kline_cache.default_cache()`` names
DEFAULT_CACHE = _Default.CACHE
#: which on-disk cache a read uses: a KlineCache, None (none: parse the file) or DEFAULT_CACHE
CacheChoice: TypeAlias = KlineCache | _Default | None


def _decompress(raw: bytes, name: str) -> bytes:
    name = name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
            if not members:
                raise ValueError(f"{name}: no CSV inside the zip")
            return archive.read(members[0])
    if name.endswith(".gz"):
        return zlib.decompress(raw, 16 + zlib.MAX_WBITS)  # faster than gzip's stream reader
    return raw


def _has_header(first_line: bytes) -> bool:
    head = first_line.split(b",", 1)[0].strip()
    return not head.isdigit()


def _to_seconds(raw: IntArray) -> IntArray:
    """Epoch seconds of ms or µs open times (decided per value: a file may span the switch)."""
    seconds: IntArray = np.where(raw >= _MICROS_THRESHOLD, raw // 1_000_000, raw // 1_000)
    return seconds


def _parse(raw: bytes, name: str) -> Columns:
    """The used columns of a kline file's bytes (``name`` tells the compression), file order."""
    import pandas as pd  # ~0.4 s to import: only when a file is really parsed

    data = _decompress(raw, name)
    newline = data.find(b"\n")
    first = data if newline < 0 else data[:newline]  # no split: it would copy the whole file
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            header=None,
            skiprows=1 if _has_header(first) else 0,
            names=list(KLINE_COLUMNS),
            usecols=list(_USED),
            dtype={c: "float64" for c in _USED if c not in ("open_time", "count")}
            | {"open_time": "int64", "count": "int64"},
            engine="c",
        )
    except pd.errors.EmptyDataError:  # a header and nothing else
        return {column: np.empty(0, dtype) for column, dtype in COLUMNS.items()}
    columns: Columns = {stored: frame[used].to_numpy(COLUMNS[stored])
                        for used, stored in _STORED.items()}
    columns["open_s"] = _to_seconds(columns["open_s"])
    return columns


@dataclass(frozen=True, slots=True)
class _FileColumns:
    """A whole file's columns; ``ordered``: open times strictly increase (no duplicates)."""

    columns: Columns
    ordered: bool


_MEMO: OrderedDict[SourceKey, _FileColumns] = OrderedDict()
_MEMO_FILES = 3  # parsed files kept per process (~18 MB each for half a year)
_MEMO_LOCK = threading.Lock()


def clear_memo() -> None:
    """Forget the parsed files of this process (the on-disk cache is kept)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def _file_columns(path: Path, cache: CacheChoice) -> _FileColumns:
    """The columns of ``path``: from the memo, else the on-disk cache, else parsed."""
    key = SourceKey.of(path)
    with _MEMO_LOCK:
        cached = _MEMO.get(key)
        if cached is not None:
            _MEMO.move_to_end(key)
            return cached

    def parse(raw: bytes) -> Columns:
        return _parse(raw, path.name)

    store = default_cache() if cache is DEFAULT_CACHE else cache
    columns = parse(path.read_bytes()) if store is None else store.load(path, parse)
    open_s = columns["open_s"]
    parsed = _FileColumns(columns, bool(np.all(open_s[1:] > open_s[:-1])))
    with _MEMO_LOCK:
        _MEMO[key] = parsed
        while len(_MEMO) > _MEMO_FILES:
            _MEMO.popitem(last=False)
    return parsed


def _epoch(ts: datetime) -> int:
    return int(utc(ts).timestamp())


def _in_window(open_s: IntArray, start: datetime | None, end: datetime | None,
               ordered: bool) -> slice | npt.NDArray[np.intp]:
    """The rows with ``start <= open_s < end``: a slice of a sorted file, else their indexes."""
    if ordered:
        first = 0 if start is None else int(np.searchsorted(open_s, _epoch(start), "left"))
        last = open_s.size if end is None else int(np.searchsorted(open_s, _epoch(end), "left"))
        return slice(first, max(first, last))
    keep = np.ones(open_s.size, dtype=bool)
    if start is not None:
        keep &= open_s >= _epoch(start)
    if end is not None:
        keep &= open_s < _epoch(end)
    return np.flatnonzero(keep)


def _pick(column: npt.NDArray[Any], rows: slice | npt.NDArray[np.intp]) -> npt.NDArray[Any]:
    return column[rows].copy()  # never a view on the memo's arrays


def read_klines(
    path: str | Path, start: datetime | None = None, end: datetime | None = None, *,
    cache: CacheChoice = DEFAULT_CACHE,
) -> pd.DataFrame:
    """Read a kline file into a DataFrame indexed 0..n-1 with ``open_time`` as UTC datetimes.

    Columns: open_time, open, high, low, close, volume, quote_volume, count, taker_buy_volume
    (floats, ``count`` int), rows in file order. ``start``/``end`` keep bars with
    ``start <= open_time < end``.
    """
    import pandas as pd

    parsed = _file_columns(Path(path), cache)
    rows = _in_window(parsed.columns["open_s"], start, end, parsed.ordered)
    data: dict[str, Any] = {used: _pick(parsed.columns[stored], rows)
                            for used, stored in _STORED.items()}
    data["open_time"] = pd.to_datetime(data["open_time"], unit="s", utc=True)
    return pd.DataFrame(data)


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
    *,
    cache: CacheChoice = DEFAULT_CACHE,
) -> KlineArrays:
    """Read a kline file into KlineArrays (sorted by time, duplicates dropped: the first kept);
    ``start``/``end`` keep bars with ``start <= open_time < end``; ``cache``: see CacheChoice."""
    parsed = _file_columns(Path(path), cache)
    open_s = parsed.columns["open_s"]
    rows = _in_window(open_s, start, end, parsed.ordered)
    if not parsed.ordered:
        index = np.asarray(rows, dtype=np.intp)
        index = index[np.argsort(open_s[index], kind="stable")]
        if index.size:
            index = index[np.concatenate(([True], np.diff(open_s[index]) > 0))]
        rows = index

    def col(name: str) -> FloatArray:
        picked: FloatArray = _pick(parsed.columns[name], rows)
        return picked

    def ints(name: str) -> IntArray:
        picked: IntArray = _pick(parsed.columns[name], rows)
        return picked

    return KlineArrays(
        symbol=symbol or symbol_from_path(path),
        open_s=ints("open_s"),
        open=col("open"),
        high=col("high"),
        low=col("low"),
        close=col("close"),
        volume=col("volume"),
        quote_volume=col("quote_volume"),
        trades=ints("trades"),
        taker_buy_volume=col("taker_buy_volume"),
    )
