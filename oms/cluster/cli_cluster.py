"""The split deployment's subcommands of ``oms``: ``engine``, ``web``, ``accounts add|list``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["HANDLERS", "add_cluster_commands"]


def add_cluster_commands(sub: Any) -> None:
    """Register ``oms engine``, ``oms web`` and ``oms accounts`` on the ``oms`` parser."""
    engine = sub.add_parser("engine", help="run one account's engine (PostgreSQL, no web "
                                           "server; a second one is a hot standby)")
    engine.add_argument("--account", required=True)
    engine.add_argument("--venue", choices=["paper", "binance-testnet", "binance"], default=None)
    engine.add_argument("--data", type=Path, default=None, help="replay this kline file")
    engine.add_argument("--speed", type=float, default=None, help="market clock speed factor")
    engine.add_argument("--database-url", default=None, help="PostgreSQL (OMS_DATABASE_URL)")
    engine.add_argument("--command-batch", type=int, default=500, metavar="N",
                        help="commands applied per tick at most (default 500)")
    engine.add_argument("--lease-timeout", type=float, default=5.0, metavar="S",
                        help="a standby evicts an active engine silent this long (default 5)")
    web = sub.add_parser("web", help="run the dashboard and the REST API under gunicorn (no "
                                     "engine inside; PostgreSQL)")
    web.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    web.add_argument("--port", type=int, default=None, help="port (default 8050)")
    web.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    web.add_argument("--account", default=None,
                     help="the default account, of a request that names none (OMS_ACCOUNT); "
                          "every account is served")
    web.add_argument("--database-url", default=None, help="PostgreSQL (OMS_DATABASE_URL)")
    accounts = sub.add_parser("accounts", help="manage the accounts of the split deployment")
    verbs = accounts.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="create an account (never give a secret here)")
    add.add_argument("name")
    add.add_argument("--venue", choices=["paper", "binance-testnet", "binance"], default="paper")
    add.add_argument("--key-file", default=None,
                     help="where the keys live: a file path or env var names, not the keys")
    add.add_argument("--setting", action="append", default=[], metavar="NAME=JSON",
                     help="an engine setting of this account, e.g. starting_balance=50000")
    for parser in (add, verbs.add_parser("list", help="print the accounts as JSON lines")):
        parser.add_argument("--database-url", default=None)


def _database_url(args: argparse.Namespace) -> str:
    from oms.cluster.accounts import require_postgresql
    from oms.config import Settings

    given: dict[str, Any] = {"database_url": args.database_url} if args.database_url else {}
    url = Settings(**given).database_url
    require_postgresql(url, f"oms {args.command}")
    return url


def _engine(args: argparse.Namespace) -> int:
    from oms.cluster.engine_main import EngineOptions, run_engine

    return run_engine(EngineOptions(account=args.account, venue=args.venue, data=args.data,
                                    speed=args.speed, database_url=args.database_url,
                                    lease_timeout_s=args.lease_timeout,
                                    command_batch=args.command_batch))


def _web(args: argparse.Namespace) -> int:
    from oms.cluster.web_main import run_web

    return run_web(host=args.host, port=args.port, workers=args.workers,
                   database_url=args.database_url, account=args.account)


def _setting(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise SystemExit(f"oms accounts: --setting takes NAME=VALUE, got {text!r:.60}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def _accounts(args: argparse.Namespace) -> int:
    from oms.cluster.accounts import add_account, list_accounts
    from oms.persistence.database import Database

    database = Database(_database_url(args))
    try:
        if args.verb == "add":
            infos = [add_account(database, args.name, venue=args.venue,
                                 settings=dict(_setting(s) for s in args.setting),
                                 key_file=args.key_file)]
        else:
            infos = list_accounts(database)
        for info in infos:
            print(json.dumps({"name": info.name, "venue": info.venue, "schema": info.schema,
                              "settings": info.settings,
                              "key_file": info.key_file,
                              "created_at": info.created_at.isoformat()}))
    finally:
        database.dispose()
    sys.stdout.flush()
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "engine": _engine, "web": _web, "accounts": _accounts}
