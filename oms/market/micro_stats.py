"""Microstructure figures of a recorded (or simulated) tape: touch changes, spread, queue fills.

A ``Tape`` is a best bid/ask stream plus the trades, on one clock (epoch seconds). The figures are
the ones scripts/calibrate_market.py fits the simulator to and prints side by side (``--compare``):

- ``p_change_within``: from a uniformly random instant, the probability that the best bid or best
  ask PRICE changes within ``horizon`` seconds (sizes ignored);
- ``p_marketable_on_arrival``: an order priced at its own side's best at a random send instant
  (a buy at the bid, a sell at the ask) arrives ``delay`` later; it is marketable on arrival if the
  opposite best has reached its price by then (ask <= its price for a buy, bid >= for a sell);
- ``p_passive_fill``: the same order, resting from arrival, with the displayed size at the touch
  ahead of it, is filled within ``horizon`` if a trade prints through its price (a sell below a
  buy's price) or the aggressor volume at its price exceeds the queue ahead (cancellations ahead
  of it are ignored: conservative, as the paper venue's queue model);
- ``spread_median_ticks``: the time-weighted median spread.

``maker_taker_ratio`` fits how much the mid responds to limit-order flow at the touch relative to
taker flow (order-flow imbalance regression of Cont, Kukanov and Stoikov, 2014, split into its
trade part and its limit-order part): the ratio the simulator uses for the impact of our passive
fills.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Tape", "bars_from_trades", "maker_taker_ratio", "p_change_within",
           "p_marketable_on_arrival", "p_passive_fill", "spread_distribution",
           "spread_median_ticks", "trade_stats"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Tape:
    """Best bid/ask states (from ``times[k]`` on) and trades, sorted by time."""

    times: FloatArray
    bids: FloatArray
    asks: FloatArray
    bid_qty: FloatArray
    ask_qty: FloatArray
    trade_times: FloatArray
    trade_prices: FloatArray
    trade_qty: FloatArray
    seller_aggressor: BoolArray  # True: the taker sold (hit the bid)

    @property
    def start(self) -> float:
        """First instant covered."""
        return float(self.times[0])

    @property
    def end(self) -> float:
        """Last instant covered."""
        return float(self.times[-1])


def _state_at(tape: Tape, t: FloatArray) -> npt.NDArray[np.int64]:
    return np.asarray(np.searchsorted(tape.times, t, side="right") - 1, dtype=np.int64)


def p_change_within(tape: Tape, horizon: float, sends: FloatArray) -> float:
    """P(best bid or ask price changes within ``horizon`` of a random instant in ``sends``)."""
    moved = np.r_[True, (np.diff(tape.bids) != 0) | (np.diff(tape.asks) != 0)]
    change_times = tape.times[moved]
    nxt = np.searchsorted(change_times, sends, side="right")
    ok = nxt < change_times.size
    within = np.zeros(sends.size, dtype=bool)
    within[ok] = change_times[nxt[ok]] - sends[ok] <= horizon
    return float(within.mean())


def p_marketable_on_arrival(tape: Tape, sends: FloatArray, delays: FloatArray,
                            buys: BoolArray) -> float:
    """P(an order at its own side's best at ``sends`` is marketable ``delays`` later)."""
    at_send = _state_at(tape, sends)
    at_arrival = _state_at(tape, sends + delays)
    price = np.where(buys, tape.bids[at_send], tape.asks[at_send])
    marketable = np.where(buys, tape.asks[at_arrival] <= price + 1e-9,
                          tape.bids[at_arrival] >= price - 1e-9)
    return float(marketable.mean())


def p_passive_fill(tape: Tape, sends: FloatArray, delays: FloatArray, buys: BoolArray,
                   horizon: float, quantity: float) -> float:
    """P(an order joining its own side's best is filled within ``horizon`` of being sent)."""
    filled = 0
    for send, delay, buy in zip(sends.tolist(), delays.tolist(), buys.tolist(), strict=True):
        arrival = send + delay
        k = int(np.searchsorted(tape.times, send, side="right") - 1)
        price = float(tape.bids[k] if buy else tape.asks[k])
        j = int(np.searchsorted(tape.times, arrival, side="right") - 1)
        own_best = float(tape.bids[j] if buy else tape.asks[j])
        if (tape.asks[j] <= price) if buy else (tape.bids[j] >= price):
            continue  # marketable on arrival: it takes, it does not rest
        queue = float(tape.bid_qty[j] if buy else tape.ask_qty[j]) if own_best == price else 0.0
        lo = int(np.searchsorted(tape.trade_times, arrival, side="right"))
        hi = int(np.searchsorted(tape.trade_times, send + horizon, side="right"))
        hit = tape.seller_aggressor[lo:hi] == buy  # aggressors on the other side
        prices = tape.trade_prices[lo:hi][hit]
        sizes = tape.trade_qty[lo:hi][hit]
        through = prices < price - 1e-9 if buy else prices > price + 1e-9
        at_price = np.abs(prices - price) < 1e-9
        if through.any() or sizes[at_price].sum() > queue + quantity * 0.5:
            filled += 1
    return filled / max(sends.size, 1)


def spread_median_ticks(tape: Tape, tick: float) -> float:
    """Time-weighted median spread in ticks."""
    spread = np.round((tape.asks - tape.bids) / tick)
    weights = np.diff(np.r_[tape.times, tape.times[-1]])
    order = np.argsort(spread, kind="stable")
    cum = np.cumsum(weights[order])
    return float(spread[order][np.searchsorted(cum, 0.5 * cum[-1])])


def spread_distribution(tape: Tape, tick: float, widest: int) -> tuple[float, ...]:
    """Time share of spreads of 1, 2, ..., ``widest`` (and wider) ticks."""
    spread = np.clip(np.round((tape.asks - tape.bids) / tick), 1, widest).astype(int)
    weights = np.diff(np.r_[tape.times, tape.times[-1]])
    shares = np.bincount(spread, weights=weights, minlength=widest + 1)[1:]
    return tuple(float(s) for s in shares / shares.sum())


def trade_stats(tape: Tape) -> dict[str, float]:
    """Trade arrival rate (per second), median and mean size, taker-sell share of volume."""
    duration = max(tape.end - tape.start, 1e-9)
    volume = float(tape.trade_qty.sum())
    return {"trades_per_s": tape.trade_qty.size / duration,
            "trade_qty_median": float(np.median(tape.trade_qty)),
            "trade_qty_mean": float(tape.trade_qty.mean()),
            "taker_sell_share": float(tape.trade_qty[tape.seller_aggressor].sum()) / volume}


def maker_taker_ratio(tape: Tape, window: float = 1.0) -> float:
    """Mid response to limit-order flow at the touch / response to taker flow (OFI split).

    Per book update the order-flow imbalance e (Cont, Kukanov, Stoikov) is computed; the taker
    part is the signed aggressor volume of the trades inside the update, the limit part e minus
    it. Over ``window``-second buckets the mid change (ticks) is regressed on both parts.
    """
    b, a, qb, qa = tape.bids, tape.asks, tape.bid_qty, tape.ask_qty
    e = ((b[1:] >= b[:-1]) * qb[1:] - (b[1:] <= b[:-1]) * qb[:-1]
         - (a[1:] <= a[:-1]) * qa[1:] + (a[1:] >= a[:-1]) * qa[:-1])
    edges = np.arange(tape.start, tape.end, window)
    bucket_of_update = np.searchsorted(edges, tape.times[1:], side="right") - 1
    ofi = np.bincount(bucket_of_update, weights=e, minlength=edges.size)[:edges.size]
    signed = np.where(tape.seller_aggressor, -tape.trade_qty, tape.trade_qty)
    bucket_of_trade = np.searchsorted(edges, tape.trade_times, side="right") - 1
    keep = bucket_of_trade >= 0
    taker = np.bincount(bucket_of_trade[keep], weights=signed[keep],
                        minlength=edges.size)[:edges.size]
    limit = ofi - taker
    mid = (b + a) * 0.5
    at_edges = mid[np.maximum(np.searchsorted(tape.times, edges, side="right") - 1, 0)]
    dmid = np.diff(np.r_[at_edges, mid[-1]])
    design = np.stack((taker, limit, np.ones_like(taker)), axis=1)
    coef = np.linalg.lstsq(design, dmid, rcond=None)[0]
    if not math.isfinite(coef[0]) or coef[0] <= 0:
        return 1.0
    return float(coef[1] / coef[0])


def bars_from_trades(tape: Tape, clock_offset_s: float = 0.0) -> dict[str, npt.NDArray[np.float64]]:
    """1-minute bars (open_s, open, high, low, close, volume, quote_volume, trades,
    taker_buy_volume) of the minutes the tape's trades cover completely, by exchange time
    (``trade_times + clock_offset_s``)."""
    times = tape.trade_times + clock_offset_s
    minute = np.floor(times / 60.0) * 60.0
    first, last = float(np.ceil(times[0] / 60.0) * 60.0), float(np.floor(times[-1] / 60.0) * 60.0)
    rows: list[tuple[float, ...]] = []
    for start in np.arange(first, last, 60.0).tolist():
        inside = minute == start
        prices, sizes = tape.trade_prices[inside], tape.trade_qty[inside]
        if not sizes.size:
            continue
        taker_buy = float(sizes[~tape.seller_aggressor[inside]].sum())
        rows.append((start, float(prices[0]), float(prices.max()), float(prices.min()),
                     float(prices[-1]), float(sizes.sum()), float((prices * sizes).sum()),
                     float(sizes.size), taker_buy))
    columns = np.array(rows, dtype=np.float64).reshape(-1, 9).T
    names = ("open_s", "open", "high", "low", "close", "volume", "quote_volume", "trades",
             "taker_buy_volume")
    return {name: np.asarray(col, dtype=np.float64) for name, col in zip(names, columns,
                                                                          strict=True)}
