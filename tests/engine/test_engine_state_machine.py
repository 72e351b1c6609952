"""A stateful property test over the real engine (paper venue, SQLite file, TestClock).

Random sequences of rebalances (sequential and several in one tick), signals, cancels,
kill/resume, clock steps, venue faults (rejects, latency spikes, outages) and engine restarts on
the same SQLite file. After every step: each parent's filled quantity is the sum of its
children's fills; no child over-filled; client order ids unique; positions and cash are what the
fills imply; no spot position below zero; the order-rate limit held in every rolling minute; a
halt survives a restart; no tick failed. Deterministic (derandomized), bounded in size.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import defaultdict
from concurrent.futures import Future
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from oms_harness import T_START
from sqlalchemy import select

from oms.bootstrap import Oms, build_oms
from oms.clock import TestClock
from oms.config import RiskLimits, Settings
from oms.errors import OmsError
from oms.model import Account, IdGenerator, TradingState
from oms.persistence.rows import fill_from_row
from oms.persistence.tables import ChildOrderRow, FillRow, ParentOrderRow

D = Decimal
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
LIMITS = RiskLimits(max_orders_per_minute=20)


def _answer(future: Future[Any]) -> None:
    """Wait for a command's answer; a refusal (halted, a limit, a bad id) is a clear answer."""
    with contextlib.suppress(OmsError):
        future.result(timeout=1)


class EngineMachine(RuleBasedStateMachine):
    """The engine driven as a desk and a hostile world would."""

    def __init__(self) -> None:
        super().__init__()
        self._dir = tempfile.TemporaryDirectory()
        self.db = Path(self._dir.name) / "oms.db"
        self.clock = TestClock(T_START)
        self.settings = Settings(database_url=f"sqlite:///{self.db}", risk=LIMITS)
        self.builds = 0
        self.oms = self._build()
        self.halted_before_restart = False

    def _build(self) -> Oms:
        # ids from a fixed token per process (a restart is a new one): the same run every time,
        # so hypothesis can replay an example (a wall-clock token made examples differ)
        self.builds += 1
        oms = build_oms(self.settings, clock=self.clock, ids=IdGenerator(f"sm{self.builds}"))
        oms.engine.start()
        oms.engine.tick()
        return oms

    def teardown(self) -> None:
        self.oms.close()
        self._dir.cleanup()

    # -- rules ------------------------------------------------------------------------------

    @rule(batch=st.lists(st.dictionaries(st.sampled_from(SYMBOLS),
                                           st.integers(0, 4000).map(D), min_size=1),
                           min_size=1, max_size=3),
          algo=st.sampled_from(["market", "twap", "auto"]))
    def rebalance(self, batch: list[dict[str, Decimal]], algo: str) -> None:
        futures = []
        for target in batch:
            with contextlib.suppress(OmsError):
                futures.append(self.oms.service.submit_rebalance(
                    target, algo, duration_minutes=2, wait=False))
        self.oms.engine.tick()
        for future in futures:
            _answer(future)

    @rule(symbol=st.sampled_from(SYMBOLS), side=st.sampled_from(["BUY", "SELL"]),
          size=st.integers(20, 1500))
    def signal(self, symbol: str, side: str, size: int) -> None:
        try:
            future = self.oms.service.submit_signal(symbol, side, size, 0.8, 0.5, wait=False)
        except OmsError:
            return
        self.oms.engine.tick()
        _answer(future)

    @rule(data=st.data())
    def cancel_parent(self, data: st.DataObject) -> None:
        working = [p.parent_id for p in self.oms.service.snapshot().parents
                   if p.state == "WORKING"]
        if not working:
            return
        future = self.oms.service.cancel_parent(data.draw(st.sampled_from(working)), wait=False)
        self.oms.engine.tick()
        _answer(future)

    @rule()
    def kill(self) -> None:
        self.oms.service.kill("state machine kill", actor="test")
        self.oms.engine.tick()
        assert self.oms.service.snapshot().trading_state is TradingState.HALTED

    @rule()
    def resume(self) -> None:
        future = self.oms.service.resume("state machine resume", wait=False)
        self.oms.engine.tick()
        _answer(future)

    @rule(seconds=st.integers(1, 40))
    def advance(self, seconds: int) -> None:
        for _ in range(seconds):
            self.clock.advance(timedelta(seconds=1))
            self.oms.engine.tick(publish=False)
        self.oms.engine.tick()

    @rule(rate=st.sampled_from([0.0, 0.3, 1.0]))
    def venue_rejects(self, rate: float) -> None:
        self.oms.venue.faults.reject_rate = rate  # type: ignore[attr-defined]

    @rule(seconds=st.integers(1, 20))
    def venue_outage(self, seconds: int) -> None:
        now = self.clock.now()
        self.oms.venue.faults.add_outage(now, now + timedelta(seconds=seconds))  # type: ignore[attr-defined]

    @rule(extra_ms=st.sampled_from([200.0, 3000.0]))
    def latency_spike(self, extra_ms: float) -> None:
        now = self.clock.now()
        self.oms.venue.faults.add_latency_spike(  # type: ignore[attr-defined]
            now, now + timedelta(seconds=10), extra_ms)

    @precondition(lambda self: self.db.exists())
    @rule()
    def restart(self) -> None:
        self.halted_before_restart = (
            self.oms.service.snapshot().trading_state is TradingState.HALTED)
        self.oms.close()
        self.oms = self._build()
        if self.halted_before_restart:
            assert self.oms.service.snapshot().trading_state is TradingState.HALTED

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def no_tick_failed(self) -> None:
        assert self.oms.engine.failures == 0, self.oms.engine.last_error

    @invariant()
    def books_add_up(self) -> None:
        with self.oms.database.session() as s:
            parents = s.scalars(select(ParentOrderRow)).all()
            children = s.scalars(select(ChildOrderRow)).all()
            fills = [fill_from_row(r) for r in s.scalars(select(FillRow))]
        by_child: dict[str, Decimal] = defaultdict(Decimal)
        by_parent: dict[str, Decimal] = defaultdict(Decimal)
        for fill in fills:
            by_child[fill.client_order_id] += fill.quantity
            by_parent[fill.parent_id] += fill.quantity
        assert len({f.fill_id for f in fills}) == len(fills)
        for child in children:
            assert D(str(child.filled_quantity)) == by_child[child.client_order_id]
            assert D(str(child.filled_quantity)) <= D(str(child.quantity)), child.client_order_id
        for parent in parents:
            assert D(str(parent.filled_quantity)) == by_parent[parent.parent_id]
            assert D(str(parent.filled_quantity)) <= D(str(parent.quantity))
        implied = Account(cash=self.settings.starting_balance)
        for fill in sorted(fills, key=lambda f: (f.ts, f.fill_id)):
            implied.apply_fill(fill)
        account = self.oms.engine.account
        assert account.cash == implied.cash
        for symbol in SYMBOLS:
            held = account.position(symbol).quantity
            assert held == implied.position(symbol).quantity
            assert held >= 0, f"{symbol} went short: {held}"
        assert account.cash >= 0

    @invariant()
    def order_rate_held_in_every_rolling_minute(self) -> None:
        with self.oms.database.session() as s:
            sent = sorted(ts for ts in s.scalars(
                select(ChildOrderRow.sent_at).where(ChildOrderRow.sent_at.is_not(None))))
        limit = LIMITS.max_orders_per_minute
        start = 0
        for end, ts in enumerate(sent):
            while ts - sent[start] >= timedelta(seconds=60):
                start += 1
            assert end - start + 1 <= limit, f"{end - start + 1} orders in a minute at {ts}"


EngineMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestEngineMachine = EngineMachine.TestCase
