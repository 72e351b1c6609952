"""Helpers for the market simulator tests: where the real data is, which files to read."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

CAL_START = datetime(2024, 1, 1, tzinfo=UTC)
CAL_END = datetime(2024, 5, 1, tzinfo=UTC)
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


def market_data_dir() -> Path | None:
    """$OMS_SHARED_DATA, else <repo>/../shared/data/binance, if present."""
    env = os.environ.get("OMS_SHARED_DATA")
    candidates = [Path(env)] if env else []
    root = Path(__file__).resolve().parents[2]
    candidates.append(root.parent / "shared" / "data" / "binance")
    return next((c for c in candidates if c.is_dir()), None)


def kline_file(base: Path, symbol: str) -> Path:
    """The Jan-Jun 2024 kline file of ``symbol``."""
    return base / "klines_1m" / f"{symbol}-1m-2024-01-01_2024-06-25.csv.gz"
