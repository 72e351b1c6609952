"""On-disk cache of parsed kline files: one ``.npz`` of numpy columns per source file.

Parsing half a year of 1-minute klines (gunzip, then the CSV) costs about 0.3 s and a pandas
import; reading the parsed columns back costs a few milliseconds. The cache lives under
``var/cache/klines/`` (``OMS_KLINE_CACHE_DIR`` or ``KlineCache(directory)`` move it; ``off``
disables it) and is always safe to delete.

Key. An entry is named after the source's resolved path (plus the format version) and holds the
source's size, mtime_ns and SHA-256 next to the columns. A lookup whose (size, mtime_ns) match
costs one ``stat`` and no read of the source. When they do not match (the file was touched,
copied over or rewritten) the source's content is hashed and compared with the stored hash:
the same content is served (and the entry's stat key refreshed), other content is parsed again
and the entry rewritten. Why not hash on every load: SHA-256 of a 12 MB file costs 10-30 ms,
as much as all the rest of loading a cached file, and every backtest would pay it. What that
gives up: a file rewritten with the same size and the same mtime to the nanosecond is served
from the old entry (tools do not do that by accident; delete the directory to be sure).

Robustness. Entries are written to a temporary file in the cache directory and moved into place
with ``os.replace``, so a reader sees a whole entry or none. An entry that cannot be read
(truncated, not a zip, missing or misshapen columns, another format version) is ignored and
rewritten. A cache that cannot be written (read-only, disk full) logs a warning; the parse is
returned all the same. The directory keeps the ``max_entries`` most recently used entries. A
cache directory inside the source file's directory is never written (data directories are
inputs, often shared and read-only): the cache is bypassed with a warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import mmap
import os
import re
import struct
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "COLUMNS",
    "DEFAULT_DIRECTORY",
    "ENV_DIRECTORY",
    "FORMAT_VERSION",
    "Columns",
    "KlineCache",
    "SourceKey",
    "cache_at",
    "default_cache",
]

log = logging.getLogger(__name__)

#: bump when the parse changes what it stores (old entries are then ignored and rewritten)
FORMAT_VERSION = 1
DEFAULT_DIRECTORY = Path("var/cache/klines")  # relative to the working directory, as var/oms.db
ENV_DIRECTORY = "OMS_KLINE_CACHE_DIR"
_DISABLED = ("", "off", "none", "0")

#: the stored columns (file order, one value per data line) and their dtypes
COLUMNS: Mapping[str, type[np.generic]] = {
    "open_s": np.int64, "open": np.float64, "high": np.float64, "low": np.float64,
    "close": np.float64, "volume": np.float64, "quote_volume": np.float64,
    "trades": np.int64, "taker_buy_volume": np.float64,
}
_META = "meta"

Columns = dict[str, npt.NDArray[Any]]
#: parses a source file's raw bytes (as stored on disk, compressed or not) into COLUMNS
Parser = Callable[[bytes], Columns]

# what reading a damaged or foreign entry may raise (numpy's npy reader, zipfile, json, ours)
_UNREADABLE = (OSError, ValueError, KeyError, EOFError, TypeError, struct.error,
               zipfile.BadZipFile)


@dataclass(frozen=True, slots=True)
class SourceKey:
    """What identifies a source file without reading it: resolved path, size, mtime_ns."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> SourceKey:
        """The key of ``path`` now (one ``stat``)."""
        resolved = path.resolve()
        stat = resolved.stat()
        return cls(str(resolved), stat.st_size, stat.st_mtime_ns)


class KlineCache:
    """Parsed kline columns cached as ``.npz`` files in ``directory`` (see the module doc)."""

    def __init__(self, directory: str | Path, *, max_entries: int = 32) -> None:
        """``max_entries``: entries kept (the least recently used go first, ~18 MB each for
        half a year of bars)."""
        self.directory = Path(directory)
        self.max_entries = max(1, max_entries)

    def __repr__(self) -> str:
        return f"KlineCache({str(self.directory)!r})"

    def entry_path(self, source: Path) -> Path:
        """Where the entry of ``source`` lives (named after its resolved path and the format)."""
        resolved = source.resolve()
        digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", resolved.name)[:80]
        return self.directory / f"{stem}-{digest}.v{FORMAT_VERSION}.npz"

    def load(self, source: Path, parse: Parser) -> Columns:
        """The columns of ``source``: from its entry when valid, else ``parse`` of its bytes
        (the entry is then written)."""
        key = SourceKey.of(source)
        if self._inside_source_directory(Path(key.path)):
            log.warning("kline cache %s is inside the data directory of %s: not used",
                        self.directory, key.path)
            return parse(Path(key.path).read_bytes())
        entry = self.entry_path(source)
        stored = _read_entry(entry)
        if stored is not None and stored.key == key:
            _touch(entry)
            return stored.columns
        raw = Path(key.path).read_bytes()
        content = hashlib.sha256(raw).hexdigest()
        touched = stored is not None and stored.sha256 == content  # not changed
        columns = stored.columns if stored is not None and touched else parse(raw)
        if SourceKey.of(source) == key:  # not rewritten while we read it
            self._write(entry, key, content, columns)
        return columns

    def _inside_source_directory(self, source: Path) -> bool:
        return self.directory.resolve().is_relative_to(source.parent)

    def _write(self, entry: Path, key: SourceKey, content: str, columns: Columns) -> None:
        meta = json.dumps({"format": FORMAT_VERSION, "path": key.path, "size": key.size,
                           "mtime_ns": key.mtime_ns, "sha256": content})
        temp: str | None = None
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=f".{entry.name}.", suffix=".tmp",
                                            dir=entry.parent)
            with os.fdopen(handle, "wb") as out:
                arrays: dict[str, Any] = {_META: np.array(meta), **columns}
                np.savez(out, allow_pickle=False, **arrays)
            os.chmod(temp, 0o644)  # mkstemp makes it private; a cache may be shared
            os.replace(temp, entry)
            temp = None
            self._prune(keep=entry)
        except OSError as exc:
            log.warning("kline cache entry %s not written: %s", entry, exc)
        finally:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)

    def _prune(self, *, keep: Path) -> None:
        """Delete the least recently used entries beyond ``max_entries``."""
        entries: list[tuple[int, Path]] = []
        for path in self.directory.glob("*-*.v*.npz"):  # every format version
            try:
                entries.append((path.stat().st_mtime_ns, path))
            except FileNotFoundError:  # pruned by another process
                continue
        entries.sort(reverse=True)
        for _, path in entries[self.max_entries:]:
            if path != keep:
                path.unlink(missing_ok=True)


def _touch(entry: Path) -> None:
    """Mark ``entry`` used (its mtime orders the pruning)."""
    with contextlib.suppress(OSError):  # a read-only cache still serves its entries
        os.utime(entry)


@dataclass(frozen=True, slots=True)
class _Entry:
    key: SourceKey
    sha256: str
    columns: Columns


def _read_entry(entry: Path) -> _Entry | None:
    """The entry at ``entry``, or None when it is absent, damaged or of another format.

    The columns are memory-mapped, not read: a backtest touches the pages of its window and of
    the binary search only (reading and CRC-checking 18 MB would cost 10-30 ms). Truncation is
    caught by the zip directory and the member bounds; the meta is read and checked in full.
    """
    if not entry.is_file():
        return None
    try:
        with entry.open("rb") as handle:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            with zipfile.ZipFile(handle) as archive:
                meta = json.loads(str(np.lib.format.read_array(
                    io.BytesIO(archive.read(f"{_META}.npy")), allow_pickle=False)[()]))
                if meta.get("format") != FORMAT_VERSION:
                    raise ValueError(f"format {meta.get('format')!r}")
                key = SourceKey(str(meta["path"]), int(meta["size"]), int(meta["mtime_ns"]))
                columns: Columns = {name: _mapped_column(view, archive.getinfo(f"{name}.npy"),
                                                         np.dtype(dtype))
                                    for name, dtype in COLUMNS.items()}
        if len({array.size for array in columns.values()}) != 1:
            raise ValueError("columns of different lengths")
        return _Entry(key, str(meta["sha256"]), columns)
    except _UNREADABLE as exc:
        log.warning("kline cache entry %s ignored (%s: %s); it will be rewritten",
                    entry, type(exc).__name__, exc)
        return None


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra length


def _mapped_column(view: mmap.mmap, info: zipfile.ZipInfo,
                   dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """The 1-d ``dtype`` array stored (uncompressed, as np.savez stores) in member ``info``."""
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"{info.filename} is compressed")
    signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(view, info.header_offset)
    if signature != b"PK\x03\x04":
        raise ValueError(f"{info.filename}: no local file header")
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    member = io.BytesIO(view[start:start + min(info.file_size, 4096)])  # the .npy header
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _fortran, stored = np.lib.format.read_array_header_1_0(member)
    else:
        shape, _fortran, stored = np.lib.format.read_array_header_2_0(member)
    if len(shape) != 1 or stored != dtype:
        raise ValueError(f"{info.filename} holds {stored} of shape {shape}, not 1-d {dtype}")
    if member.tell() + shape[0] * dtype.itemsize != info.file_size:
        raise ValueError(f"{info.filename}: {info.file_size} bytes for {shape[0]} values")
    return np.frombuffer(view, dtype=dtype, count=shape[0], offset=start + member.tell())


def cache_at(setting: str | Path) -> KlineCache | None:
    """The cache a setting names: a directory, or ``off`` (also empty, ``none``, ``0``): None."""
    if str(setting).strip().lower() in _DISABLED:
        return None
    return KlineCache(Path(setting).expanduser())


def default_cache() -> KlineCache | None:
    """The cache ``$OMS_KLINE_CACHE_DIR`` names (see ``cache_at``), else ``var/cache/klines``."""
    configured = os.environ.get(ENV_DIRECTORY)
    return KlineCache(DEFAULT_DIRECTORY) if configured is None else cache_at(configured)
