"""Builds the immutable EngineSnapshot from the engine's state (engine thread only)."""

from __future__ import annotations

import heapq
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from oms.snapshot import EngineSnapshot, PositionView, parent_view

if TYPE_CHECKING:
    from oms.engine import ExecutionEngine

__all__ = ["MAX_LIVE_PARENTS", "build_snapshot"]

MAX_LIVE_PARENTS = 200

_ZERO = Decimal(0)


def build_snapshot(engine: ExecutionEngine, now: datetime) -> EngineSnapshot:
    """Freeze what the live panels need: positions, working parents, fills, risk state."""
    mids = {s: q.mid for s, q in engine.quotes.items()}
    account = engine.account
    symbols = list(dict.fromkeys([*engine.settings.symbols, *account.positions]))
    positions = []
    for symbol in symbols:
        pos = account.position(symbol)
        mid = mids.get(symbol)
        mark = mid if mid is not None else pos.avg_cost
        positions.append(PositionView(
            symbol, pos.quantity, pos.avg_cost, mid, pos.quantity * mark,
            pos.unrealised_pnl(mark) if pos.quantity else _ZERO, pos.realised_pnl,
            engine.targets.get(symbol)))
    equity = account.equity(mids)
    # the newest working parents (the blotter pages the rest from the database)
    newest = heapq.nlargest(MAX_LIVE_PARENTS, engine.parents.values(), key=lambda p: p.created_at)
    working = [parent_view(p, now, len(engine.working.get(p.parent_id, {})), mids.get(p.symbol))
               for p in newest]
    parents = tuple(working) + tuple(reversed(engine.finished))
    risk = engine.risk
    return EngineSnapshot(
        ts=now, wall_ts=datetime.now(UTC), tick=engine.tick_count, venue=engine.venue.name,
        trading_state=risk.trading_state, halt_reason=engine.gate.reason,
        cash=account.cash, equity=equity, pnl=equity - engine.settings.starting_balance,
        daily_pnl=risk.daily_pnl(), mids=mids, positions=tuple(positions), parents=parents,
        recent_fills=tuple(reversed(engine.recent_fills)), breakers=risk.breaker_state(),
        risk_usage=risk.usage(),
        market_open={s: s in engine.quotes for s in engine.market.symbols},
        counts={"working_parents": len(engine.parents),
                "open_children": len(engine.open_children)},
        last_error=engine.last_error, venue_status=engine.venue.status_text(),
    )
