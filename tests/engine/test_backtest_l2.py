"""`oms backtest --book --depth --trades`: an L2 replay through the real engine and paper venue,
and every bad input named by its option."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from oms.backtest import L2BacktestSpec, run_l2_backtest
from oms.cli import main
from oms.errors import ValidationError

STEM = "l2_trades/{symbol}_20240808T2354_20240809T0005"


def files(binance_data: Path, symbol: str = "BTCUSDT") -> dict[str, Path]:
    stem = binance_data / STEM.format(symbol=symbol)
    return {"book": Path(f"{stem}_depth_snapshot_1000.json"),
            "depth": Path(f"{stem}_depth_updates.csv.gz"),
            "trades": Path(f"{stem}_trades.csv.gz")}


def args_of(paths: dict[str, Path]) -> list[str]:
    return [arg for name, path in paths.items() for arg in (f"--{name}", str(path))]


def test_l2_backtest_cli_reports_fills_that_sum_to_the_parent(
        binance_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"

    code = main(["backtest", *args_of(files(binance_data)), "--side", "buy", "--quantity", "1.5",
                 "--algo", "twap", "--duration-minutes", "4", "--json", str(out)])

    assert code == 0
    report = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out)["session_id"] == report["session_id"]
    parent = report["parents"][0]
    assert report["backtest"]["mode"] == "l2_replay"
    assert report["backtest"]["start"] == "2024-08-08T23:54:15.408000+00:00"  # book known
    assert parent["filled_quantity"] == pytest.approx(1.5)
    assert len(parent["fills"]) == parent["fill_count"] > 1
    assert sum(Decimal(str(f["quantity"])) for f in parent["fills"]) == Decimal("1.5")
    # the recording traded between 61,600 and 61,900
    assert 61_500 < parent["avg_fill_price"] < 62_000


def test_l2_backtest_fills_sum_to_the_parent_in_the_database(binance_data: Path) -> None:
    from oms.execution_harness import ExecutionHarness
    from oms.market.l2_files import load_l2
    from oms.market.l2_replay import L2ReplayMarket
    from oms.model import AlgoName, Side

    paths = files(binance_data)
    market = L2ReplayMarket({"BTCUSDT": load_l2(**paths)})
    with ExecutionHarness(market, start=market.synced_at, symbols=["BTCUSDT"],
                          holdings={"BTCUSDT": Decimal("0.8")}) as harness:
        submitted = harness.submit("BTCUSDT", Side.SELL, Decimal("0.8"), AlgoName.TWAP, 3)
        harness.run(submitted.session_id, until=market.ends_at)
        result = harness.result(submitted.session_id)

    assert result.parent.filled_quantity == Decimal("0.8")
    assert sum(f.quantity for f in result.fills) == result.parent.filled_quantity


def spec(binance_data: Path, **overrides: object) -> L2BacktestSpec:
    values: dict[str, object] = {**files(binance_data), "symbol": None, "side": "buy",
                                 "quantity": "0.1", "algo": "twap", "start": None,
                                 "duration_minutes": 2.0}
    values.update(overrides)
    return L2BacktestSpec.parse(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"start": "2024-08-08T23:50:00Z"}, "start"),  # before the book can be built
    ({"start": "2024-08-09T00:10:00Z"}, "start"),  # after the recording
    ({"start": "2024-08-09T00:03:00Z", "duration_minutes": 5.0}, "duration_minutes"),
    ({"symbol": "ETHUSDT"}, "symbol"),
])
def test_a_window_or_symbol_outside_the_recording_is_named(
        binance_data: Path, overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        run_l2_backtest(spec(binance_data, **overrides))

    assert [e.field for e in err.value.errors] == [field]


def test_files_of_different_symbols_are_named(binance_data: Path) -> None:
    mixed = {**files(binance_data), "depth": files(binance_data, "ETHUSDT")["depth"]}

    with pytest.raises(ValidationError) as err:
        run_l2_backtest(spec(binance_data, **mixed))

    assert [e.field for e in err.value.errors] == ["depth"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--book", "b.json"], "--depth, --trades missing"),
    (["--book", "b.json", "--depth", "d.csv.gz", "--trades", "t.csv.gz", "--data", "k.csv"],
     "--data (klines) excludes"),
])
def test_l2_options_go_together_and_exclude_data(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", *argv])

    assert code == 2
    assert message in capsys.readouterr().err


def test_a_missing_file_is_named_by_the_cli(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "--book", str(tmp_path / "BTCUSDT_b.json"),
                 "--depth", str(tmp_path / "BTCUSDT_d.csv.gz"),
                 "--trades", str(tmp_path / "BTCUSDT_t.csv.gz")])

    assert code == 2
    err = capsys.readouterr().err
    assert "book: file" in err and "depth: file" in err and "trades: file" in err
