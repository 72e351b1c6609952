"""Recompute the market-simulator constants in oms/market/calibration.py from ../shared/data.

Usage: ``python scripts/calibrate_market.py [--data-dir DIR] [--write | --compare]``. Uses only
2024-01-01..2024-04-30 klines (May-June is reserved for evaluation), the 2024-08-08 L2 depth
snapshots, and the bookTicker and trade recordings (l2_trades/). Prints the module text;
``--write`` replaces calibration.py; ``--compare`` prints the simulator beside the recordings.

The intra-minute figures (MICRO) come from the 2024-08-08 BTCUSDT and ETHUSDT recordings; the
2023-04-05 BTCUSDT recording is only compared against (out of sample). Recorded streams are put on
the recorder's local clock (bookTicker has no exchange time; the trades' local receive time is on
the same clock); bars for the simulator are built from the trades by EXCHANGE time (the local
clock ran ~1.25 s behind).

``--compare`` replays, for each recording, the 1-minute bars built from its own trades in the
kline replay market with the paper venue (default settings) and measures, on both sides, at the
same number of seeded random send instants (oms.market.micro_stats gives the exact definitions):

- P(touch change within 10 ms): the best bid or ask price changes within 10 ms of the instant;
- P(marketable on arrival): a limit order priced at its own side's best at the instant (a buy at
  the bid, a sell at the ask, sides 50/50) arrives after half a round trip drawn from the paper
  venue's default latency model (median 20 ms, jitter 10 ms); it is marketable if the opposite
  best has reached its price by then (in the simulator: the paper venue fills it as a taker);
- P(passive fill within 1 min): the same order, if it rests, gets a fill within 60 s of its
  send, with the displayed touch size ahead of it (recording: a trade through its price, or
  aggressor volume at its price beyond the queue; simulator: the paper venue's queue model);
- spread median: time-weighted, in ticks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pprint
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oms.market.klines import kline_arrays  # noqa: E402
from oms.market.micro_stats import (  # noqa: E402
    Tape,
    maker_taker_ratio,
    p_change_within,
    p_marketable_on_arrival,
    spread_distribution,
    trade_stats,
)
from oms.progress import Progress  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from market_compare import _instants, compare_table, touch_figures  # noqa: E402 - simulator side

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
CAL_START = datetime(2024, 1, 1, tzinfo=UTC)
CAL_END = datetime(2024, 5, 1, tzinfo=UTC)
KLINE_FILE = "klines_1m/{symbol}-1m-2024-01-01_2024-06-25.csv.gz"
SNAPSHOT_FILE = "l2_trades/{symbol}_20240808T2354_20240809T0005_depth_snapshot_1000.json"
BOOKTICKER_FILE = "l2_trades/{symbol}_20240808T2354_20240809T0005_bookTicker.csv.gz"
RECORDING = "l2_trades/{tag}_{stream}.csv.gz"
FIT_RECORDINGS = ("BTCUSDT_20240808T2354_20240809T0005", "ETHUSDT_20240808T2354_20240809T0005")
CHECK_RECORDINGS = ("BTCUSDT_20230405T0000_20230405T0007",)  # compared against, not fitted
TOUCH_HORIZON_S = 0.01  # the 10 ms over which P(touch changes) is fitted
WIDEST_SPREAD = 5  # spread shares are kept for 1..4 ticks and 5 or more
SLOW_PHI = 0.9985  # per-minute persistence of the slow volume/volatility regime
FAST_PHI = 0.4


def data_dir(arg: str | None) -> Path:
    """The shared data directory: --data-dir, $OMS_SHARED_DATA, or <repo>/../shared/data/binance."""
    if arg:
        return Path(arg)
    env = os.environ.get("OMS_SHARED_DATA")
    if env:
        return Path(env)
    return ROOT.parent / "shared" / "data" / "binance"


def kline_stats(path: Path) -> dict[str, object]:
    """Volatility, volume and intraday profiles of one symbol over the calibration window."""
    bars = kline_arrays(path, start=CAL_START, end=CAL_END)
    returns = np.diff(np.log(bars.close))
    hour = ((bars.open_s // 3600) % 24).astype(int)
    volume = bars.volume
    mean_volume = float(volume.mean())
    volume_profile = pd.Series(volume).groupby(hour).mean().to_numpy() / mean_volume
    vol_profile = pd.Series(returns).groupby(hour[1:]).std().to_numpy()
    vol_profile = vol_profile / np.sqrt(np.mean(vol_profile**2))
    minute = ((bars.open_s // 60) % 60).astype(int)
    minute_profile = pd.Series(volume / (volume_profile[hour] * mean_volume)).groupby(
        minute).mean().to_numpy()
    minute_profile = minute_profile / minute_profile.mean()
    expected = volume_profile[hour] * minute_profile[minute] * mean_volume
    residual = np.log(np.maximum(volume, 1e-9)) - np.log(expected)
    residual = residual - residual.mean()
    ac60 = float(pd.Series(residual).autocorr(60))
    slow_share = min(max(ac60 / SLOW_PHI**60, 0.05), 0.95)
    day = bars.open_s[1:] // 86_400
    daily_vol = pd.Series(returns).groupby(day).std().to_numpy()
    log_daily_vol_sd = float(np.log(daily_vol).std())
    slow_sd = float(np.sqrt(slow_share) * residual.std())
    return {
        "start_price": round(float(bars.close[-1]), 2),
        "sigma_1m": round(float(returns.std()), 7),
        "volume_per_minute": round(mean_volume, 4),
        "quote_volume_per_minute": round(float(bars.quote_volume.mean()), 1),
        "median_range_bps": round(float(np.median((bars.high - bars.low) / bars.open * 1e4)), 3),
        "log_volume_sd": round(float(residual.std()), 4),
        "slow_share": round(slow_share, 4),
        "vol_on_regime": round(log_daily_vol_sd / slow_sd if slow_sd > 0 else 0.0, 4),
        "taker_buy_share": round(float(bars.taker_buy_volume.sum() / volume.sum()), 4),
        "volume_profile": tuple(round(float(x), 4) for x in volume_profile),
        "vol_profile": tuple(round(float(x), 4) for x in vol_profile),
        "minute_profile": tuple(round(float(x), 4) for x in minute_profile),
    }


DEPTH_KNOTS_BPS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0,
                   25.0, 30.0)


def depth_curve(path: Path) -> dict[str, object]:
    """Cumulative ask depth (USD) within each knot distance (bps from mid) of a depth snapshot.

    The ask side is used because the issue states its figures for asks (~$1.4M within 5 bps,
    ~$3M within 10 bps). Beyond the last knot the book model extends the curve linearly with
    ``tail_usd_per_bps`` (the slope between 10 and 25 bps; the 1000-level snapshot ends ~34 bps).
    """
    snapshot = json.loads(path.read_text())
    bids = np.array(snapshot["bids"], dtype=float)
    asks = np.array(snapshot["asks"], dtype=float)
    mid = (bids[0, 0] + asks[0, 0]) / 2
    distances = (asks[:, 0] / mid - 1) * 1e4
    cumulative = np.cumsum(asks[:, 0] * asks[:, 1])
    curve = [float(cumulative[distances <= d][-1]) if np.any(distances <= d) else 0.0
             for d in DEPTH_KNOTS_BPS]
    curve[0] = float(asks[0, 0] * asks[0, 1])  # the touch
    curve = list(np.maximum.accumulate(curve))
    tail = (curve[DEPTH_KNOTS_BPS.index(25.0)] - curve[DEPTH_KNOTS_BPS.index(10.0)]) / 15.0
    return {"knots_bps": DEPTH_KNOTS_BPS, "cum_usd": tuple(round(float(c), 1) for c in curve),
            "tail_usd_per_bps": round(float(tail), 1), "snapshot_mid": round(float(mid), 4)}


def spread_stats(path: Path) -> dict[str, float]:
    """Median spread (ticks of 0.01) and touch quantity from a bookTicker recording."""
    with gzip.open(path) as handle:
        frame = pd.read_csv(handle)
    spread = frame["best_ask_price"] - frame["best_bid_price"]
    touch = (frame["best_bid_qty"] + frame["best_ask_qty"]) / 2
    return {"spread_ticks_median": round(float((spread / 0.01).median()), 2),
            "spread_ticks_q90": round(float((spread / 0.01).quantile(0.9)), 2),
            "touch_qty_median": round(float(touch.median()), 5)}


def load_tape(base: Path, tag: str) -> tuple[Tape, float]:
    """A recording as a Tape on the recorder's clock, and the exchange-minus-local offset (s)."""
    def read(stream: str) -> pd.DataFrame:
        with gzip.open(base / RECORDING.format(tag=tag, stream=stream)) as handle:
            return pd.read_csv(handle)

    ticker = read("bookTicker").sort_values("update_id", kind="stable")
    trades = read("trades").sort_values("trade_id", kind="stable")

    def col(frame: pd.DataFrame, name: str) -> np.ndarray:
        return frame[name].to_numpy(dtype=np.float64)

    tape = Tape(col(ticker, "local_recv_ts_ns") / 1e9, col(ticker, "best_bid_price"),
                col(ticker, "best_ask_price"), col(ticker, "best_bid_qty"),
                col(ticker, "best_ask_qty"), col(trades, "local_recv_ts_ns") / 1e9,
                col(trades, "price"), col(trades, "qty"),
                trades["is_buyer_maker"].astype(str).str.lower().eq("true").to_numpy())
    offset = float(np.median(col(trades, "event_time_ms") / 1e3 - tape.trade_times))
    return tape, offset


def micro_stats(tape: Tape, offset: float, symbol: str) -> dict[str, object]:
    """Intra-minute constants of one symbol from a recording (see the module docstring).

    Touch events: real touch changes come in bursts (about 10 a second, most within a few
    milliseconds of each other, many undoing themselves); what an order with a 10 ms latency
    meets is the rate of the bursts and where they leave the quote. So the event rate is fitted
    on P(touch changes within 10 ms of a random instant), and the share of flickering events
    (oms.market.touch) on P(marketable on arrival) / P(touch change within 10 ms), both
    against the simulator replaying the recording's own minutes (market_compare.touch_figures):
    first the flicker share at the Poisson rate of the recorded figure, then the rate rescaled
    so that the simulated P(change within 10 ms) is the recorded one.
    """
    instants, delays, sides = _instants(np.random.default_rng(11), tape.start, tape.end)
    p_change = p_change_within(tape, TOUCH_HORIZON_S, instants)
    p_marketable = p_marketable_on_arrival(tape, instants, delays, sides)
    rate = float(-np.log1p(-p_change) / TOUCH_HORIZON_S)
    base_change, base_marketable = touch_figures(tape, offset, symbol, rate, 0.0)
    flicker = float(np.clip(1.0 - (p_marketable / p_change) / (base_marketable / base_change),
                            0.0, 0.8))
    simulated_change = touch_figures(tape, offset, symbol, rate, flicker)[0]
    rate *= float(np.log1p(-p_change) / np.log1p(-simulated_change))
    trades = trade_stats(tape)
    return {
        "touch_events_per_s": round(rate, 4),
        "flicker_share": round(flicker, 4),
        "spread_ticks_shares": tuple(round(x, 5) for x in spread_distribution(
            tape, 0.01, WIDEST_SPREAD)),
        "trades_per_s": round(trades["trades_per_s"], 3),
        "trade_qty_median": round(trades["trade_qty_median"], 6),
        "trade_qty_mean": round(trades["trade_qty_mean"], 6),
        "taker_sell_share": round(trades["taker_sell_share"], 4),
        "maker_taker_ratio": round(maker_taker_ratio(tape), 4),
    }


def micro_default(micro: dict[str, dict[str, object]]) -> dict[str, object]:
    """What symbols without a recording use: the mean rate and spread shares of those with one."""
    rates = [float(m["touch_events_per_s"]) for m in micro.values()]  # type: ignore[arg-type]
    flickers = [float(m["flicker_share"]) for m in micro.values()]  # type: ignore[arg-type]
    shares = np.mean(np.array([m["spread_ticks_shares"] for m in micro.values()], dtype=float),
                     axis=0)
    return {"touch_events_per_s": round(float(np.mean(rates)), 4),
            "flicker_share": round(float(np.mean(flickers)), 4),
            "spread_ticks_shares": tuple(round(float(x), 5) for x in shares)}


def passive_ratio(base: Path) -> float:
    """Median maker/taker impact ratio over every recording (fitted and checked ones)."""
    ratios = [maker_taker_ratio(load_tape(base, tag)[0])
              for tag in FIT_RECORDINGS + CHECK_RECORDINGS]
    return round(float(np.clip(np.median(ratios), 0.05, 1.0)), 4)


def _fmt(value: object) -> str:
    text = pprint.pformat(value, width=95, compact=True, sort_dicts=False)
    return "\n".join("    " + line for line in text.splitlines())


def render(stats: dict[str, dict[str, object]], depth: dict[str, dict[str, object]],
           spreads: dict[str, dict[str, float]], micro: dict[str, dict[str, object]],
           ratio: float) -> str:
    """The text of oms/market/calibration.py."""
    lines = [
        '"""Calibrated constants of the market simulator.',
        "",
        "Generated by scripts/calibrate_market.py. Klines: 2024-01-01..2024-04-30 (1-minute bars).",
        "Depth: the 2024-08-08 23:54 REST snapshots (ask side); symbols without a snapshot reuse",
        "BTCUSDT's curve scaled by quote volume. Spread and touch size: bookTicker recordings.",
        "MICRO: the 2024-08-08 bookTicker and trade recordings. touch_events_per_s and",
        "flicker_share are fitted against the simulator replaying the recorded minutes (P(touch",
        "change within 10 ms), P(marketable on arrival)); spread_ticks_shares are time shares of",
        "1..4 and 5+ ticks; the trade figures describe the tape (the queue model releases bar",
        "volume along the path and needs no trade sizes). PASSIVE_IMPACT_RATIO: the median over",
        "the three recordings of the mid's response to limit-order flow at the touch relative to",
        "taker flow (oms.market.micro_stats.maker_taker_ratio, 1-second OFI regression).",
        "Do not edit by hand: rerun the script.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        '__all__ = ["CALIBRATION", "DEPTH", "MICRO", "MICRO_DEFAULT", "PASSIVE_IMPACT_RATIO",',
        '           "SPREADS"]',
        "",
        f"CALIBRATION: dict[str, dict[str, Any]] = (\n{_fmt(stats)}\n)",
        "",
        f"DEPTH: dict[str, dict[str, Any]] = (\n{_fmt(depth)}\n)",
        "",
        f"SPREADS: dict[str, dict[str, float]] = (\n{_fmt(spreads)}\n)",
        "",
        f"MICRO: dict[str, dict[str, Any]] = (\n{_fmt(micro)}\n)",
        "",
        f"MICRO_DEFAULT: dict[str, Any] = (\n{_fmt(micro_default(micro))}\n)",
        "",
        f"PASSIVE_IMPACT_RATIO: float = {ratio!r}",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--compare", action="store_true",
                        help="print simulated vs recorded intra-minute figures and exit")
    args = parser.parse_args(argv)
    base = data_dir(args.data_dir)
    if args.compare:
        print(compare_table(base, FIT_RECORDINGS + CHECK_RECORDINGS, load_tape))
        return 0
    stats: dict[str, dict[str, object]] = {}
    depth: dict[str, dict[str, object]] = {}
    spreads: dict[str, dict[str, float]] = {}
    micro: dict[str, dict[str, object]] = {}
    with Progress("calibration", len(SYMBOLS) * 3 + len(FIT_RECORDINGS)) as bar:
        for symbol in SYMBOLS:
            stats[symbol] = kline_stats(base / KLINE_FILE.format(symbol=symbol))
            bar.update()
            ticker = base / BOOKTICKER_FILE.format(symbol=symbol)
            if ticker.exists():
                spreads[symbol] = spread_stats(ticker)
            bar.update()
            snapshot = base / SNAPSHOT_FILE.format(symbol=symbol)
            if snapshot.exists():
                depth[symbol] = depth_curve(snapshot)
            bar.update()
        for tag in FIT_RECORDINGS:
            symbol = tag.split("_", 1)[0]
            tape, offset = load_tape(base, tag)
            micro[symbol] = micro_stats(tape, offset, symbol)
            bar.update()
    text = render(stats, depth, spreads, micro, passive_ratio(base))
    if args.write:
        target = ROOT / "oms" / "market" / "calibration.py"
        target.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
