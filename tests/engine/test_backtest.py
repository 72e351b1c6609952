"""`oms backtest` on real klines: the report's interval VWAP is the file's, computed apart."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import math
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from oms.algos.shortfall import DEFAULT_SIGMA_1M, VOLATILITY_LOOKBACK, ShortfallAlgo
from oms.backtest import BacktestSpec, run_backtest
from oms.cli import main
from oms.errors import ValidationError
from oms.market.calibration import CALIBRATION

BTC_FILE = "klines_1m/BTCUSDT-1m-2024-01-01_2024-06-25.csv.gz"


def file_vwap(path: Path, start: datetime, end: datetime) -> Decimal:
    """sum(quote_volume) / sum(volume) of the bars opening in [floor(start), end)."""
    lo = int(start.replace(second=0, microsecond=0).timestamp() * 1000)
    hi = int(end.timestamp() * 1000)
    volume = quote = Decimal(0)
    with gzip.open(path, "rt") as fh:
        for row in csv.reader(fh):
            if not row[0].isdigit():
                continue
            t = int(row[0])
            if t >= hi:
                break
            if t >= lo:
                volume += Decimal(row[5])
                quote += Decimal(row[7])
    return quote / volume


def test_backtest_report_vwap_matches_the_file(binance_data: Path) -> None:
    spec = BacktestSpec.parse(data=binance_data / BTC_FILE, symbol="BTCUSDT", side="buy",
                              quantity="0.5", algo="twap", start="2024-03-04T14:00:00Z",
                              duration_minutes=30)
    report = run_backtest(spec)
    parent = report["parents"][0]
    start = datetime.fromisoformat(parent["start"])
    end = datetime.fromisoformat(parent["end"])
    expected = file_vwap(binance_data / BTC_FILE, start, end)
    assert parent["interval_vwap"] == pytest.approx(float(expected), rel=1e-9)
    assert parent["filled_quantity"] == pytest.approx(0.5)
    assert report["summary"]["fill_rate"] == pytest.approx(1.0)
    assert start >= datetime(2024, 3, 4, 14, tzinfo=UTC)


def test_backtest_cli_writes_json(binance_data: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    code = main(["backtest", "--data", str(binance_data / BTC_FILE), "--symbol", "BTCUSDT",
                 "--side", "sell", "--quantity", "0.2", "--algo", "market", "--start",
                 "2024-02-01T10:00:00Z", "--duration-minutes", "5", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["report_version"] == 1 and report["parents"][0]["side"] == "SELL"
    assert json.loads(capsys.readouterr().out)["session_id"] == report["session_id"]


def test_backtest_spec_names_bad_fields(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        BacktestSpec.parse(data=tmp_path / "missing.csv", symbol="BTCUSDT", side="up",
                           quantity="-1", algo="magic", start="yesterday", duration_minutes=0)
    fields = {e.field for e in err.value.errors}
    assert fields == {"data", "side", "quantity", "algo", "start", "duration_minutes"}


def test_replay_mode_trades_the_symbols_of_the_file(binance_data: Path, tmp_path: Path) -> None:
    from oms.bootstrap import build_oms
    from oms.config import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                        market_data=binance_data / "klines_1m/edge_cases/BTCUSDT-1m-2023-03-24.zip")
    oms = build_oms(settings)
    try:
        assert oms.engine.settings.symbols == ["BTCUSDT"]
        assert oms.clock.now().date().isoformat() == "2023-03-24"
    finally:
        oms.close()


def file_sigma_before(path: Path, start: datetime, lookback: timedelta) -> float:
    """Sample std of the 1-minute log returns of the closes in ``lookback`` before ``start``."""
    lo = int((start - lookback).timestamp() * 1000)
    hi = int(start.timestamp() * 1000)
    closes: list[float] = []
    with gzip.open(path, "rt") as fh:
        for row in csv.reader(fh):
            if row[0].isdigit() and lo <= int(row[0]) < hi:
                closes.append(float(row[4]))
            elif row[0].isdigit() and int(row[0]) >= hi:
                break
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    return statistics.stdev(returns)


def test_an_is_backtest_measures_the_files_volatility(binance_data: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[float, float, float]] = []
    measure = ShortfallAlgo.market_inputs

    def spy(self: ShortfallAlgo, ctx: object) -> tuple[float, float, float]:
        inputs = measure(self, ctx)  # type: ignore[arg-type]
        seen.append(inputs)
        return inputs

    monkeypatch.setattr(ShortfallAlgo, "market_inputs", spy)
    start = datetime(2024, 3, 4, 14, tzinfo=UTC)
    spec = BacktestSpec.parse(data=binance_data / BTC_FILE, symbol="BTCUSDT", side="buy",
                              quantity="1", algo="is", start=start, duration_minutes=30)

    run_backtest(spec)

    # the first call is the parent's pre-trade estimate, made at its creation on the calibrated
    # figures (as the preview's); the algorithm itself measures the file
    estimate, algorithm = seen[0], seen[1]
    assert estimate[1] == CALIBRATION["BTCUSDT"]["sigma_1m"]
    _, sigma_1m, _ = algorithm
    expected = file_sigma_before(binance_data / BTC_FILE, start, VOLATILITY_LOOKBACK)
    assert sigma_1m == pytest.approx(expected, rel=1e-9)
    # neither fallback: the calibrated figure nor the default for unknown symbols
    assert abs(sigma_1m - CALIBRATION["BTCUSDT"]["sigma_1m"]) > 1e-5
    assert abs(sigma_1m - DEFAULT_SIGMA_1M) > 1e-5
