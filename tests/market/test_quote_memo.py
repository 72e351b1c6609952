"""A market reuses the Decimals of its last quote while the touch floats stand still: every
quote must equal the one a fresh market computes at that instant, through touch changes, our
own trades (impact) and a shock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from oms.market.klines import KlineArrays
from oms.market.replay import KlineReplayMarket
from oms.market.types import Quote
from oms.model import Side

START = datetime(2024, 5, 1, 12, tzinfo=UTC)
BARS = 8


def _bars() -> KlineArrays:
    rng = np.random.default_rng(5)
    close = 60_000.0 * np.exp(np.cumsum(rng.normal(0.0, 8e-4, BARS)))
    open_ = np.concatenate(([60_000.0], close[:-1]))
    spread = np.abs(rng.normal(0.0, 4e-4, BARS)) * close + 5.0
    volume = rng.uniform(10.0, 60.0, BARS)
    t0 = int(START.timestamp())
    return KlineArrays("BTCUSDT", t0 + 60 * np.arange(BARS, dtype=np.int64), open_,
                       np.maximum(open_, close) + spread, np.minimum(open_, close) - spread,
                       close, volume, volume * close, np.full(BARS, 1000, dtype=np.int64),
                       volume * 0.5)


def _flow(market: KlineReplayMarket, at: datetime) -> None:
    """The same own trades and shock, at the same instants, on any market."""
    trade_at, shock_at = START + timedelta(minutes=2), START + timedelta(minutes=4)
    market.record_own_trade("BTCUSDT", Side.BUY, 3.0, trade_at)
    market.shock("BTCUSDT", -25.0, shock_at)
    market.advance_to(at)


def _fresh_quote(at: datetime) -> Quote:
    market = KlineReplayMarket(_bars(), start=START)
    _flow(market, at)
    return market.quote("BTCUSDT")


def test_every_quote_equals_a_fresh_markets_quote() -> None:
    # Arrange: one market stepped through the minutes (quoting at every step)
    market = KlineReplayMarket(_bars(), start=START)
    instants = [START + timedelta(seconds=0.75 * k) for k in range(1, 560)]
    market.record_own_trade("BTCUSDT", Side.BUY, 3.0, START + timedelta(minutes=2))
    market.shock("BTCUSDT", -25.0, START + timedelta(minutes=4))
    stepped: list[Quote] = []
    # Act
    for at in instants:
        market.advance_to(at)
        stepped.append(market.quote("BTCUSDT"))
    # Assert: equal to a market that never quoted before (every 7th instant: fresh markets
    # are slow to build), and the prices did change along the way
    for k in range(0, len(instants), 7):
        assert stepped[k] == _fresh_quote(instants[k]), instants[k]
    assert len({(q.bid, q.ask) for q in stepped}) > 10
