"""The on-disk kline cache: a hit is the parse, and a damaged, stale or misplaced entry is never
served."""
# ruff: noqa: F811 - the fixtures imported from market_testdata are used as test arguments

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from market_testdata import data_dir, halt_day  # noqa: F401 - fixtures, used as arguments

import oms.market.klines as klines
from oms.market.kline_cache import (
    DEFAULT_DIRECTORY,
    ENV_DIRECTORY,
    KlineCache,
    cache_at,
    default_cache,
)
from oms.market.klines import KlineArrays, clear_memo, kline_arrays, read_klines

T0 = 1709560800  # 2024-03-04 14:00 UTC
HEADER = ("open_time,open,high,low,close,volume,close_time,quote_volume,count,"
          "taker_buy_volume,taker_buy_quote_volume,ignore\n")
FIELDS = ("open_s", "open", "high", "low", "close", "volume", "quote_volume", "trades",
          "taker_buy_volume")


def kline_lines(minutes: list[int], *, price: float = 62000.0, micros: bool = False) -> str:
    """One data line per minute offset from T0 (in the given order), prices from ``price``."""
    scale = 1_000_000 if micros else 1_000
    lines = []
    for k, minute in enumerate(minutes):
        p = price + 0.5 * k
        lines.append(f"{(T0 + 60 * minute) * scale},{p},{p + 3},{p - 2},{p + 1},{1.25 + k},"
                     f"0,{(1.25 + k) * p},{100 + k},{0.5 + k},0,0\n")
    return "".join(lines)


def write_gz(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    return path


def assert_same(a: KlineArrays, b: KlineArrays) -> None:
    assert a.symbol == b.symbol
    for name in FIELDS:
        left, right = getattr(a, name), getattr(b, name)
        assert left.dtype == right.dtype, name
        assert np.array_equal(left, right), name


def fresh_parse(path: Path, **window: datetime) -> KlineArrays:
    clear_memo()
    arrays = kline_arrays(path, cache=None, **window)
    clear_memo()
    return arrays


class ParseCounter:
    """Counts the real parses (a cache hit makes none)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = klines._parse

        def counting(raw: bytes, name: str) -> dict[str, np.ndarray]:
            self.calls += 1
            return real(raw, name)

        monkeypatch.setattr(klines, "_parse", counting)


@pytest.fixture(autouse=True)
def _no_memo() -> Iterator[None]:
    clear_memo()
    yield
    clear_memo()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_gz(tmp_path / "data" / "BTCUSDT-1m-2024-03-04.csv.gz",
                    HEADER + kline_lines(list(range(600))))


@pytest.fixture
def cache(tmp_path: Path) -> KlineCache:
    return KlineCache(tmp_path / "cache")


def test_hit_returns_what_a_fresh_parse_returns(source: Path, cache: KlineCache,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    window = {"start": datetime(2024, 3, 4, 15, 0, 30, tzinfo=UTC),
              "end": datetime(2024, 3, 4, 17, tzinfo=UTC)}
    expected_all, expected_window = fresh_parse(source), fresh_parse(source, **window)
    kline_arrays(source, cache=cache)  # miss: parses and writes the entry
    clear_memo()
    parses = ParseCounter(monkeypatch)

    whole = kline_arrays(source, cache=cache)
    part = kline_arrays(source, cache=cache, **window)

    assert parses.calls == 0
    assert cache.entry_path(source).is_file()
    assert_same(whole, expected_all)
    assert_same(part, expected_window)
    assert len(part) == 119 and part.open_s[0] == T0 + 3660  # 15:01: 15:00 opened before 15:00:30


def test_hit_on_the_real_daily_zip_equals_the_parse(halt_day: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cache = KlineCache(tmp_path / "cache")
    expected = fresh_parse(halt_day)
    expected_frame = read_klines(halt_day, cache=None)
    clear_memo()
    kline_arrays(halt_day, cache=cache)
    clear_memo()
    parses = ParseCounter(monkeypatch)

    arrays = kline_arrays(halt_day, cache=cache)
    frame = read_klines(halt_day, cache=cache)

    assert parses.calls == 0
    assert_same(arrays, expected)
    assert frame.equals(expected_frame)
    assert frame.dtypes.to_dict() == expected_frame.dtypes.to_dict()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "other_format",
                                    "short_column"])
def test_a_damaged_entry_is_ignored_and_rewritten(damage: str, source: Path, cache: KlineCache,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    expected = fresh_parse(source)
    kline_arrays(source, cache=cache)
    entry = cache.entry_path(source)
    good = entry.read_bytes()
    if damage == "garbage":
        entry.write_bytes(b"not a zip at all" * 100)
    elif damage == "truncated":
        entry.write_bytes(good[: len(good) // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "other_format":
        np.savez(entry, meta=np.array('{"format": 0}'))
    else:  # a valid zip whose close column is shorter than the others
        with np.load(entry) as archive:
            arrays = {name: archive[name] for name in archive.files}
        arrays["close"] = arrays["close"][:-1]
        with entry.open("wb") as out:
            np.savez(out, **arrays)
    clear_memo()

    served = kline_arrays(source, cache=cache)

    assert_same(served, expected)
    clear_memo()
    parses = ParseCounter(monkeypatch)
    assert_same(kline_arrays(source, cache=cache), expected)  # the rewritten entry is a hit
    assert parses.calls == 0


def test_a_changed_source_is_not_served_from_the_old_entry(source: Path, cache: KlineCache) -> None:
    before = kline_arrays(source, cache=cache)
    stat = source.stat()
    write_gz(source, HEADER + kline_lines(list(range(600)), price=63000.0))  # same length
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))
    clear_memo()

    after = kline_arrays(source, cache=cache)

    assert after.close[0] == 63001.0 and before.close[0] == 62001.0
    assert_same(after, fresh_parse(source))


def test_a_touched_source_is_served_from_its_entry(source: Path, cache: KlineCache,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    expected = kline_arrays(source, cache=cache)
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    clear_memo()
    parses = ParseCounter(monkeypatch)

    touched = kline_arrays(source, cache=cache)
    clear_memo()
    again = kline_arrays(source, cache=cache)  # the entry now carries the new mtime

    assert parses.calls == 0
    assert_same(touched, expected)
    assert_same(again, expected)


def test_a_cache_inside_the_data_directory_is_never_written(source: Path) -> None:
    inside = KlineCache(source.parent / "cache")

    arrays = kline_arrays(source, cache=inside)

    assert_same(arrays, fresh_parse(source))
    assert not (source.parent / "cache").exists()


def test_an_unwritable_cache_still_returns_the_parse(source: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")

    arrays = kline_arrays(source, cache=KlineCache(blocker))

    assert_same(arrays, fresh_parse(source))


def test_the_least_recently_used_entries_are_pruned(tmp_path: Path) -> None:
    cache = KlineCache(tmp_path / "cache", max_entries=2)
    files = [write_gz(tmp_path / "data" / f"BTCUSDT-{k}.csv.gz", kline_lines([k]))
             for k in range(3)]

    for path in files:
        kline_arrays(path, cache=cache)

    remaining = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert remaining == sorted(cache.entry_path(p).name for p in files[1:])


def test_unsorted_file_with_duplicates_is_sorted_and_deduplicated(tmp_path: Path,
                                                                  cache: KlineCache) -> None:
    path = tmp_path / "data" / "ETHUSDT-1m.csv"
    path.parent.mkdir()
    path.write_text(kline_lines([3, 1, 2, 1, 0, 5]))  # minute 1 twice: the first is kept

    arrays = kline_arrays(path, cache=cache, start=datetime(2024, 3, 4, 14, 1, tzinfo=UTC),
                          end=datetime(2024, 3, 4, 14, 5, tzinfo=UTC))
    frame = read_klines(path, cache=cache)

    assert (arrays.open_s - T0).tolist() == [60, 120, 180]
    assert arrays.close.tolist() == [62001.5, 62002.0, 62001.0]  # lines 2, 3 and 1
    assert frame["open"].tolist() == [62000.0 + 0.5 * k for k in range(6)]  # file order


def test_a_file_spanning_the_microsecond_switch_reads_every_line(tmp_path: Path,
                                                                 cache: KlineCache) -> None:
    path = tmp_path / "data" / "SOLUSDT-1m.csv"
    path.parent.mkdir()
    path.write_text(kline_lines([0, 1]) + kline_lines([2, 3], micros=True))

    arrays = kline_arrays(path, cache=cache)

    assert (arrays.open_s - T0).tolist() == [0, 60, 120, 180]


def test_header_only_file_has_no_bars(tmp_path: Path, cache: KlineCache) -> None:
    path = write_gz(tmp_path / "data" / "BTCUSDT-empty.csv.gz", HEADER)

    assert len(kline_arrays(path, cache=cache)) == 0
    clear_memo()
    assert len(kline_arrays(path, cache=cache)) == 0  # from the entry


def test_default_cache_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_DIRECTORY, raising=False)
    unset = default_cache()
    monkeypatch.setenv(ENV_DIRECTORY, str(tmp_path / "elsewhere"))
    moved = default_cache()
    monkeypatch.setenv(ENV_DIRECTORY, "off")

    assert unset is not None and unset.directory == DEFAULT_DIRECTORY
    assert moved is not None and moved.directory == tmp_path / "elsewhere"
    assert default_cache() is None
    assert cache_at(" OFF ") is None and cache_at("") is None
