"""Builds the immutable EngineSnapshot from the engine's state (engine thread only)."""

from __future__ import annotations

import heapq
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from oms.config import Settings
from oms.engine.book import BookView
from oms.engine.quotes import QuoteBoard
from oms.model import Account, TradingState
from oms.rebalance import PlanInputs
from oms.reconciliation import ReconcileView
from oms.snapshot import EngineSnapshot, ExecutionCounts, PositionView, VenueView, parent_view

__all__ = ["MAX_LIVE_PARENTS", "RiskReadout", "build_snapshot"]

MAX_LIVE_PARENTS = 200

_ZERO = Decimal(0)


class RiskReadout(Protocol):
    """What the snapshot shows of risk."""

    @property
    def trading_state(self) -> TradingState: ...

    def daily_pnl(self) -> Decimal: ...
    def breaker_state(self) -> dict[str, dict[str, Any]]: ...
    def usage(self) -> dict[str, dict[str, float]]: ...


def build_snapshot(*, book: BookView, account: Account, quotes: QuoteBoard, risk: RiskReadout,
                   settings: Settings, now: datetime, tick: int, venue: str, venue_status: str,
                   halt_reason: str, market_symbols: list[str], last_error: str | None,
                   plan_inputs: PlanInputs | None,
                   reconciliation: ReconcileView | None = None,
                   executions: ExecutionCounts | None = None,
                   venues: tuple[VenueView, ...] = ()) -> EngineSnapshot:
    """Freeze what the live panels need: positions, working parents, fills, risk state."""
    mids = quotes.mids()
    symbols = list(dict.fromkeys([*settings.symbols, *account.positions]))
    positions = []
    for symbol in symbols:
        pos = account.position(symbol)
        mid = mids.get(symbol)
        mark = mid if mid is not None else pos.avg_cost
        positions.append(PositionView(
            symbol, pos.quantity, pos.avg_cost, mid, pos.quantity * mark,
            pos.unrealised_pnl(mark) if pos.quantity else _ZERO, pos.realised_pnl,
            book.targets.get(symbol)))
    equity = account.equity(mids)
    # the newest working parents (the blotter pages the rest from the database)
    newest = heapq.nlargest(MAX_LIVE_PARENTS, book.parents.values(), key=lambda p: p.created_at)
    working = [parent_view(p, now, book.working_count(p.parent_id), mids.get(p.symbol))
               for p in newest]
    parents = tuple(working) + tuple(reversed(list(book.finished)))
    cancels_unconfirmed, unresolved = book.awaiting_venue(now)
    return EngineSnapshot(
        ts=now, wall_ts=datetime.now(UTC), tick=tick, venue=venue,
        trading_state=risk.trading_state, halt_reason=halt_reason,
        cash=account.cash, equity=equity, pnl=equity - settings.starting_balance,
        daily_pnl=risk.daily_pnl(), mids=mids, positions=tuple(positions), parents=parents,
        recent_fills=tuple(reversed(list(book.recent_fills))), breakers=risk.breaker_state(),
        risk_usage=risk.usage(), market_open={s: s in quotes.quotes for s in market_symbols},
        counts={"working_parents": len(book.parents),
                "open_children": len(book.open_children),
                "cancels_unconfirmed": cancels_unconfirmed, "sends_unresolved": unresolved},
        last_error=last_error, venue_status=venue_status, plan_inputs=plan_inputs,
        reconciliation=reconciliation, quotes=dict(quotes.quotes),
        executions=executions or ExecutionCounts(), venues=venues,
    )
