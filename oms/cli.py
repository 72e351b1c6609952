"""The ``oms`` command: run | backtest | report | bench | engine | accounts."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from oms.cluster.cli_cluster import HANDLERS as CLUSTER_HANDLERS
from oms.cluster.cli_cluster import add_cluster_commands
from oms.errors import OmsError

__all__ = ["main"]


def _add_run(sub: Any) -> None:
    run = sub.add_parser("run", help="start the engine and the dashboard")
    run.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=None, help="port (default 8050)")
    run.add_argument("--venue", choices=["paper", "binance-testnet", "binance"], default=None)
    run.add_argument("--data", type=Path, default=None, help="replay this kline file")
    run.add_argument("--speed", type=float, default=None, help="market clock speed factor")
    run.add_argument("--database-url", default=None)
    run.add_argument("--confirm-production", action="store_true",
                     help="required with --venue binance (real money)")
    run.add_argument("--debug", action="store_true")
    _add_routing(run)


def _add_routing(parser: Any) -> None:
    parser.add_argument("--venues", default=None, metavar="NAMES",
                        help="route across these paper venue profiles, e.g. binance,okx,bybit "
                             "(OMS_ROUTING__VENUES)")
    parser.add_argument("--route", default=None, metavar="sor|NAME",
                        help="with --venues: 'sor' (smart order routing, the default) or one "
                             "venue's name (everything there)")


def _routing_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``routing`` settings from --venues/--route (none given: {})."""
    if args.venues is None and args.route is None:
        return {}
    from oms.config import RoutingSettings

    if args.venues is None:
        raise SystemExit("oms: --route needs --venues")
    return {"routing": RoutingSettings(venues=args.venues, route=args.route or "sor")}


def _add_backtest(sub: Any) -> None:
    bt = sub.add_parser("backtest", help="run one execution on replayed data or a scenario")
    bt.add_argument("--scenario", choices=["almgren-chriss-2000"], default=None)
    bt.add_argument("--paths", type=int, default=10_000, help="Monte Carlo paths (scenario)")
    bt.add_argument("--data", type=Path, default=None, help="Binance 1m kline file")
    bt.add_argument("--book", type=Path, default=None,
                    help="L2 replay: Binance REST depth snapshot (JSON, lastUpdateId); with "
                         "--depth and --trades, instead of --data")
    bt.add_argument("--depth", type=Path, default=None,
                    help="L2 replay: depth@100ms diffs bridging --book (csv.gz)")
    bt.add_argument("--trades", type=Path, default=None, help="L2 replay: trades (csv.gz)")
    bt.add_argument("--symbol", default=None,
                    help="default BTCUSDT (--data) or the recording's symbol (--book)")
    bt.add_argument("--side", default="buy")
    bt.add_argument("--quantity", default="1")
    bt.add_argument("--algo", default="twap")
    bt.add_argument("--start", default=None,
                    help="ISO-8601 UTC, e.g. 2024-03-04T14:00:00Z (L2 replay: default the "
                         "first instant the recorded book can be built)")
    bt.add_argument("--duration-minutes", type=float, default=60.0)
    bt.add_argument("--urgency", type=float, default=0.5)
    bt.add_argument("--seed", type=int, default=7)
    bt.add_argument("--json", type=Path, default=None, help="also write the report here")
    bt.add_argument("--kline-cache", default=None, metavar="DIR",
                    help="cache the parsed --data file here ('off': parse it every run; default "
                         "$OMS_KLINE_CACHE_DIR, else var/cache/klines)")
    _add_routing(bt)


def _add_report(sub: Any) -> None:
    rp = sub.add_parser("report", help="print a stored ExecutionReport or the daily summary")
    group = rp.add_mutually_exclusive_group(required=True)
    group.add_argument("--session", default=None)
    group.add_argument("--latest", action="store_true")
    group.add_argument("--daily", action="store_true")
    rp.add_argument("--database-url", default=None)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oms", description="DipMaster OMS")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    _add_backtest(sub)
    _add_report(sub)
    add_cluster_commands(sub)
    bench = sub.add_parser("bench", help="print one JSON object of performance figures")
    bench.add_argument("--quick", action="store_true", help="smaller workloads (smoke test)")
    only = bench.add_mutually_exclusive_group()
    only.add_argument("--soak", action="store_true",
                      help="only the memory soak: RSS per 1,000 children over a long run")
    only.add_argument("--scaling", action="store_true",
                      help="only the scaling figure: children/s at 1, 10, 100 parents per symbol "
                           "and 2k, 20k, 200k children (minutes); plot in var/bench/scaling.png")
    bench.add_argument("--soak-children", type=int, default=20_000, metavar="N",
                       help="children the soak sends (default 20,000)")
    bench.add_argument("--scaling-max", type=int, default=None, metavar="N",
                       help="cap every scaling size at N children (default: none, so "
                            "200,000; 2,000 with --quick)")
    return parser


def _print_json(data: Any, path: Path | None = None) -> None:
    text = json.dumps(data, indent=2, default=str)
    print(text)
    if path is not None:
        path.write_text(text + "\n")


def _run(args: argparse.Namespace) -> int:
    from oms.config import Settings

    overrides: dict[str, Any] = {}
    for key in ("host", "port", "venue", "speed", "database_url"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    if args.data is not None:
        overrides["market_data"] = args.data
    if args.debug:
        overrides["debug"] = True
    overrides.update(_routing_overrides(args))
    settings = Settings(**overrides)
    if args.confirm_production:
        settings.binance.confirm_production = True
    from app import serve

    serve(settings)
    return 0


def _backtest(args: argparse.Namespace) -> int:
    if args.scenario == "almgren-chriss-2000":
        from oms.scenarios.almgren_chriss import run_almgren_chriss

        _print_json(run_almgren_chriss(paths=args.paths, seed=args.seed), args.json)
        return 0
    from oms.backtest import BacktestSpec, run_backtest
    from oms.config import Settings
    from oms.market.kline_cache import cache_at
    from oms.market.klines import DEFAULT_CACHE

    l2_files = {"--book": args.book, "--depth": args.depth, "--trades": args.trades}
    if any(path is not None for path in l2_files.values()):
        return _l2_backtest(args, l2_files)
    if args.data is None or args.start is None:
        print("oms backtest: --data and --start are required (or --book, --depth and --trades, "
              "or --scenario)", file=sys.stderr)
        return 2
    spec = BacktestSpec.parse(data=args.data, symbol=args.symbol or "BTCUSDT", side=args.side,
                              quantity=args.quantity, algo=args.algo, start=args.start,
                              duration_minutes=args.duration_minutes, urgency=args.urgency,
                              seed=args.seed)
    cache = DEFAULT_CACHE if args.kline_cache is None else cache_at(args.kline_cache)
    routing = _routing_overrides(args)
    settings = Settings(**routing) if routing else None
    _print_json(run_backtest(spec, kline_cache=cache, settings=settings), args.json)
    return 0


def _l2_backtest(args: argparse.Namespace, files: dict[str, Path | None]) -> int:
    from oms.backtest import L2BacktestSpec, run_l2_backtest

    missing = [name for name, path in files.items() if path is None]
    if missing:
        print(f"oms backtest: --book, --depth and --trades go together ({', '.join(missing)} "
              f"missing)", file=sys.stderr)
        return 2
    if args.data is not None:
        print("oms backtest: --data (klines) excludes --book/--depth/--trades (L2 replay)",
              file=sys.stderr)
        return 2
    spec = L2BacktestSpec.parse(book=args.book, depth=args.depth, trades=args.trades,
                                symbol=args.symbol, side=args.side, quantity=args.quantity,
                                algo=args.algo, start=args.start,
                                duration_minutes=args.duration_minutes, urgency=args.urgency,
                                seed=args.seed)
    _print_json(run_l2_backtest(spec), args.json)
    return 0


def _report(args: argparse.Namespace) -> int:
    from oms.config import Settings
    from oms.persistence import Database, Repository
    from oms.tca.daily import daily_summary

    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    database = Database(settings.database_url)
    database.migrate()
    repo = Repository(database)
    if args.daily:
        _print_json(daily_summary(repo.reports()))
        return 0
    report = repo.report(None if args.latest else args.session)
    if report is None:
        print(f"no report for {'the latest session' if args.latest else args.session}",
              file=sys.stderr)
        return 1
    _print_json(report)
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.soak:
        from benchmarks.soak_bench import measure

        if args.soak_children <= 0:
            print("oms bench: --soak-children must be positive", file=sys.stderr)
            return 2
        _print_json(measure(args.soak_children))
        return 0
    if args.scaling:
        from benchmarks.engine_bench import SLICES
        from benchmarks.scaling_bench import QUICK_MAX_CHILDREN, run_scaling

        if args.scaling_max is not None and args.scaling_max < SLICES:
            print(f"oms bench: --scaling-max must be at least {SLICES} (one parent)",
                  file=sys.stderr)
            return 2
        cap = args.scaling_max if args.scaling_max is not None else (
            QUICK_MAX_CHILDREN if args.quick else None)
        _print_json({"engine_scaling": run_scaling(max_children=cap)})
        return 0
    from benchmarks.run import run_all

    _print_json(run_all(quick=args.quick))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``oms`` console script."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step is noise
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "backtest": _backtest, "report": _report, "bench": _bench,
                **CLUSTER_HANDLERS}
    from pydantic import ValidationError as SettingsError

    try:
        return handlers[args.command](args)
    except OmsError as exc:
        print(f"oms {args.command}: {exc}", file=sys.stderr)
        return 2
    except SettingsError as exc:  # a refused setting: its name and why (inputs never echoed)
        print(f"oms {args.command}: invalid settings: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
