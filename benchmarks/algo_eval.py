"""Measure every execution algorithm on the same one-hour parent orders replayed from real klines.

Data: Binance 1-minute klines, 2024-01-01..2024-04-30 only (May-June is reserved for the final
evaluation; the script refuses windows past 2024-04-30). Market: ``KlineReplayMarket`` (real bars,
seeded sub-minute path, book, impact of our own flow); venue: the realistic ``PaperVenue``
(latency, book walking, queue model for passive orders, maker/taker fees, spot balances); engine:
the real ``ExecutionEngine`` (pre-trade risk with size limits lifted, circuit breakers, SQLite
journal) through ``oms.execution_harness`` with one-second ticks, so what is measured is what
trades. Each parent order gets a fresh market and account with the same seed for every algorithm,
so all algorithms face the same prices; a sell starts holding what it sells.

Orders: ``--orders`` (default 240) one-hour parents at random start minutes, random side, sizes
cycling through ``--sizes`` (default 0.5%, 1%, 2% and 5% of that hour's market volume). Costs, in
bps of the benchmark, positive = worse than the benchmark, on the filled part: vs arrival mid, vs
the hour's market VWAP (from the klines), vs the hour's TWAP (mean of the bars' OHLC/4); fees
excluded and included.

VWAP tracking is the ABSOLUTE deviation of the average fill price from the hour's VWAP (a signed
mean lets errors of both signs cancel), mean and median, beside ``baseline_static_profile``: the
static historical-profile schedule (``oms.algos.vwap.profile_weights``) filled at each minute's own
VWAP with no spread, impact, latency or fees, computed from the klines on the same orders in the
same run (``benchmarks.vwap_baseline``). ``x baseline`` is an algorithm's mean |tracking| over the
baseline's on the same orders.

Usage: ``python -m benchmarks.algo_eval [--orders 240] [--symbol BTCUSDT] [--seed 7]
[--sizes 0.01] [--out var/algo_eval] [--algos vwap,ideal_vwap]
[--options '{"vwap": {"cross_tolerance": 0.1}}'] [--no-plot]`` writes results.json, summary.md
and costs.png into ``--out``. ``--algos`` runs a
subset (the same orders and prices, so subsets compare pairwise); ``--options`` adds keywords to
an algorithm's defaults, for experiments. ``--venues binance,okx,bybit`` compares smart order
routing with each venue alone instead (``benchmarks.venue_eval``, its own options).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import sys
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.vwap_baseline import BASELINE, baseline_row
from oms.errors import MarketClosed
from oms.execution_harness import VenueFactory, paper_venue, run_parent
from oms.market.base import MarketData
from oms.market.klines import KlineArrays, kline_arrays
from oms.market.replay import KlineReplayMarket
from oms.model.enums import AlgoName, Liquidity, Side
from oms.model.orders import ChildOrder, Fill
from oms.progress import Progress
from oms.risk.halt import HaltGate
from oms.tca.own_impact import simulator_unimpacted_mids
from oms.venues.base import OrderStatusReport, Venue
from oms.venues.events import OrderAccepted, OrderFilled, VenueEvent
from oms.venues.filters import SymbolFilters

__all__ = ["ALGORITHMS", "EvalOrder", "main", "make_orders", "run_order", "summarise"]

DATA_START = datetime(2024, 1, 1, tzinfo=UTC)
DATA_END = datetime(2024, 5, 1, tzinfo=UTC)  # exclusive: May-June are reserved for evaluation
# ``--period evaluation``: the held-out days, for the final, untuned measurement only
PERIODS = {"calibration": (DATA_START, DATA_END),
           "evaluation": (DATA_END, datetime(2024, 6, 26, tzinfo=UTC))}
SIZES = (0.005, 0.01, 0.02, 0.05)
STEPS = {"BTCUSDT": Decimal("0.00001"), "ETHUSDT": Decimal("0.0001"), "SOLUSDT": Decimal("0.01")}
# name -> (algorithm, options); vwap_static is the profile-only baseline of the issue
ALGORITHMS: dict[str, tuple[AlgoName, dict[str, Any]]] = {
    "market": (AlgoName.MARKET, {}),
    "twap": (AlgoName.TWAP, {}),
    "vwap": (AlgoName.VWAP, {}),
    "vwap_static": (AlgoName.VWAP, {"follow_realised": False}),
    "is": (AlgoName.IS, {}),
    "pov": (AlgoName.POV, {}),  # target_rate set per order: twice the order's share of volume
    "iceberg": (AlgoName.ICEBERG, {}),
}
# idealised schedule tracking: MARKET children filled at the mid, no impact, no latency, no fees
IDEAL: dict[str, tuple[AlgoName, dict[str, Any]]] = {
    "ideal_twap": (AlgoName.TWAP, {"placement": "aggressive"}),
    "ideal_vwap": (AlgoName.VWAP, {"placement": "aggressive"}),
    "ideal_vwap_static": (AlgoName.VWAP, {"placement": "aggressive", "follow_realised": False}),
}


class IdealVenue(Venue):
    """Fills every order at once, in full, at the market mid; reports no impact (idealised)."""

    name = "ideal"

    def __init__(self, gate: HaltGate, market: MarketData, filters: SymbolFilters) -> None:
        super().__init__(gate)
        self.market = market
        self._filters = filters
        self._events: list[VenueEvent] = []
        self._ids = itertools.count(1)

    def _send(self, order: ChildOrder, now: datetime) -> None:
        mid = self.market.quote(order.symbol).mid
        self._events.append(OrderAccepted(order.client_order_id, str(next(self._ids)), now))
        self._events.append(OrderFilled(Fill(
            f"{order.client_order_id}:1", order.client_order_id, order.parent_id, order.symbol,
            order.side, mid, order.quantity, Decimal(0), Liquidity.TAKER, now, self.name)))

    def cancel(self, client_order_id: str, now: datetime) -> None:
        """Nothing rests, so nothing to cancel."""

    def open_order_ids(self, symbol: str | None = None) -> list[str]:
        """Nothing rests."""
        return []

    def poll(self, now: datetime) -> list[VenueEvent]:
        """Hand over the fills."""
        events, self._events = self._events, []
        return events

    def query(self, client_order_id: str) -> OrderStatusReport | None:
        """Not tracked."""
        return None

    def filters(self, symbol: str) -> SymbolFilters:
        """The evaluation's filters."""
        return self._filters


def ideal_venue(filters: SymbolFilters) -> VenueFactory:
    """A factory of the IdealVenue with ``filters``."""
    def build(gate: HaltGate, market: MarketData) -> Venue:
        return IdealVenue(gate, market, filters)
    return build


def locate_data(symbol: str) -> Path:
    """The kline file of ``symbol`` (OMS_SHARED_DATA, else <repo>/../shared/data/binance)."""
    env = os.environ.get("OMS_SHARED_DATA")
    bases = [Path(env)] if env else []
    bases += [p / "shared" / "data" / "binance" for p in Path(__file__).resolve().parents]
    for base in bases:
        files = sorted((base / "klines_1m").glob(f"{symbol}-1m-*.csv*"))
        if files:
            return files[0]
    raise FileNotFoundError(f"no kline file for {symbol}; set OMS_SHARED_DATA")


@dataclass(frozen=True, slots=True)
class EvalOrder:
    """One one-hour parent of the evaluation set."""

    index: int
    symbol: str
    start: datetime
    side: Side
    size_share: float
    quantity: Decimal
    hour_volume: float
    vwap: float
    twap: float


def _window(arrays: KlineArrays, start: datetime, end: datetime) -> KlineArrays:
    lo, hi = np.searchsorted(arrays.open_s, [start.timestamp(), end.timestamp()])
    sliced = {f.name: getattr(arrays, f.name)[lo:hi] for f in fields(arrays) if f.name != "symbol"}
    return replace(arrays, **sliced)


def make_orders(arrays: KlineArrays, count: int, seed: int, period: str = "calibration",
                sizes: tuple[float, ...] = SIZES) -> list[EvalOrder]:
    """``count`` random one-hour parents inside ``period`` (``sizes`` cycle)."""
    rng = np.random.default_rng(seed)
    period_start, period_end = PERIODS[period]
    first = period_start + timedelta(hours=2)
    minutes = int((period_end - timedelta(hours=2) - first) / timedelta(minutes=1))
    step = STEPS.get(arrays.symbol, Decimal("0.00001"))
    orders: list[EvalOrder] = []
    while len(orders) < count:
        start = first + timedelta(minutes=int(rng.integers(0, minutes)))
        hour = _window(arrays, start, start + timedelta(hours=1))
        if len(hour) < 60:  # a data gap: pick another hour
            continue
        share = sizes[len(orders) % len(sizes)]
        volume = float(hour.volume.sum())
        quantity = (Decimal(repr(volume * share)) / step).to_integral_value() * step
        typical = (hour.open + hour.high + hour.low + hour.close) / 4
        orders.append(EvalOrder(
            index=len(orders), symbol=arrays.symbol, start=start,
            side=Side.BUY if rng.random() < 0.5 else Side.SELL, size_share=share,
            quantity=quantity, hour_volume=volume,
            vwap=float(hour.quote_volume.sum() / volume), twap=float(typical.mean())))
    return orders


def _bps(side: Side, price: float, benchmark: float) -> float:
    return side.sign * (price / benchmark - 1.0) * 10_000


def run_order(arrays: KlineArrays, order: EvalOrder, seed: int,
              algos: dict[str, tuple[AlgoName, dict[str, Any]]] | None = None,
              ) -> list[dict[str, Any]]:
    """Run every algorithm (or those of ``algos``) on ``order``; one result row per algorithm."""
    period_end = PERIODS["evaluation"][1] if order.start >= DATA_END else DATA_END
    if order.start < DATA_END < order.start + timedelta(hours=1, minutes=30):
        raise ValueError("an order window may not straddle 2024-05-01 (calibration | evaluation)")
    window = _window(arrays, order.start - timedelta(hours=2),
                     min(order.start + timedelta(hours=1, minutes=30), period_end))
    filters = SymbolFilters(order.symbol, step_size=STEPS.get(order.symbol, Decimal("0.00001")),
                            min_qty=STEPS.get(order.symbol, Decimal("0.00001")))
    rows: list[dict[str, Any]] = []
    for name, (algo_name, options) in (algos or {**ALGORITHMS, **IDEAL, **BASELINE}).items():
        if name in BASELINE:
            rows.append(baseline_row(arrays, order, name))
            continue
        market = KlineReplayMarket(window, seed=seed + order.index)
        venue = (ideal_venue(filters) if name in IDEAL
                 else paper_venue(filters={order.symbol: filters}, seed=seed + order.index))
        extra = dict(options)
        if algo_name is AlgoName.POV:
            extra["target_rate"] = min(0.3, 2 * order.size_share)
        # the real engine on a fresh account; a sell starts holding what it sells
        result = run_parent(market, symbol=order.symbol, side=order.side,
                            quantity=order.quantity, algo=algo_name, start=order.start,
                            duration_minutes=60.0, urgency=0.5, algo_options=extra,
                            seed=seed + order.index, venue=venue, tick=timedelta(seconds=1))
        parent = result.parent
        filled = float(parent.filled_quantity)
        row: dict[str, Any] = {
            "order": order.index, "algo": name, "size": order.size_share,
            "side": order.side.value, "fill_rate": filled / float(order.quantity),
            "children": len(result.children), "end_state": parent.state.value,
        }
        if filled > 0 and parent.avg_price is not None and parent.arrival_price is not None:
            price = float(parent.avg_price)
            fee_bps = float(parent.fees) / float(parent.filled_notional) * 10_000
            maker = sum(float(f.quantity) for f in result.fills if f.liquidity is Liquidity.MAKER)
            for bench, value in (("arrival", float(parent.arrival_price)),
                                 ("vwap", order.vwap), ("twap", order.twap)):
                row[f"vs_{bench}_bps"] = _bps(order.side, price, value)
                row[f"vs_{bench}_fees_bps"] = row[f"vs_{bench}_bps"] + fee_bps
            row["passive_ratio"] = maker / filled
            own = _own_mid_impact_bps(market, order, result.fills, parent.arrival_price)
            if own is not None:
                row["own_impact_bps"] = own
        rows.append(row)
    return rows


def _own_mid_impact_bps(market: KlineReplayMarket, order: EvalOrder, fills: list[Fill],
                        arrival: Decimal) -> float | None:
    """How far our own flow had moved the mid at our fills, in bps of what they paid (volume
    weighted; oms.tca.own_impact): the part of the cost vs the recorded interval VWAP that a
    live VWAP, printed in the market we moved, would partly contain. None without mids."""
    priced = [f for f in fills if f.mid_price is not None]
    if not priced:
        return None
    try:
        unimpacted = simulator_unimpacted_mids(market, order.symbol, priced, start=order.start,
                                               arrival=arrival)
    except MarketClosed:
        return None
    moved = sum(float(f.quantity) * (float(f.mid_price or 0) - float(u))
                for f, u in zip(priced, unimpacted, strict=True))
    paid = sum(float(f.quantity) * float(f.mid_price or 0) for f in priced)
    return order.side.sign * moved / paid * 10_000


_ARRAYS: KlineArrays | None = None


def _init_worker(path: str, period: str) -> None:
    global _ARRAYS
    start, end = PERIODS[period]
    _ARRAYS = kline_arrays(path, start=start - timedelta(hours=3), end=end)


_Job = tuple[EvalOrder, int, dict[str, tuple[AlgoName, dict[str, Any]]]]


def _work(job: _Job) -> list[dict[str, Any]]:
    assert _ARRAYS is not None
    return run_order(_ARRAYS, job[0], job[1], job[2])


def select_algorithms(names: str | None, options: str | None,
                      ) -> dict[str, tuple[AlgoName, dict[str, Any]]]:
    """The algorithms to run: ``names`` (comma-separated; default all) with ``options`` (a JSON
    object of extra keywords, e.g. ``{"vwap": {"passive_window_s": 300}}``) merged in."""
    every = {**ALGORITHMS, **IDEAL, **BASELINE}
    chosen = [n.strip() for n in names.split(",") if n.strip()] if names else list(every)
    unknown = sorted(set(chosen) - set(every))
    if unknown:
        raise SystemExit(f"unknown algorithm(s): {', '.join(unknown)}")
    extra: dict[str, dict[str, Any]] = json.loads(options) if options else {}
    return {n: (every[n][0], {**every[n][1], **extra.get(n, {})}) for n in chosen}


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per algorithm and size: mean, median and standard error of each cost; mean fill and
    passive ratios; mean and median absolute deviation from the interval VWAP, and the mean's
    ratio to the baseline's on the same orders (when the baseline ran)."""
    metrics = [f"vs_{b}{f}_bps" for b in ("arrival", "vwap", "twap") for f in ("", "_fees")]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in {**ALGORITHMS, **IDEAL, **BASELINE}:
        out[name] = {}
        for size in (*sorted({r["size"] for r in rows}), "all"):
            mine = [r for r in rows if r["algo"] == name and (size == "all" or r["size"] == size)]
            if not mine:
                continue
            stats: dict[str, float] = {"orders": float(len(mine))}
            for metric in metrics:
                values = np.array([r[metric] for r in mine if metric in r])
                if values.size:
                    stats[f"{metric}_mean"] = round(float(values.mean()), 3)
                    stats[f"{metric}_median"] = round(float(np.median(values)), 3)
                    if values.size > 1:  # standard error of the mean
                        sem = values.std(ddof=1) / np.sqrt(values.size)
                        stats[f"{metric}_sem"] = round(float(sem), 3)
            tracking = [abs(r["vs_vwap_bps"]) for r in mine if "vs_vwap_bps" in r]
            if tracking:  # how far from the interval VWAP, whatever the sign
                stats["vwap_abs_dev_bps_mean"] = round(float(np.mean(tracking)), 3)
                stats["vwap_abs_dev_bps_median"] = round(float(np.median(tracking)), 3)
                ratio = _baseline_ratio(rows, mine)
                if ratio is not None:
                    stats["vwap_abs_dev_x_baseline"] = round(ratio, 3)
            own = [r["own_impact_bps"] for r in mine if "own_impact_bps" in r]
            if own:
                stats["own_impact_bps_mean"] = round(float(np.mean(own)), 3)
            stats["fill_rate_mean"] = round(float(np.mean([r["fill_rate"] for r in mine])), 4)
            passive = [r["passive_ratio"] for r in mine if "passive_ratio" in r]
            stats["passive_ratio_mean"] = round(float(np.mean(passive)), 4) if passive else 0.0
            stats["children_mean"] = round(float(np.mean([r["children"] for r in mine])), 1)
            key = "all" if size == "all" else f"{size * 100:g}%"
            out[name][key] = stats
    return out


def _baseline_ratio(rows: list[dict[str, Any]], mine: list[dict[str, Any]]) -> float | None:
    """Mean |tracking| of ``mine`` over the baseline's on the same orders (None: no baseline)."""
    baseline: dict[int, float] = {r["order"]: abs(r["vs_vwap_bps"]) for r in rows
                                  if r["algo"] in BASELINE}
    pairs: list[tuple[float, float]] = [(abs(r["vs_vwap_bps"]), baseline[r["order"]]) for r in mine
             if "vs_vwap_bps" in r and r["order"] in baseline]
    reference = sum(b for _, b in pairs)
    if not pairs or reference <= 0:
        return None
    return sum(a for a, _ in pairs) / reference


def render_table(summary: dict[str, dict[str, dict[str, float]]]) -> str:
    """A markdown table of the summary (mean / median bps; |tracking| vs VWAP, mean / median and
    over the baseline's mean)."""
    head = ("| algo | size | vs arrival | vs arrival +fees | vs VWAP | vs VWAP +fees | vs TWAP "
            "| vs TWAP +fees | abs dev vs VWAP | x baseline | own impact | fill rate | passive |")
    lines = [head, "|" + "---|" * 13]
    for name, by_size in summary.items():
        for size, s in by_size.items():
            cells = [f"{s.get(f'{m}_mean', float('nan')):.2f} / "
                     f"{s.get(f'{m}_median', float('nan')):.2f}"
                     for m in ("vs_arrival_bps", "vs_arrival_fees_bps", "vs_vwap_bps",
                               "vs_vwap_fees_bps", "vs_twap_bps", "vs_twap_fees_bps")]
            lines.append(f"| {name} | {size} | " + " | ".join(cells)
                         + f" | {s.get('vwap_abs_dev_bps_mean', float('nan')):.2f} / "
                         + f"{s.get('vwap_abs_dev_bps_median', float('nan')):.2f}"
                         + f" | {s.get('vwap_abs_dev_x_baseline', float('nan')):.2f}"
                         + f" | {s.get('own_impact_bps_mean', float('nan')):.2f}"
                         + f" | {s['fill_rate_mean']:.3f} | {s['passive_ratio_mean']:.2f} |")
    return "\n".join(lines)


def plot(summary: dict[str, dict[str, dict[str, float]]], path: Path) -> None:
    """Grouped bars per algorithm and size: mean cost vs arrival and vs VWAP (fees excluded), and
    mean |tracking| vs VWAP with the baseline's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in summary if summary[n] and not n.startswith("ideal")]
    sizes = sorted({k for n in names for k in summary[n] if k != "all"},
                   key=lambda k: float(k.rstrip("%")))
    figure, axes = plt.subplots(1, 3, figsize=(19, 4.8))
    for axis, metric, title in ((axes[0], "vs_arrival_bps_mean", "cost vs arrival (bps), mean"),
                                (axes[1], "vs_vwap_bps_mean", "cost vs interval VWAP (bps), mean"),
                                (axes[2], "vwap_abs_dev_bps_mean",
                                 "|avg price - interval VWAP| (bps), mean")):
        width = 0.8 / len(sizes)
        for k, size in enumerate(sizes):
            values = [summary[n].get(size, {}).get(metric, np.nan) for n in names]
            axis.bar(np.arange(len(names)) + k * width - 0.4 + width / 2, values, width,
                     label=f"{size} of hour volume")
        axis.set_xticks(np.arange(len(names)), names)
        axis.axhline(0, color="black", linewidth=0.6)
        axis.tick_params(axis="x", labelrotation=30)
        axis.set_title(f"{title}, fees excluded")
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _sizes(text: str) -> tuple[float, ...]:
    """``--sizes``: comma-separated shares of the hour's volume, each in (0, 0.5]."""
    try:
        sizes = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise SystemExit(f"--sizes: not a list of numbers: {text!r}") from None
    if not sizes or not all(0 < s <= 0.5 for s in sizes):
        raise SystemExit(f"--sizes: each size must be in (0, 0.5], got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and write results.json, summary.md and costs.png (``--venues``: the
    routing comparison of benchmarks.venue_eval instead)."""
    given = list(sys.argv[1:] if argv is None else argv)
    if any(a == "--venues" or a.startswith("--venues=") for a in given):
        from benchmarks.venue_eval import main as venue_main  # routed vs single venue

        return venue_main(given)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=240)
    parser.add_argument("--sizes", default=",".join(f"{s:g}" for s in SIZES),
                        help="order sizes as shares of the hour's volume, e.g. 0.01")
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, default=Path("var/algo_eval"))
    parser.add_argument("--algos", default=None,
                        help="comma-separated subset, e.g. vwap,ideal_vwap (default: all)")
    parser.add_argument("--options", default=None,
                        help='JSON extra keywords per algorithm, e.g. {"vwap": {"seed": 1}}')
    parser.add_argument("--no-plot", action="store_true", help="skip costs.png")
    parser.add_argument("--period", choices=sorted(PERIODS), default="calibration",
                        help="evaluation = the held-out 2024-05-01..06-25 (never tune on it)")
    args = parser.parse_args(argv)
    algos = select_algorithms(args.algos, args.options)
    path = locate_data(args.symbol)
    period_start, period_end = PERIODS[args.period]
    arrays = kline_arrays(path, start=period_start - timedelta(hours=3), end=period_end)
    orders = make_orders(arrays, args.orders, args.seed, args.period, _sizes(args.sizes))
    jobs: list[_Job] = [(order, args.seed, algos) for order in orders]
    rows: list[dict[str, Any]] = []
    with Progress(f"algo eval {args.symbol}", len(jobs)) as bar:
        if args.workers > 1:
            with multiprocessing.get_context("fork").Pool(
                    args.workers, initializer=_init_worker,
                    initargs=(str(path), args.period)) as pool:
                for result in pool.imap_unordered(_work, jobs):
                    rows.extend(result)
                    bar.update()
        else:
            for order, seed, chosen in jobs:
                rows.extend(run_order(arrays, order, seed, chosen))
                bar.update()
    summary = summarise(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"symbol": args.symbol, "orders": len(orders), "seed": args.seed,
              "period": args.period,
              "data": f"{period_start.date()}..{(period_end - timedelta(days=1)).date()}",
              "summary": summary}
    (args.out / "results.json").write_text(json.dumps({**report, "rows": rows}, indent=1))
    table = render_table(summary)
    (args.out / "summary.md").write_text(table + "\n")
    if not args.no_plot:
        plot(summary, args.out / "costs.png")
    print(json.dumps(report, indent=1))
    print(table, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
