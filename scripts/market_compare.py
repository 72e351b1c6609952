"""The simulator side of ``scripts/calibrate_market.py --compare`` (definitions: its docstring).

For each recording the kline replay market replays the 1-minute bars built from the recording's
own trades; a fresh market and paper venue (default settings) per sampled order keep one order's
fills (and their impact) from touching the next one's.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from oms.config import PaperVenueSettings
from oms.market.klines import KlineArrays
from oms.market.micro_stats import (
    Tape,
    bars_from_trades,
    p_change_within,
    p_marketable_on_arrival,
    p_passive_fill,
    spread_median_ticks,
)
from oms.market.replay import KlineReplayMarket, paths_from_klines
from oms.market.simulated import SimulatedMarket
from oms.market.specs import make_spec
from oms.market.touch import TouchParams
from oms.model.enums import Liquidity, OrderType, Side, TimeInForce
from oms.model.orders import ChildOrder
from oms.risk.halt import HaltGate
from oms.venues.events import OrderFilled
from oms.venues.paper import PaperVenue
from oms.venues.paper_book import epoch_to_datetime
from oms.venues.paper_faults import LatencyModel

__all__ = [
    "compare_table",
    "recorded_figures",
    "simulated_figures",
    "simulated_touch",
    "touch_figures",
]

ORDERS = 1000  # orders sent to the paper venue per recording (passive fills; the loop is slow)
INSTANTS = 50_000  # sampled instants for the vectorised touch figures
FIT_SEEDS = (1, 2, 3, 4)  # market seeds the calibration averages over (the table shows seed 7)
HORIZON_S = 60.0
POLL_S = 0.5
QUANTITY = {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.01")}


def _arrays(symbol: str, bars: dict[str, np.ndarray]) -> KlineArrays:
    return KlineArrays(symbol, bars["open_s"].astype(np.int64), bars["open"], bars["high"],
                       bars["low"], bars["close"], bars["volume"], bars["quote_volume"],
                       bars["trades"].astype(np.int64), bars["taker_buy_volume"])


def _sim_order(arrays: KlineArrays, send: float, buy: bool, quantity: Decimal,
               seed: int) -> bool:
    """Whether one order joining the touch gets a passive fill within HORIZON_S (paper venue;
    one marketable on arrival takes, and counts as not filled passively, as on the recording)."""
    now = epoch_to_datetime(send)
    market = KlineReplayMarket(arrays, seed=7, start=now)
    venue = PaperVenue(HaltGate(), market, PaperVenueSettings(), seed=seed,
                       balances={"USDT": Decimal(10**7), arrays.symbol[:-4]: Decimal(100)})
    quote = market.quote(arrays.symbol)
    order = ChildOrder("c1", "p1", arrays.symbol, Side.BUY if buy else Side.SELL, quantity,
                       OrderType.LIMIT, now, "paper", limit_price=quote.bid if buy else quote.ask,
                       time_in_force=TimeInForce.GTC)
    venue.submit(order, now)
    t = send
    while t < send + HORIZON_S:
        t = min(t + POLL_S, send + HORIZON_S)
        at = epoch_to_datetime(t)
        market.advance_to(at)
        for event in venue.poll(at):
            if isinstance(event, OrderFilled):
                return event.fill.liquidity is Liquidity.MAKER
    return False


def simulated_touch(market: SimulatedMarket, symbol: str, first: float, last: float) -> Tape:
    """The simulator's touch over [first, last) as a Tape of its distinct quotes (no trades)."""
    # read each quote a microsecond after its event: float epoch seconds carry ~0.2 us of
    # rounding, and the bar-offset arithmetic must not land just before the event
    times = np.asarray(market.touch_events(symbol, first, last)) + 1e-6
    tops = [market.top(symbol, t) for t in times.tolist()]
    bids = np.array([top.bid for top in tops])
    asks = np.array([top.ask for top in tops])
    keep = np.r_[True, (np.diff(bids) != 0) | (np.diff(asks) != 0)]
    empty = np.zeros(0)
    return Tape(times[keep], bids[keep], asks[keep], empty, empty, empty, empty, empty,
                np.zeros(0, dtype=bool))


def touch_figures(tape: Tape, offset: float, symbol: str, rate: float, flicker: float,
                  seeds: tuple[int, ...] = FIT_SEEDS) -> tuple[float, float]:
    """(P(touch change within 10 ms), P(marketable on arrival)) of the simulator with touch
    events at ``rate`` per second and ``flicker`` share, replaying the minutes ``tape`` covers;
    the mean over market ``seeds`` (the compare table uses another seed)."""
    arrays = _arrays(symbol, bars_from_trades(tape, offset))
    spec = make_spec(symbol)
    first = float(arrays.open_s[0])
    last = float(arrays.open_s[-1]) + 60.0
    params = {symbol: dataclasses.replace(TouchParams.calibrated(symbol), flicker_share=flicker)}
    changes: list[float] = []
    marketable: list[float] = []
    for seed in seeds:
        paths = paths_from_klines(arrays, seed, spec)
        paths.touch_rate = np.full(len(paths), rate)
        market = SimulatedMarket({symbol: spec}, {symbol: paths}, epoch_to_datetime(first),
                                 seed=seed, touch=params)
        touch = simulated_touch(market, symbol, first, last)
        instants, delays, sides = _instants(np.random.default_rng(11), first, last)
        changes.append(p_change_within(touch, 0.01, instants))
        marketable.append(p_marketable_on_arrival(touch, instants, delays, sides))
    return float(np.mean(changes)), float(np.mean(marketable))


def simulated_figures(tape: Tape, offset: float, symbol: str) -> dict[str, float]:
    """The four figures for the simulator replaying the minutes ``tape`` covers."""
    arrays = _arrays(symbol, bars_from_trades(tape, offset))
    first = float(arrays.open_s[0])
    last = float(arrays.open_s[-1]) + 60.0
    touch = simulated_touch(KlineReplayMarket(arrays, seed=7), symbol, first, last)
    rng = np.random.default_rng(11)
    instants, arrivals, sides = _instants(rng, first, last)
    sends = np.sort(rng.uniform(first, last - HORIZON_S - 1.0, ORDERS))
    buys = rng.random(ORDERS) < 0.5
    passive = 0
    for k, (send, buy) in enumerate(zip(sends.tolist(), buys.tolist(), strict=True)):
        passive += _sim_order(arrays, send, buy, QUANTITY.get(symbol, Decimal("0.01")), seed=k)
    return {"p_change_10ms": p_change_within(touch, 0.01, instants),
            "p_marketable": p_marketable_on_arrival(touch, instants, arrivals, sides),
            "p_passive_fill_1m": passive / ORDERS,
            "spread_median": spread_median_ticks(touch, 0.01)}


def _instants(rng: np.random.Generator, first: float, last: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """INSTANTS random send instants, one-way delays (half a default paper-venue round trip)
    and sides."""
    instants = np.sort(rng.uniform(first, last - 0.1, INSTANTS))
    settings = PaperVenueSettings()
    latency = LatencyModel(settings.latency_ms, settings.latency_jitter_ms, random.Random(5))
    delays = np.array([latency.draw() * 0.5 for _ in range(INSTANTS)])
    return instants, delays, rng.random(INSTANTS) < 0.5


def recorded_figures(tape: Tape, symbol: str) -> dict[str, float]:
    """The four figures on the recording."""
    rng = np.random.default_rng(11)
    instants, arrivals, sides = _instants(rng, tape.start, tape.end)
    sends = np.sort(rng.uniform(tape.start, tape.end - HORIZON_S - 1.0, ORDERS))
    buys = rng.random(ORDERS) < 0.5
    delays = _instants(rng, tape.start, tape.end)[1][:ORDERS]
    quantity = float(QUANTITY.get(symbol, Decimal("0.01")))
    return {"p_change_10ms": p_change_within(tape, 0.01, instants),
            "p_marketable": p_marketable_on_arrival(tape, instants, arrivals, sides),
            "p_passive_fill_1m": p_passive_fill(tape, sends, delays, buys, HORIZON_S, quantity),
            "spread_median": spread_median_ticks(tape, 0.01)}


_LABELS = {"p_change_10ms": "P(touch change within 10 ms)",
           "p_marketable": "P(order joining the touch marketable on arrival)",
           "p_passive_fill_1m": "P(passive fill within 1 min at the touch)",
           "spread_median": "spread median (ticks)"}


def compare_table(base: Path, tags: tuple[str, ...],
                  load: Callable[[Path, str], tuple[Tape, float]]) -> str:
    """The side-by-side table, one block per recording."""
    lines = [f"{'recording':<38} {'figure':<50} {'real':>8} {'sim':>8} {'sim/real':>9}"]
    for tag in tags:
        symbol = tag.split("_", 1)[0]
        tape, offset = load(base, tag)
        real = recorded_figures(tape, symbol)
        sim = simulated_figures(tape, offset, symbol)
        when = datetime.fromtimestamp(tape.start + offset, UTC).strftime("%Y-%m-%d %H:%M")
        for key, label in _LABELS.items():
            ratio = sim[key] / real[key] if real[key] else float("nan")
            lines.append(f"{symbol + ' ' + when:<38} {label:<50} {real[key]:>8.4f} "
                         f"{sim[key]:>8.4f} {ratio:>9.2f}")
    return "\n".join(lines)
