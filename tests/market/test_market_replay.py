"""Kline replay: the file's bars come back exactly, the path honours each bar, gaps are halts."""
# ruff: noqa: F811 - the fixtures imported from market_testdata are used as test arguments

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from market_testdata import data_dir, halt_day, kline_file  # noqa: F401 - fixtures, used as arguments

from oms.errors import MarketClosed
from oms.market.klines import KlineArrays, kline_arrays
from oms.market.replay import KlineReplayMarket

DAY = datetime(2024, 3, 4, tzinfo=UTC)


@pytest.fixture(scope="module")
def day_bars(data_dir: Path) -> dict[str, KlineArrays]:
    return {s: kline_arrays(kline_file(data_dir, s), start=DAY, end=DAY + timedelta(days=1))
            for s in ("BTCUSDT", "ETHUSDT")}


@pytest.fixture(scope="module")
def day_market(data_dir: Path) -> KlineReplayMarket:
    market = KlineReplayMarket(kline_file(data_dir, "BTCUSDT"), start=DAY,
                               end=DAY + timedelta(days=1), seed=3)
    market.advance_to(DAY + timedelta(days=1))
    return market


def test_replayed_day_bars_match_the_file(day_bars: dict[str, KlineArrays],
                                          day_market: KlineReplayMarket) -> None:
    expected = day_bars["BTCUSDT"]

    bars = day_market.bars("BTCUSDT", DAY, DAY + timedelta(days=1))

    assert len(bars) == 1440
    assert [b.open for b in bars] == expected.open.tolist()
    assert [b.high for b in bars] == expected.high.tolist()
    assert [b.low for b in bars] == expected.low.tolist()
    assert [b.close for b in bars] == expected.close.tolist()
    assert [b.volume for b in bars] == expected.volume.tolist()
    assert bars[0].open_time == DAY and bars[-1].open_time == DAY + timedelta(minutes=1439)


def test_sub_minute_path_passes_through_open_high_low_close(
        day_market: KlineReplayMarket) -> None:
    bars = day_market.bars("BTCUSDT", DAY + timedelta(hours=14),
                           DAY + timedelta(hours=14, minutes=20))
    for bar in bars:
        times = [bar.open_time + timedelta(seconds=s) for s in np.linspace(0, 59.999, 600)]
        path = np.array([day_market.path_mid("BTCUSDT", t) for t in times])

        assert path[0] == pytest.approx(bar.open)
        assert path[-1] == pytest.approx(bar.close, abs=bar.high - bar.low + 1e-9)
        assert path.max() <= bar.high + 1e-6 and path.min() >= bar.low - 1e-6
        assert path.max() == pytest.approx(bar.high, abs=(bar.high - bar.low) * 0.01 + 1e-6)
        assert path.min() == pytest.approx(bar.low, abs=(bar.high - bar.low) * 0.01 + 1e-6)


def test_volume_is_released_over_the_minute(day_market: KlineReplayMarket) -> None:
    bar = day_market.bars("BTCUSDT", DAY + timedelta(hours=14),
                          DAY + timedelta(hours=14, minutes=1))[0]
    start = bar.open_time

    halves = [float(day_market.traded_volume("BTCUSDT", start + timedelta(seconds=a),
                                             start + timedelta(seconds=b)))
              for a, b in ((0, 30), (30, 60))]
    day = float(day_market.traded_volume("BTCUSDT", DAY, DAY + timedelta(days=1)))

    assert 0 < halves[0] < bar.volume and 0 < halves[1] < bar.volume
    assert sum(halves) == pytest.approx(bar.volume, rel=1e-9)
    bars = day_market.bars("BTCUSDT", DAY, DAY + timedelta(days=1))
    assert day == pytest.approx(sum(b.volume for b in bars), rel=1e-9)
    vwap = day_market.vwap("BTCUSDT", DAY, DAY + timedelta(days=1))
    assert vwap is not None
    assert float(vwap) == pytest.approx(sum(b.quote_volume for b in bars) / day, rel=1e-9)


def test_quotes_straddle_the_path_on_the_tick_grid(day_bars: dict[str, KlineArrays]) -> None:
    market = KlineReplayMarket(day_bars["BTCUSDT"])
    for second in range(0, 3600, 37):
        market.advance_to(DAY + timedelta(seconds=second))
        quote = market.quote("BTCUSDT")
        path = market.path_mid("BTCUSDT", quoted=True)

        assert quote.bid < quote.ask
        assert float(quote.bid) <= path <= float(quote.ask)
        assert quote.bid % market.tick_decimal("BTCUSDT") == 0


def test_gap_is_a_closed_market(halt_day: Path) -> None:
    market = KlineReplayMarket(halt_day)
    halt = datetime(2023, 3, 24, 13, 0, tzinfo=UTC)

    market.advance_to(halt)
    assert not market.is_open("BTCUSDT")
    with pytest.raises(MarketClosed):
        market.quote("BTCUSDT")
    with pytest.raises(MarketClosed):
        market.book("BTCUSDT")
    market.advance_to(datetime(2023, 3, 24, 14, 0, 1, tzinfo=UTC))
    assert market.is_open("BTCUSDT")
    assert market.quote("BTCUSDT").bid > 0
    gap = market.traded_volume("BTCUSDT", datetime(2023, 3, 24, 12, 40, tzinfo=UTC),
                               datetime(2023, 3, 24, 14, 0, tzinfo=UTC))
    assert gap == 0


def test_same_seed_same_path_other_seed_other_path(day_bars: dict[str, KlineArrays]) -> None:
    times = [DAY + timedelta(seconds=s) for s in range(5, 3600, 61)]

    def path(seed: int) -> list[float]:
        market = KlineReplayMarket(day_bars["ETHUSDT"], seed=seed)
        return [market.path_mid("ETHUSDT", t) for t in times]

    assert path(11) == path(11)
    assert path(11) != path(12)


def test_a_minute_gets_the_same_path_whatever_slice_is_replayed(
        day_bars: dict[str, KlineArrays], data_dir: Path) -> None:
    minute = DAY + timedelta(hours=14, minutes=30)
    times = [minute + timedelta(seconds=s) for s in (1, 7, 19, 33, 48, 59)]
    day = KlineReplayMarket(day_bars["BTCUSDT"], seed=2)
    hour = KlineReplayMarket(kline_file(data_dir, "BTCUSDT"), seed=2,
                             start=DAY + timedelta(hours=14), end=DAY + timedelta(hours=15))

    assert [day.path_mid("BTCUSDT", t) for t in times] == [
        hour.path_mid("BTCUSDT", t) for t in times]
