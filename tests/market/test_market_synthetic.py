"""Synthetic market vs the real January-April 2024 statistics, with stated tolerances.

Tolerances: 1-minute return volatility within 25% of the real figure; mean volume per minute
within 30%; hour-of-day volume profile correlated above 0.85 with the real one; median quoted
spread equal (in ticks) to the median bookTicker spread, 90th percentile within one tick.
"""
# ruff: noqa: F811 - the fixtures imported from market_testdata are used as test arguments

from __future__ import annotations

import gzip
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from market_testdata import SYMBOLS, calibration_klines, data_dir  # noqa: F401 - fixtures, used as arguments

from oms.market.klines import KlineArrays
from oms.market.synthetic import SyntheticMarket
from oms.market.types import Bar

START = datetime(2024, 5, 1, tzinfo=UTC)
DAYS = 20


@pytest.fixture(scope="module")
def synthetic_bars() -> dict[str, list[Bar]]:
    market = SyntheticMarket(list(SYMBOLS), START, seed=11, history=None)  # keep all DAYS
    market.advance_to(START + timedelta(days=DAYS))
    return {s: market.bars(s, START, START + timedelta(days=DAYS)) for s in SYMBOLS}


def _hourly_profile(hours: np.ndarray, volume: np.ndarray) -> np.ndarray:
    profile = np.array([volume[hours == h].mean() for h in range(24)])
    return np.asarray(profile / profile.mean(), dtype=np.float64)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_volatility_volume_and_profile_match_real(
        symbol: str, synthetic_bars: dict[str, list[Bar]],
        calibration_klines: dict[str, KlineArrays]) -> None:
    real = calibration_klines[symbol]
    bars = synthetic_bars[symbol]
    closes = np.array([b.close for b in bars])
    volume = np.array([b.volume for b in bars])
    hours = np.array([b.open_time.hour for b in bars])

    real_sigma = float(np.std(np.diff(np.log(real.close))))
    sim_sigma = float(np.std(np.diff(np.log(closes))))
    real_profile = _hourly_profile((real.open_s // 3600) % 24, real.volume)
    sim_profile = _hourly_profile(hours, volume)

    assert sim_sigma == pytest.approx(real_sigma, rel=0.25)
    assert volume.mean() == pytest.approx(real.volume.mean(), rel=0.30)
    assert np.corrcoef(sim_profile, real_profile)[0, 1] > 0.85


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_spread_matches_book_ticker(symbol: str, data_dir: Path) -> None:
    path = data_dir / "l2_trades" / f"{symbol}_20240808T2354_20240809T0005_bookTicker.csv.gz"
    with gzip.open(path) as handle:
        ticker = pd.read_csv(handle)
    real_ticks = ((ticker["best_ask_price"] - ticker["best_bid_price"]) / 0.01).round()
    market = SyntheticMarket([symbol], START, seed=5)

    ticks = []
    for second in range(0, 6 * 3600, 7):
        market.advance_to(START + timedelta(seconds=second))
        quote = market.quote(symbol)
        ticks.append(float((quote.ask - quote.bid) / market.tick_decimal(symbol)))

    assert np.median(ticks) == real_ticks.median()
    assert abs(np.quantile(ticks, 0.9) - real_ticks.quantile(0.9)) <= 1


def test_bars_are_consistent_and_deterministic() -> None:
    one = SyntheticMarket(["BTCUSDT"], START, seed=4)
    two = SyntheticMarket(["BTCUSDT"], START, seed=4)
    other = SyntheticMarket(["BTCUSDT"], START, seed=5)
    end = START + timedelta(hours=3)
    for market in (one, two, other):
        market.advance_to(end)

    bars = one.bars("BTCUSDT", START, end)

    assert len(bars) == 180
    assert bars == two.bars("BTCUSDT", START, end)
    assert bars != other.bars("BTCUSDT", START, end)
    for previous, bar in itertools.pairwise(bars):
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.open == previous.close


def test_clock_before_start_reanchors_the_market() -> None:
    market = SyntheticMarket(["ETHUSDT"], datetime(2030, 1, 1, tzinfo=UTC), seed=4)
    reference = SyntheticMarket(["ETHUSDT"], START + timedelta(minutes=5), seed=4)

    market.advance_to(START + timedelta(minutes=5))

    assert market.now == START + timedelta(minutes=5)
    assert market.quote("ETHUSDT") == reference.quote("ETHUSDT")


def test_minute_of_hour_pattern_matches_real(synthetic_bars: dict[str, list[Bar]],
                                             calibration_klines: dict[str, KlineArrays]) -> None:
    real = calibration_klines["BTCUSDT"]
    bars = synthetic_bars["BTCUSDT"]
    volume = np.array([b.volume for b in bars])
    minutes = np.array([b.open_time.minute for b in bars])

    sim = np.array([volume[minutes == m].mean() for m in range(60)])
    real_minutes = (real.open_s // 60) % 60
    truth = np.array([real.volume[real_minutes == m].mean() for m in range(60)])

    assert np.corrcoef(sim, truth)[0, 1] > 0.5
    assert sim[0] > np.median(sim)  # the top of the hour is busier than a typical minute


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_bar_ranges_and_volatility_clustering_look_real(
        symbol: str, synthetic_bars: dict[str, list[Bar]],
        calibration_klines: dict[str, KlineArrays]) -> None:
    real = calibration_klines[symbol]
    bars = synthetic_bars[symbol]
    sim_range = np.median([(b.high - b.low) / b.open * 1e4 for b in bars])
    real_range = np.median((real.high - real.low) / real.open * 1e4)
    moves = np.abs(np.diff(np.log([b.close for b in bars])))

    clustering = np.corrcoef(moves[:-1], moves[1:])[0, 1]

    assert sim_range == pytest.approx(real_range, rel=0.25)
    assert clustering > 0.1  # real: ~0.35-0.38 for the three symbols
