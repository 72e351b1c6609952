"""Interval VWAP/TWAP from real Binance 1-minute klines, checked by an independent computation."""

from __future__ import annotations

import csv
import gzip
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tca_builders import T0, session_of, worked_parent

from oms.market.types import Bar
from oms.model.enums import Side
from oms.tca import MarketWindow, build_execution_report, interval_twap, interval_vwap


def _shared_data() -> Path:
    env = os.environ.get("OMS_SHARED_DATA")
    candidates = [Path(env)] if env else []
    for parent in Path(__file__).resolve().parents:
        candidates.append(parent / "shared" / "data" / "binance")
        candidates.append(parent.parent / "shared" / "data" / "binance")
    for candidate in candidates:
        if (candidate / "klines_1m").is_dir():
            return candidate
    pytest.skip("shared Binance data not found (set OMS_SHARED_DATA)")


def _kline_rows(symbol: str, start: datetime, minutes: int) -> list[dict[str, str]]:
    """Raw CSV rows with start <= open_time < start + minutes (files are in time order)."""
    path = next((_shared_data() / "klines_1m").glob(f"{symbol}-1m-*.csv.gz"))
    lo = int(start.timestamp() * 1000)
    hi = lo + minutes * 60_000
    rows = []
    with gzip.open(path, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            open_ms = int(row["open_time"])
            if open_ms >= hi:
                break
            if open_ms >= lo:
                rows.append(row)
    return rows


def _bar(symbol: str, row: dict[str, str]) -> Bar:
    return Bar(
        symbol=symbol,
        open_time=datetime.fromtimestamp(int(row["open_time"]) / 1000, tz=UTC),
        open=float(row["open"]),
        high=float(row["high"]),
        low=float(row["low"]),
        close=float(row["close"]),
        volume=float(row["volume"]),
        quote_volume=float(row["quote_volume"]),
        trades=int(row["count"]),
    )


WINDOWS = [
    ("BTCUSDT", datetime(2024, 1, 3, 14, 0, tzinfo=UTC), 30),
    ("ETHUSDT", datetime(2024, 1, 9, 21, 0, tzinfo=UTC), 45),
]


@pytest.mark.parametrize(("symbol", "start", "minutes"), WINDOWS)
def test_interval_vwap_equals_quote_volume_over_volume(
    symbol: str, start: datetime, minutes: int
) -> None:
    # Arrange: raw rows, summed exactly from their decimal strings
    rows = _kline_rows(symbol, start, minutes)
    assert len(rows) == minutes
    expected = sum(Decimal(r["quote_volume"]) for r in rows) / sum(
        Decimal(r["volume"]) for r in rows
    )
    bars = [_bar(symbol, r) for r in rows]
    # Act
    vwap = interval_vwap(bars)
    # Assert
    assert vwap == pytest.approx(float(expected), rel=1e-12)
    low, high = min(b.low for b in bars), max(b.high for b in bars)
    assert low <= vwap <= high


def test_backtest_style_report_uses_the_window_vwap() -> None:
    # Arrange: a parent executed over 2024-01-03 14:00-14:30 on BTCUSDT, benchmarks from the bars
    symbol, start, minutes = WINDOWS[0]
    rows = _kline_rows(symbol, start, minutes)
    bars = [_bar(symbol, r) for r in rows]
    expected_vwap = float(
        sum(Decimal(r["quote_volume"]) for r in rows) / sum(Decimal(r["volume"]) for r in rows)
    )
    expected_twap = sum(
        (float(r["open"]) + float(r["high"]) + float(r["low"]) + float(r["close"])) / 4
        for r in rows
    ) / len(rows)
    window = MarketWindow.from_bars(bars)
    parent = replace(
        worked_parent(Side.BUY),
        market_vwap=window.vwap,
        market_twap=window.twap,
        market_volume=window.volume,
        start=start,
        end=start + timedelta(minutes=minutes),
    )
    # Act
    report = build_execution_report(session_of(parent), T0)
    # Assert
    out = report["parents"][0]
    assert out["interval_vwap"] == pytest.approx(expected_vwap, rel=1e-12)
    assert out["interval_twap"] == pytest.approx(expected_twap, rel=1e-12)
    assert out["market_volume"] == pytest.approx(sum(float(r["volume"]) for r in rows))
    assert out["slippage_bps"]["vwap"] == pytest.approx(
        (100.2625 - expected_vwap) / expected_vwap * 1e4
    )


def test_twap_is_the_mean_of_ohlc4_and_empty_windows_are_none() -> None:
    # Arrange
    bars = [
        Bar("X", T0, 10.0, 14.0, 8.0, 12.0, 1.0, 11.0),
        Bar("X", T0 + timedelta(minutes=1), 12.0, 13.0, 11.0, 12.0, 0.0, 0.0),
    ]
    # Act / Assert
    assert interval_twap(bars) == pytest.approx((11.0 + 12.0) / 2)
    assert interval_vwap(bars) == pytest.approx(11.0)
    assert interval_vwap(bars[1:]) is None  # nothing traded
    assert interval_vwap([]) is None and interval_twap([]) is None
    assert MarketWindow.from_bars([]).volume == 0.0


class _FakeMarket:
    """Just the MarketData calls MarketWindow.from_market makes, recording their windows."""

    def __init__(self, bars: list[Bar], vwap: Decimal | None) -> None:
        self._bars = bars
        self._vwap = vwap
        self.calls: list[tuple[str, datetime, datetime]] = []

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        self.calls.append(("bars", start, end))
        return [b for b in self._bars if start <= b.open_time < end]

    def vwap(self, symbol: str, start: datetime, end: datetime) -> Decimal | None:
        self.calls.append(("vwap", start, end))
        return self._vwap

    def traded_volume(self, symbol: str, start: datetime, end: datetime) -> Decimal:
        self.calls.append(("volume", start, end))
        return Decimal("12.5")


def test_market_window_from_market_data() -> None:
    # Arrange: bars at 10:00 and 10:01; the parent ran 10:00:30 - 10:02:00
    bars = [
        Bar("X", T0, 10.0, 14.0, 8.0, 12.0, 1.0, 11.0),
        Bar("X", T0 + timedelta(minutes=1), 12.0, 13.0, 11.0, 12.0, 3.0, 36.0),
    ]
    start, end = T0 + timedelta(seconds=30), T0 + timedelta(minutes=2)
    with_vwap = _FakeMarket(bars, Decimal("11.9"))
    without_vwap = _FakeMarket(bars, None)
    # Act
    window = MarketWindow.from_market(with_vwap, "X", start, end)  # type: ignore[arg-type]
    fallback = MarketWindow.from_market(without_vwap, "X", start, end)  # type: ignore[arg-type]
    # Assert
    assert window.vwap == Decimal("11.9") and window.volume == Decimal("12.5")
    assert window.twap == pytest.approx((11.0 + 12.0) / 2)
    assert ("bars", T0, end) in with_vwap.calls and ("vwap", start, end) in with_vwap.calls
    assert fallback.vwap == pytest.approx((11.0 + 36.0) / 4.0)
