"""Helpers and fixtures of the market simulator tests (imported by name: no conftest collisions).

Real data is read once per session and the tests skip when it is absent.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oms.market.klines import KlineArrays, kline_arrays

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


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real Binance data directory (skips when absent)."""
    path = market_data_dir()
    if path is None:
        pytest.skip("../shared/data/binance is not available")
    return path


@pytest.fixture(scope="session")
def calibration_klines(data_dir: Path) -> dict[str, KlineArrays]:
    """Jan-Apr 2024 bars of the three symbols (read once per session)."""
    return {s: kline_arrays(kline_file(data_dir, s), start=CAL_START, end=CAL_END)
            for s in SYMBOLS}


@pytest.fixture(scope="session")
def halt_day(data_dir: Path) -> Path:
    """BTCUSDT 2023-03-24: the daily zip with the 80-minute exchange halt."""
    return data_dir / "klines_1m" / "edge_cases" / "BTCUSDT-1m-2023-03-24.zip"
