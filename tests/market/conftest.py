"""Session-wide real-data fixtures for the market simulator tests (read once, skipped if absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from market_testdata import CAL_END, CAL_START, SYMBOLS, kline_file, market_data_dir

from oms.market.klines import KlineArrays, kline_arrays


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
