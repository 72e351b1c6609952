"""A soak of the real engine against the loopback Binance: market time on a TestClock, faults
from a seeded RNG, and at the end what the OMS believes beside what the server holds.

``run_soak(minutes, seed)`` builds the engine (SQLite in a temporary directory) on a
``FakeBinance`` whose clock is the engine's TestClock, then steps one second per tick: late
placements run, the book walks, resting orders fill at random, REST faults (timeouts, 5xx,
429, failed cancels), stream faults (drops, duplicates, reorders, disconnects), visibility lag
and the commission asset change, rebalances come every few minutes with various algorithms, and
once a kill switch is thrown and later released. Then the parents are canceled and the run
drains until nothing is open or pending. ``SoakResult`` holds the observations the checks in
``test_binance_soak`` compare. Run ``python tests/venues/binance/binance_soak.py --minutes 60``
for a run with a progress line.
"""

from __future__ import annotations

import argparse
import logging
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script: the repository root and this folder importable
    sys.path[:0] = [str(Path(__file__).resolve().parents[3]), str(Path(__file__).parent)]

from binance_helpers import API_KEY, API_SECRET, ENV, START, FakeTransport
from fake_binance_matching import OPEN
from fake_binance_server import FakeBinance, Fault

from oms.bootstrap import Oms, build_oms
from oms.clock import TestClock
from oms.config import BinanceSettings, Settings
from oms.model.enums import ParentState
from oms.risk.halt import HaltGate
from oms.venues.binance import BinanceVenue
from oms.venues.binance_factory import build_binance_market, build_binance_venue

__all__ = ["SoakResult", "run_soak"]

SYMBOLS = ("BTCUSDT", "ETHUSDT")
STEP = Decimal("0.00001")
TICK_S = 1.0
DRAIN_TICKS = 900  # at most 15 minutes of market time to settle everything at the end
REQUEST_TIMEOUT_S = 0.5  # the venue gives up on a request this soon (real seconds): a
# loopback answer on a loaded machine stays well inside it
HOLD_S = 0.7  # a timeout fault holds its answer this long: past the venue's timeout
ALGOS = ("twap", "vwap", "iceberg", "market")
# (method, path, kind, weight): the REST faults drawn, each at most once queued at a time
REST_FAULTS = (
    ("POST", "/api/v3/order", "timeout_then_place", 3),
    ("POST", "/api/v3/order", "timeout_never_placed", 2),
    ("POST", "/api/v3/order", "500_then_place", 3),
    ("POST", "/api/v3/order", "-1007_then_place", 3),
    ("POST", "/api/v3/order", "timeout_after_accept", 2),
    ("POST", "/api/v3/order", "500", 2),
    ("POST", "/api/v3/order", "429", 1),
    ("DELETE", "/api/v3/order", "500", 3),
    ("DELETE", "/api/v3/order", "cancel_500_after_cancel", 3),
    ("GET", "/api/v3/order", "500", 2),
    ("GET", "/api/v3/openOrders", "500", 1),
    ("GET", "/api/v3/ticker/bookTicker", "500", 1),
    ("GET", "/api/v3/ticker/bookTicker", "429", 1),
)
_FAULT_RATE = 0.08  # per tick
_FILL_RATE = 0.2  # per tick: one resting order trades (partly or whole)


@dataclass
class SoakResult:
    """What a soak did and what it ended with: the OMS's view beside the server's."""

    minutes: float
    seed: int
    ticks: int = 0
    drain_ticks: int = 0
    runtime_s: float = 0.0
    rebalances: int = 0
    rebalances_refused: list[str] = field(default_factory=list)
    orders_sent: int = 0  # POST /api/v3/order requests
    server_fills: int = 0  # trades at the server, booked or not
    faults: Counter[str] = field(default_factory=Counter)  # fired, by "METHOD path kind"
    stream_faults: Counter[str] = field(default_factory=Counter)
    unknown_outcomes: set[str] = field(default_factory=set)  # cids ever of unknown outcome
    cancels_retried: int = 0  # client order ids whose cancel went out more than once
    kill_at_tick: int | None = None
    resume_at_tick: int | None = None
    resume_error: str = ""
    commission_assets: Counter[str] = field(default_factory=Counter)  # fills per fee asset
    # the end state
    oms_base: dict[str, Decimal] = field(default_factory=dict)  # account quantity per asset
    server_base: dict[str, Decimal] = field(default_factory=dict)
    oms_cash: Decimal = Decimal(0)
    server_usdt: Decimal = Decimal(0)
    oms_other_fees: dict[str, Decimal] = field(default_factory=dict)  # BNB paid, per the OMS
    server_other_spent: dict[str, Decimal] = field(default_factory=dict)
    server_open: list[str] = field(default_factory=list)  # GET openOrders at the end
    server_open_any: list[str] = field(default_factory=list)  # incl. not yet visible
    pending_placements: int = 0
    oms_open: list[str] = field(default_factory=list)  # children the engine holds open
    venue_working: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # unknown outcomes still pending
    unconfirmed_cancels: list[str] = field(default_factory=list)
    trade_fill_ids: list[str] = field(default_factory=list)  # f"{symbol}-{id}" per server trade
    db_fill_ids: list[str] = field(default_factory=list)
    child_fill_gaps: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    duplicate_cids: list[str] = field(default_factory=list)
    halted: bool = False
    halt_reason: str | None = None
    last_error: str | None = None
    mismatches: list[str] = field(default_factory=list)  # reconciliation findings seen
    halts: list[tuple[int, str]] = field(default_factory=list)  # (tick, reason) as they began
    breakers_rearmed: list[tuple[int, str]] = field(default_factory=list)  # by the operator
    dropped_reports: list[str] = field(default_factory=list)  # "cid x/X" lost by the stream

    def summary(self) -> str:
        """The figures, a few lines."""
        faults = ", ".join(f"{k}={v}" for k, v in sorted(self.faults.items()))
        stream = ", ".join(f"{k}={v}" for k, v in sorted(self.stream_faults.items()))
        fees = ", ".join(f"{k}={v}" for k, v in sorted(self.commission_assets.items()))
        return (
            f"soak seed={self.seed}: {self.minutes:g} min of market time in {self.runtime_s:.1f} s"
            f" ({self.ticks} ticks + {self.drain_ticks} to drain)\n"
            f"  rebalances={self.rebalances} (refused {len(self.rebalances_refused)}), "
            f"orders sent={self.orders_sent}, server trades={self.server_fills}, "
            f"fills booked={len(self.db_fill_ids)} (fee assets: {fees})\n"
            f"  REST faults fired={sum(self.faults.values())}: {faults}\n"
            f"  stream faults: {stream}\n"
            f"  unknown outcomes resolved={len(self.unknown_outcomes) - len(self.unresolved)}"
            f"/{len(self.unknown_outcomes)}, cancels retried={self.cancels_retried}, "
            f"kill at tick {self.kill_at_tick}, resume at tick {self.resume_at_tick}, "
            f"breakers re-armed={self.breakers_rearmed}\n"
            f"  end: OMS {self.oms_base} cash {self.oms_cash}; server {self.server_base} "
            f"USDT {self.server_usdt}; reconciliation findings={len(self.mismatches)}, "
            f"halts={self.halts}")


class _Soak:
    """One soak run: the parts, the RNG and the schedule (``run_soak`` is the entry point)."""

    def __init__(self, minutes: float, seed: int, workdir: Path) -> None:
        self.rng = random.Random(seed)
        self.result = SoakResult(minutes, seed)
        self.clock = TestClock(START)
        self.server = FakeBinance(
            API_KEY, API_SECRET, clock=lambda: self.clock.now().timestamp(),
            enforce_limits=True, balances={"USDT": Decimal(100_000), "BNB": Decimal(5)}).start()
        self.transport = FakeTransport(self.server)
        settings = Settings(
            venue="binance-testnet", symbols=list(SYMBOLS),
            database_url=f"sqlite:///{workdir}/soak.db",
            binance=BinanceSettings(rest_base_url=self.server.url,
                                    request_timeout_s=REQUEST_TIMEOUT_S))
        self.market = build_binance_market(settings, clock=self.clock)
        self.venue: BinanceVenue = build_binance_venue(
            settings, HaltGate(), production_confirmed=False, clock=self.clock,
            market=self.market, transport=self.transport, env=ENV)
        self.oms: Oms = build_oms(settings, clock=self.clock, market=self.market, venue=self.venue)
        self.db = workdir / "soak.db"
        self.total_ticks = int(minutes * 60 / TICK_S)
        self.next_rebalance = 5
        self.kill_tick = self.rng.randint(self.total_ticks // 3, max(self.total_ticks // 3,
                                                                     self.total_ticks * 2 // 3))
        self.resume_tick: int | None = None
        self.injected: Counter[str] = Counter()
        self.replies: list[Any] = []  # futures of submitted rebalances
        self._was_halted = False
        self.resume_reply: Any = None

    # --- one tick -------------------------------------------------------------------------

    def step(self, tick: int, *, calm: bool = False) -> None:
        """Advance a second of market time and run the server, the stream and the engine."""
        self.clock.advance(timedelta(seconds=TICK_S))
        self.server.run_due()
        if not calm:
            self._walk_books()
            self._random_fill()
            self._random_faults(tick)
            self._stream_faults()
            self._schedule(tick)
        self.transport.deliver()
        self.transport.reorder = False
        self.oms.engine.tick()
        self._observe(tick)

    def _walk_books(self) -> None:
        with self.server.lock:
            for symbol, (spread, move) in (("BTCUSDT", ("0.10", 20)), ("ETHUSDT", ("0.01", 2))):
                bid = self.server.books[symbol][0] + Decimal(self.rng.randint(-move, move)) \
                    * Decimal("0.01")
                self.server.books[symbol] = (bid, bid + Decimal(spread))

    def _random_fill(self) -> None:
        if self.rng.random() >= _FILL_RATE:
            return
        with self.server.lock:
            resting = [o for o in self.server.orders.values() if o["status"] in OPEN
                       and o["type"] != "MARKET" and self.server.visible(o["orderId"])]
            if not resting:
                return
            order = self.rng.choice(sorted(resting, key=lambda o: o["orderId"]))
            left = Decimal(order["origQty"]) - Decimal(order["executedQty"])
            qty = left
            if self.rng.random() < 0.6 and left > 2 * STEP:
                qty = (left * Decimal(str(self.rng.uniform(0.1, 0.9)))).quantize(
                    STEP, ROUND_DOWN) or STEP
            self.server.fill(order["clientOrderId"], qty, symbol=order["symbol"], maker=True)

    def _random_faults(self, tick: int) -> None:
        server, rng = self.server, self.rng
        if tick % 300 == 150:  # visibility lag on part of the time
            server.visibility_lag_s = rng.choice((0.0, 0.0, 1.5, 3.0))
        if tick % 420 == 60:  # commission in USDT, BNB or the base asset, part of the time each
            server.commission_asset = rng.choice(("USDT", "BNB", "BASE"))
        if rng.random() >= _FAULT_RATE:
            return
        method, path, kind, _ = rng.choices(REST_FAULTS, weights=[f[3] for f in REST_FAULTS])[0]
        with server.lock:
            if any(f.method == method and f.path == path for f in server.faults):
                return  # one queued per endpoint: a burst of them would all hit one request
            server.faults.append(Fault(method, path, kind, retry_after=rng.randint(3, 20),
                                       delay_s=HOLD_S, place_after_s=rng.uniform(0.5, 4.0)))
        self.injected[f"{method} {path} {kind}"] += 1

    def _stream_faults(self) -> None:
        rng, stream, counts = self.rng, self.transport, self.result.stream_faults
        roll = rng.random()
        if roll < 0.004:
            stream.disconnect()
            counts["disconnect"] += 1
        elif roll < 0.014:
            stream.drop_next(1)
            counts["drop"] += 1
        elif roll < 0.034:
            stream.duplicate_next(rng.randint(1, 3))
            counts["duplicate"] += 1
        elif roll < 0.054:
            stream.reorder = True
            counts["reorder"] += 1

    def _schedule(self, tick: int) -> None:
        service = self.oms.service
        if tick == self.kill_tick:
            if self.rng.random() < 0.5:
                self.server.faults.append(Fault("DELETE", "/api/v3/openOrders", "500"))
                self.injected["DELETE /api/v3/openOrders 500"] += 1
            service.kill("soak drill", wait=False)
            self.result.kill_at_tick = tick
            self.resume_tick = tick + self.rng.randint(60, 180)
        if tick == self.resume_tick:
            self.resume_reply = service.resume("soak drill over", wait=False)
            self.result.resume_at_tick = tick
        self._operator(tick)
        drill = self.result.kill_at_tick is not None and self.result.resume_at_tick is None
        if tick >= self.next_rebalance and not drill:
            self._rebalance()
            self.next_rebalance = tick + self.rng.randint(60, 240)

    def _operator(self, tick: int) -> None:
        """A minute after a circuit breaker halted trading, the operator re-arms it and
        resumes: the soak's late placements trip high_latency by design (2 x the placement
        delay is the measured round trip). Any other halt is left for the checks to show."""
        halts = self.result.halts
        if not (self.oms.gate.is_halted and halts and halts[-1][1].startswith("circuit breaker")
                and tick - halts[-1][0] >= 60 and tick % 60 == halts[-1][0] % 60):
            return
        for name in self.oms.engine.risk.tripped_breakers():
            self.oms.service.reset_breaker(name, "soak operator: faults injected", wait=False)
            self.result.breakers_rearmed.append((tick, name))
        self.oms.service.resume("soak operator: breaker re-armed", wait=False)

    def _rebalance(self) -> None:
        targets = {s: str(self.rng.choice((0, 1000, 2500, 4000, 6000, 8000))) for s in SYMBOLS}
        algo = self.rng.choice(ALGOS)
        duration = self.rng.choice((2, 3, 4, 5))
        self.replies.append(self.oms.service.submit_rebalance(
            targets, algo=algo, duration_minutes=duration, wait=False))
        self.result.rebalances += 1

    def _observe(self, tick: int) -> None:
        halted = self.oms.gate.is_halted
        if halted and not self._was_halted:
            self.result.halts.append((tick, str(self.oms.gate.reason)))
        self._was_halted = halted
        self.result.unknown_outcomes.update(self.venue.unknown_outcomes())
        for row in self.oms.service.reconciliation().mismatches:
            text = (f"{row.mismatch_id} {row.kind}: {row.subject} oms={row.oms_view} "
                    f"venue={row.venue_view}")
            if text not in self.result.mismatches:
                self.result.mismatches.append(text)

    # --- the end --------------------------------------------------------------------------

    def settled(self) -> bool:
        """Nothing open or pending anywhere: the OMS, the venue, the server."""
        server = self.server
        with server.lock:
            open_at_server = any(o["status"] in OPEN for o in server.orders.values())
        return not (self.oms.engine.open_children or self.venue.open_order_ids()
                    or self.venue.unknown_outcomes() or self.venue.unconfirmed_cancels()
                    or server.pending_placements() or open_at_server
                    or any(not p.state.is_terminal for p in self.oms.engine.parents.values()))

    def drain(self) -> None:
        """Cancel what still works and tick (calm: no new faults) until everything settled."""
        self.server.faults.clear()
        self.server.visibility_lag_s = 0.0
        if self.oms.gate.is_halted:
            self.oms.service.resume("soak over: draining", wait=False)
        self.oms.engine.tick()
        for parent in list(self.oms.engine.parents.values()):
            if parent.state in (ParentState.WORKING, ParentState.PENDING):
                self.oms.service.cancel_parent(parent.parent_id, wait=False)
        for n in range(DRAIN_TICKS):
            if self.settled():
                break
            self.step(self.total_ticks + n, calm=True)
            self.result.drain_ticks += 1
        for _ in range(3):  # fills of the last moment reach the engine
            self.step(self.total_ticks + self.result.drain_ticks, calm=True)

    def collect(self) -> None:
        """Read the end state from the engine, the venue, the server and the database."""
        res, server, engine = self.result, self.server, self.oms.engine
        if self.resume_reply is not None and self.resume_reply.exception() is not None:
            error = self.resume_reply.exception()
            res.resume_error = f"{type(error).__name__}: {error}"
        for fut in self.replies:
            refused = fut.exception() if fut.done() else None
            if refused is not None:
                res.rebalances_refused.append(f"{type(refused).__name__}: {refused}")
        with server.lock:
            res.faults = Counter(self.injected)
            for f in server.faults:
                res.faults[f"{f.method} {f.path} {f.kind}"] -= 1
            res.faults = +res.faults
            res.server_fills = len(server.trades)
            res.trade_fill_ids = [f"{t['symbol']}-{t['id']}" for t in server.trades]
            res.commission_assets = Counter(t["commissionAsset"] for t in server.trades)
            res.server_base = {s[:-4]: server.balances.get(s[:-4], Decimal(0)) for s in SYMBOLS}
            res.server_usdt = server.balances["USDT"]
            res.server_other_spent = {"BNB": Decimal(5) - server.balances["BNB"]}
            res.server_open_any = sorted(o["clientOrderId"] for o in server.orders.values()
                                         if o["status"] in OPEN)
            res.pending_placements = len(server._due)
            posts = [p.get("newClientOrderId", "") for m, path, p in server.requests
                     if m == "POST" and path == "/api/v3/order"]
            cancels = Counter(p.get("origClientOrderId", "") for m, path, p in server.requests
                              if m == "DELETE" and path == "/api/v3/order")
        res.server_open = sorted(str(o["clientOrderId"]) for o in
                                 self.venue.rest.call("get_open_orders", weight=80))
        res.orders_sent = len(posts)
        res.duplicate_cids = sorted(c for c, n in Counter(posts).items() if n > 1)
        res.cancels_retried = sum(1 for n in cancels.values() if n > 1)
        res.oms_base = {s[:-4]: engine.account.position(s).quantity for s in SYMBOLS}
        res.oms_cash = engine.account.cash
        res.oms_other_fees = dict(engine.account.other_asset_fees)
        res.oms_open = sorted(engine.open_children)
        res.venue_working = self.venue.open_order_ids()
        res.unresolved = self.venue.unknown_outcomes()
        res.unconfirmed_cancels = self.venue.unconfirmed_cancels()
        res.halted, res.halt_reason = self.oms.gate.is_halted, self.oms.gate.reason
        res.last_error = engine.last_error
        res.dropped_reports = [f"{m['c'] or m['C']} {m['x']}/{m['X']}"
                               for m in self.transport.dropped]

    def read_database(self) -> None:
        """Fills and children as persisted (read with sqlite3, not through the OMS)."""
        con = sqlite3.connect(self.db)
        try:
            self.result.db_fill_ids = [r[0] for r in con.execute("SELECT fill_id FROM fills")]
            booked: dict[str, Decimal] = {}
            for cid, qty in con.execute("SELECT client_order_id, quantity FROM fills"):
                booked[cid] = booked.get(cid, Decimal(0)) + Decimal(qty)
            for cid, filled in con.execute(
                    "SELECT client_order_id, filled_quantity FROM child_orders"):
                if Decimal(filled) != booked.get(cid, Decimal(0)):
                    self.result.child_fill_gaps[cid] = (Decimal(filled),
                                                        booked.get(cid, Decimal(0)))
        finally:
            con.close()


def run_soak(minutes: float, seed: int, *, workdir: Path | None = None,
             progress: Callable[[int, int], None] | None = None) -> SoakResult:
    """Soak the engine ``minutes`` of market time with faults drawn from ``seed``."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="oms-soak-") as tmp:
        soak = _Soak(minutes, seed, workdir or Path(tmp))
        try:
            soak.oms.engine.tick()
            for tick in range(soak.total_ticks):
                soak.step(tick)
                soak.result.ticks += 1
                if progress is not None:
                    progress(tick + 1, soak.total_ticks)
            soak.drain()
            soak.collect()
        finally:
            soak.oms.close()
            soak.server.stop()
        soak.read_database()
    soak.result.runtime_s = time.perf_counter() - began
    return soak.result


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    began = time.perf_counter()

    def show(done: int, total: int) -> None:
        if done % max(1, total // 20) == 0 or done == total:
            print(f"  {done}/{total} ticks ({100 * done // total}%), "
                  f"{time.perf_counter() - began:.0f} s", flush=True)

    print(run_soak(args.minutes, args.seed, progress=show).summary())


if __name__ == "__main__":
    _main()
