"""The committed calibration constants are what scripts/calibrate_market.py computes today."""
# ruff: noqa: F811 - the fixtures imported from market_testdata are used as test arguments

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from market_testdata import (
    data_dir,  # noqa: F401 - fixtures, used as arguments
    kline_file,
)

from oms.market.calibration import CALIBRATION, DEPTH, SPREADS

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "calibrate_market.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("calibrate_market", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["calibrate_market"] = module
    spec.loader.exec_module(module)
    return module


def test_kline_statistics_are_up_to_date(script: ModuleType, data_dir: Path) -> None:
    stats = script.kline_stats(kline_file(data_dir, "BTCUSDT"))

    assert stats == CALIBRATION["BTCUSDT"]


def test_depth_and_spread_are_up_to_date(script: ModuleType, data_dir: Path) -> None:
    base = data_dir / "l2_trades" / "ETHUSDT_20240808T2354_20240809T0005"
    depth = script.depth_curve(Path(f"{base}_depth_snapshot_1000.json"))
    spread = script.spread_stats(Path(f"{base}_bookTicker.csv.gz"))

    assert depth == DEPTH["ETHUSDT"]
    assert spread == SPREADS["ETHUSDT"]


def test_calibrated_figures_are_plausible() -> None:
    for symbol, cal in CALIBRATION.items():
        assert 0.0002 < cal["sigma_1m"] < 0.005, symbol
        assert len(cal["volume_profile"]) == len(cal["vol_profile"]) == 24
        assert sum(cal["volume_profile"]) / 24 == pytest.approx(1.0, abs=0.01)
    assert DEPTH["BTCUSDT"]["cum_usd"][DEPTH["BTCUSDT"]["knots_bps"].index(10.0)] > 2e6
