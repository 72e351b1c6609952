"""Bounded market history: a market advanced over many days holds a bounded number of bars,
and a look-back within HISTORY_HORIZON answers exactly as a market that keeps everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from oms.clock import TestClock
from oms.market.base import HISTORY_HORIZON
from oms.market.binance_feed import BinanceMarketData
from oms.market.klines import KlineArrays
from oms.market.replay import KlineReplayMarket
from oms.market.simulated import SimulatedMarket
from oms.market.synthetic import SyntheticMarket
from oms.model.enums import Side

START = datetime(2024, 3, 4, tzinfo=UTC)
DAY_BARS = 1440
# past bars held: the horizon plus the day of slack before a trim, plus the bar covering the cutoff
PAST_LIMIT = int((HISTORY_HORIZON + timedelta(days=1)) / timedelta(minutes=1)) + 1


def _random_walk_klines(symbol: str, days: int, seed: int) -> KlineArrays:
    """``days`` of 1-minute bars from a seeded random walk (no data file needed)."""
    rng = np.random.default_rng(seed)
    n = days * DAY_BARS
    open_s = int(START.timestamp()) + 60 * np.arange(n, dtype=np.int64)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    spread = np.abs(rng.normal(0.0, 0.0005, n)) * close
    volume = rng.uniform(50.0, 150.0, n)
    return KlineArrays(symbol, open_s, open_, np.maximum(open_, close) + spread,
                       np.minimum(open_, close) - spread, close, volume, volume * close,
                       np.full(n, 100, dtype=np.int64), volume * 0.5)


def _answers(market: SimulatedMarket, symbol: str) -> dict[str, Any]:
    """Every look-back the OMS makes, all within the horizon, plus the current prices."""
    now = market.now
    since = now - HISTORY_HORIZON + timedelta(minutes=5)
    past = (now - timedelta(hours=30)).timestamp()
    return {
        "day_bars": market.bars(symbol, now - timedelta(days=1), now),
        "hour_bars": market.bars(symbol, now - timedelta(minutes=60), now),
        "volume": market.traded_volume(symbol, since, now),
        "volume_inside": market.traded_volume(symbol, now - timedelta(hours=40, seconds=17),
                                              now - timedelta(hours=3, seconds=41)),
        "vwap": market.vwap(symbol, since, now),
        "quote": market.quote(symbol),
        "book": market.book(symbol, 5),
        "past_top": _top_fields(market.top(symbol, past)),
        "through": market.volume_through(symbol, Side.BUY, market.top(symbol).bid, past,
                                         past + 3600.0),
    }


def _top_fields(top: Any) -> tuple[float, float, float, float]:
    return (top.ts, top.bid, top.ask, top.scale)


def _advance_both(bounded: SimulatedMarket, reference: SimulatedMarket, until: datetime,
                  step: timedelta, symbol: str) -> int:
    """Advance both markets in the same steps (trading on both the same way); the most bars
    the bounded one held at any step."""
    most = 0
    t = bounded.now
    k = 0
    while t < until:
        t += step
        k += 1
        for market in (bounded, reference):
            market.advance_to(t)
            if k % 7 == 0:
                market.record_own_trade(symbol, Side.BUY if k % 2 else Side.SELL, 0.5)
        most = max(most, max(bounded.retained_bars().values()))
    return most


def test_synthetic_market_history_is_bounded_over_a_month() -> None:
    market = SyntheticMarket(["BTCUSDT", "ETHUSDT"], START, seed=3)
    held: list[int] = []
    oldest_age: list[timedelta] = []

    for hour in range(1, 30 * 24 + 1):
        market.advance_to(START + timedelta(hours=hour))
        held.append(max(market.retained_bars().values()))
        if hour % 5 == 0 and hour > 48:  # the oldest bar held (the horizon is two days)
            now = market.now
            oldest = market.bars("ETHUSDT", START, now - HISTORY_HORIZON + timedelta(minutes=1))
            oldest_age.append(now - oldest[0].open_time)

    # past within the horizon plus slack, and at most the one day generated ahead
    assert max(held) <= PAST_LIMIT + DAY_BARS
    assert max(held[-10 * 24:]) <= max(held[:10 * 24])  # a sawtooth, no growth with time
    assert min(oldest_age) >= HISTORY_HORIZON  # once the horizon has passed, it is all there
    assert max(oldest_age) <= HISTORY_HORIZON + timedelta(days=1, minutes=1)


def test_synthetic_lookback_within_the_horizon_answers_as_before() -> None:
    bounded = SyntheticMarket(["BTCUSDT"], START, seed=5)
    reference = SyntheticMarket(["BTCUSDT"], START, seed=5, history=None)

    most = _advance_both(bounded, reference, START + timedelta(days=7, minutes=13),
                         timedelta(minutes=17), "BTCUSDT")

    assert most <= PAST_LIMIT + DAY_BARS
    assert reference.retained_bars()["BTCUSDT"] > 7 * DAY_BARS  # the reference kept it all
    assert _answers(bounded, "BTCUSDT") == _answers(reference, "BTCUSDT")


def test_a_long_jump_never_holds_more_than_the_horizon() -> None:
    market = SyntheticMarket(["SOLUSDT"], START, seed=2)

    market.advance_to(START + timedelta(days=20))

    assert market.retained_bars()["SOLUSDT"] <= PAST_LIMIT + DAY_BARS
    assert len(market.bars("SOLUSDT", market.now - timedelta(days=1), market.now)) == DAY_BARS


def test_a_clock_behind_the_market_after_a_trim_does_not_reanchor_it() -> None:
    market = SyntheticMarket(["ETHUSDT"], START, seed=4)
    market.advance_to(START + timedelta(days=5))
    quote = market.quote("ETHUSDT")

    market.advance_to(START + timedelta(days=1))  # older than the bars held, newer than the start

    assert market.now == START + timedelta(days=5)
    assert market.quote("ETHUSDT") == quote


def test_replay_market_drops_its_past_and_answers_as_before() -> None:
    klines = _random_walk_klines("BTCUSDT", days=12, seed=9)
    bounded = KlineReplayMarket(klines)
    reference = KlineReplayMarket(klines, history=None)
    end = START + timedelta(days=10, hours=5)

    _advance_both(bounded, reference, end, timedelta(minutes=29), "BTCUSDT")

    ahead = int(np.count_nonzero(klines.open_s >= end.timestamp()))
    assert bounded.retained_bars()["BTCUSDT"] - ahead <= PAST_LIMIT
    assert reference.retained_bars()["BTCUSDT"] == len(klines)
    assert _answers(bounded, "BTCUSDT") == _answers(reference, "BTCUSDT")


def test_a_lookback_past_the_horizon_is_answered_from_what_is_held() -> None:
    klines = _random_walk_klines("ETHUSDT", days=8, seed=1)
    market = KlineReplayMarket(klines)
    now = START + timedelta(days=7)
    market.advance_to(now)

    bars = market.bars("ETHUSDT", START, now)
    first = bars[0].open_time

    assert now - first >= HISTORY_HORIZON
    assert market.traded_volume("ETHUSDT", START, now) == market.traded_volume(
        "ETHUSDT", first, now)


def test_replay_started_late_holds_no_more_than_the_horizon_of_its_past() -> None:
    klines = _random_walk_klines("SOLUSDT", days=10, seed=4)
    start = START + timedelta(days=9)

    market = KlineReplayMarket(klines, start=start)

    ahead = int(np.count_nonzero(klines.open_s >= start.timestamp()))
    assert market.retained_bars()["SOLUSDT"] - ahead <= PAST_LIMIT
    assert len(market.bars("SOLUSDT", start - timedelta(days=1), start)) == DAY_BARS


class _QuietClient:
    """A python-binance client stand-in: a fixed book ticker, klines counted (none served)."""

    def __init__(self) -> None:
        self.kline_calls = 0

    def get_orderbook_ticker(self, symbol: str) -> dict[str, str]:
        return {"symbol": symbol, "bidPrice": "100.00", "askPrice": "100.01", "bidQty": "1",
                "askQty": "1"}

    def get_klines(self, **_params: Any) -> list[Any]:
        self.kline_calls += 1
        return []


def _kline_message(open_time: datetime) -> dict[str, Any]:
    ms = int(open_time.timestamp() * 1000)
    return {"e": "kline", "s": "BTCUSDT", "k": {
        "t": ms, "T": ms + 59_999, "o": "100", "h": "101", "l": "99", "c": "100.5",
        "v": "3", "q": "300", "n": 7, "x": True}}


def test_binance_feed_keeps_bars_for_the_horizon_only() -> None:
    clock = TestClock(START)
    client = _QuietClient()
    feed = BinanceMarketData(client, ["BTCUSDT"], clock=clock)
    held: list[int] = []

    for _ in range(6 * DAY_BARS):
        clock.advance(timedelta(minutes=1))
        feed.on_message({"data": _kline_message(clock.now() - timedelta(minutes=1))})
        feed.advance_to(clock.now())
        held.append(feed.retained_bars()["BTCUSDT"])
    bars = feed.bars("BTCUSDT", clock.now() - timedelta(days=1), clock.now())

    assert max(held) <= PAST_LIMIT
    assert len(bars) == DAY_BARS and client.kline_calls == 0  # served from the bars held
    assert bars[-1].close == pytest.approx(100.5) and bars[-1].volume == 3.0
    assert feed.traded_volume("BTCUSDT", clock.now() - timedelta(hours=1),
                              clock.now()) == Decimal("180")
