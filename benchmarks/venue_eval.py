"""Routed vs single venue on the same orders: the smart order router's all-in cost beside each
venue alone (``benchmarks/algo_eval.py --venues binance,okx,bybit`` runs it).

The orders are algo_eval's (random one-hour windows of the January-April 2024 klines, random
side; sizes 0.5 %, 2 % and 5 % of that hour's volume). Each runs through the real engine once per
route: ``sor`` (the VenueSet of every venue, the SmartOrderRouter choosing and splitting) and
each venue alone; every venue holds the whole account (``funding="each"``), so the router meets no
balance the single venue would not,
with the same seed, so the venues' books, bases and latencies are the same in every run. The
cost is all-in: the average price against the arrival mid, fees included, in bps (+ is a cost).
Algorithms: ``market`` (the whole order at once: where one book is not enough) and ``twap``.

Usage: ``python -m benchmarks.venue_eval [--venues binance,okx,bybit] [--orders 24]
[--algos market,twap] [--out var/venue_eval]``; writes results.json and summary.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.algo_eval import EvalOrder, locate_data, make_orders
from oms.config import RoutingSettings, Settings
from oms.execution_harness import run_parent
from oms.market.klines import KlineArrays, kline_arrays
from oms.market.replay import KlineReplayMarket
from oms.model import AlgoName
from oms.progress import Progress
from oms.venues.routed import routed_paper_venues

__all__ = ["SIZES", "main", "render", "run_order", "summarise"]

SIZES = (0.005, 0.02, 0.05)
ALGOS = {"market": AlgoName.MARKET, "twap": AlgoName.TWAP}


def run_order(arrays: KlineArrays, order: EvalOrder, venues: list[str], algo: str,
              seed: int) -> list[dict[str, Any]]:
    """One row per route (``sor`` and each venue alone) for ``order`` run with ``algo``."""
    window_start = order.start - timedelta(hours=2)
    rows = []
    for route in ["sor", *venues]:
        routing = RoutingSettings(venues=venues, route=route, funding="each")
        market = KlineReplayMarket(arrays, seed=seed + order.index, start=window_start,
                                   end=order.start + timedelta(hours=1, minutes=30))
        result = run_parent(
            market, symbol=order.symbol, side=order.side, quantity=order.quantity,
            algo=ALGOS[algo], start=order.start, duration_minutes=60.0,
            settings=Settings(routing=routing), seed=seed + order.index,
            venue=routed_paper_venues(routing, [order.symbol], seed=seed + order.index),
            tick=timedelta(seconds=2))
        parent = result.parent
        row: dict[str, Any] = {"order": order.index, "size": order.size_share, "algo": algo,
                               "route": route, "side": order.side.value,
                               "fill_rate": float(parent.filled_quantity / order.quantity),
                               "venues_used": sorted({f.venue for f in result.fills})}
        if parent.filled_quantity > 0 and parent.avg_price and parent.arrival_price:
            price = float(parent.avg_price / parent.arrival_price - 1) * order.side.sign
            row["all_in_bps"] = price * 10_000 + float(
                parent.fees / parent.filled_notional) * 10_000
        rows.append(row)
    return rows


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (algo, size, route): mean and median all-in bps, and against the best single venue
    on the same orders (routed minus best, per order, mean)."""
    out = []
    keys = sorted({(r["algo"], r["size"]) for r in rows})
    routes = list(dict.fromkeys(r["route"] for r in rows))
    for algo, size in keys:
        group = [r for r in rows if r["algo"] == algo and r["size"] == size
                 and "all_in_bps" in r]
        by_order: dict[int, dict[str, float]] = {}
        for r in group:
            by_order.setdefault(r["order"], {})[r["route"]] = r["all_in_bps"]
        for route in routes:
            costs = [r["all_in_bps"] for r in group if r["route"] == route]
            if not costs:
                continue
            edge = [c[route] - min(v for k, v in c.items() if k != "sor")
                    for c in by_order.values() if route in c and len(c) > 1]
            out.append({"algo": algo, "size": size, "route": route, "orders": len(costs),
                        "mean_bps": statistics.fmean(costs),
                        "median_bps": statistics.median(costs),
                        "vs_best_single_mean_bps": statistics.fmean(edge) if edge else None,
                        "worse_than_best_by_0.1bps": sum(1 for e in edge if e > 0.1)})
    return out


def render(summary: list[dict[str, Any]]) -> str:
    """The markdown table of the closing note."""
    lines = ["| algo | size | route | orders | mean all-in bps | median | routed - best single "
             "venue (mean) | orders worse than best by > 0.1 bps |", "|" + "---|" * 8]
    for s in summary:
        edge = s["vs_best_single_mean_bps"]
        lines.append(f"| {s['algo']} | {s['size']:.1%} | {s['route']} | {s['orders']} | "
                     f"{s['mean_bps']:.2f} | {s['median_bps']:.2f} | "
                     f"{'' if edge is None else f'{edge:+.2f}'} | "
                     f"{s['worse_than_best_by_0.1bps'] if s['route'] == 'sor' else ''} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venues", default="binance,okx,bybit")
    parser.add_argument("--orders", type=int, default=24)
    parser.add_argument("--algos", default="market,twap")
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("var/venue_eval"))
    args = parser.parse_args(argv)
    venues = [v.strip() for v in args.venues.split(",") if v.strip()]
    algos = [a.strip() for a in args.algos.split(",") if a.strip()]
    unknown = sorted(set(algos) - set(ALGOS))
    if unknown:
        raise SystemExit(f"--algos: unknown {', '.join(unknown)} (one of {', '.join(ALGOS)})")
    path = locate_data(args.symbol)
    orders = make_orders(kline_arrays(path), args.orders, args.seed, sizes=SIZES)
    first = min(o.start for o in orders) - timedelta(hours=3)
    last = max(o.start for o in orders) + timedelta(hours=2)
    arrays = kline_arrays(path, start=first, end=last)
    rows: list[dict[str, Any]] = []
    with Progress("venue eval", len(orders) * len(algos)) as bar:
        for order in orders:
            for algo in algos:
                rows += run_order(arrays, order, venues, algo, args.seed)
                bar.update()
    summary = summarise(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"rows": rows, "summary": summary},
                                                      indent=1, default=str))
    table = render(summary)
    (args.out / "summary.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
