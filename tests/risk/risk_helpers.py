"""Builders shared by the risk tests: orders, quotes and risk contexts with sane defaults."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from oms.clock import TestClock
from oms.config import CircuitBreakerSettings, RiskLimits, Settings
from oms.engine.quotes import QuoteBoard
from oms.engine.risk_guard import RiskGuard
from oms.market.types import Quote
from oms.model.enums import ChildState, Liquidity, OrderType, Side, TradingState
from oms.model.orders import ChildOrder, Fill
from oms.model.portfolio import Account
from oms.model.rejection import Rejection
from oms.risk.halt import HaltGate
from oms.risk.pretrade import OpenQty, RiskContext
from oms.venues.filters import SymbolFilters

__all__ = ["T0", "D", "FakeEngine", "make_ctx", "make_order", "make_quote"]

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def D(value: str | int) -> Decimal:
    """Shorthand for Decimal(str)."""
    return Decimal(str(value))


def make_order(
    *,
    symbol: str = "BTCUSDT",
    side: Side = Side.BUY,
    quantity: str | Decimal = "0.01",
    order_type: OrderType = OrderType.MARKET,
    limit_price: str | Decimal | None = None,
    parent_id: str = "p1",
    at: datetime = T0,
) -> ChildOrder:
    """A child order (market by default)."""
    return ChildOrder(
        client_order_id=f"c{next(_ids)}",
        parent_id=parent_id,
        symbol=symbol,
        side=side,
        quantity=Decimal(str(quantity)),
        order_type=order_type,
        created_at=at,
        venue="paper",
        limit_price=None if limit_price is None else Decimal(str(limit_price)),
    )


def make_quote(symbol: str = "BTCUSDT", mid: str | Decimal = "50000", half_spread: str = "1",
               at: datetime = T0) -> Quote:
    """A quote around ``mid``."""
    m, h = Decimal(str(mid)), Decimal(half_spread)
    return Quote(symbol, at, m - h, m + h, D(5), D(5))


def make_ctx(
    *,
    now: datetime = T0,
    state: TradingState = TradingState.ACTIVE,
    symbol: str = "BTCUSDT",
    mid: str | Decimal | None = "50000",
    quote: bool = True,
    position: str | Decimal = "0",
    positions: Mapping[str, Decimal] | None = None,
    mids: Mapping[str, Decimal] | None = None,
    daily_pnl: str | Decimal = "0",
    open_orders: Mapping[str, OpenQty] | None = None,
    filters: SymbolFilters | None = None,
) -> RiskContext:
    """A context for one order in ``symbol``; ``quote=False`` leaves only ``mids``."""
    all_mids = dict(mids or {})
    if mid is not None:
        all_mids.setdefault(symbol, Decimal(str(mid)))
    pos = Decimal(str(position))
    all_positions = dict(positions or {})
    all_positions[symbol] = pos
    return RiskContext(
        now=now,
        trading_state=state,
        quote=make_quote(symbol, mid, at=now) if quote and mid is not None else None,
        filters=filters or SymbolFilters(symbol),
        position_qty=pos,
        mids=all_mids,
        positions=all_positions,
        daily_pnl=Decimal(str(daily_pnl)),
        open_orders=dict(open_orders or {}),
    )


class FakeJournal:
    """Records what the guard journals (risk events and audit rows)."""

    def __init__(self) -> None:
        self.risk_events: list[tuple[str, str, str]] = []  # (kind, code, message)
        self.audits: list[str] = []

    def risk_event(self, ts: datetime, kind: str, code: str, message: str, *,
                   symbol: str | None = None, entity_id: str | None = None,
                   actor: str = "engine", payload: dict[str, Any] | None = None) -> None:
        self.risk_events.append((kind, code, message))

    def audit(self, ts: datetime, event: str, entity_id: str, payload: dict[str, Any],
              actor: str = "engine") -> None:
        self.audits.append(event)


class FakeEngine:
    """The parts of an engine a RiskGuard reads, driven by hand like the engine's tick:
    ``batch`` (a dispatch begins), ``new_child`` (into the open children), ``check`` (a denied
    child is closed at once), ``send``, ``fill``, ``close``; ``shock`` moves a quote."""

    def __init__(self, *, cash: str | Decimal = "100000", risk: RiskLimits | None = None,
                 breakers: CircuitBreakerSettings | None = None,
                 positions: Mapping[str, str] | None = None) -> None:
        self.settings = Settings(risk=risk or RiskLimits(),
                                 breakers=breakers or CircuitBreakerSettings())
        self.gate = HaltGate()
        self.clock = TestClock(T0)
        self.journal = FakeJournal()
        self.account = Account(cash=Decimal(str(cash)))
        for symbol, qty in (positions or {}).items():
            self.account.position(symbol).quantity = Decimal(qty)
        self._quotes: dict[str, Quote] = {"BTCUSDT": make_quote("BTCUSDT", "50000"),
                                          "ETHUSDT": make_quote("ETHUSDT", "3000")}
        self.board = QuoteBoard()
        self.board.refresh(self)  # type: ignore[arg-type]  # the market part: symbols, quote
        self.open_children: dict[str, ChildOrder] = {}
        self._fills = itertools.count(1)

    # the market side QuoteBoard.refresh reads
    @property
    def symbols(self) -> list[str]:
        return list(self._quotes)

    def quote(self, symbol: str) -> Quote:
        return self._quotes[symbol]

    def guard(self) -> RiskGuard:
        """A RiskGuard on this engine, past its first tick."""
        guard = RiskGuard(settings=self.settings, gate=self.gate, account=self.account,
                          quotes=self.board, book=self,  # type: ignore[arg-type]
                          filters=SymbolFilters, journal=self.journal,  # type: ignore[arg-type]
                          clock=self.clock)
        guard.on_tick(self.clock.now())
        guard.begin_batch()
        return guard

    def tick(self, guard: RiskGuard, seconds: float = 0.0) -> None:
        """Advance the clock and run the risk part of a tick up to its dispatch."""
        self.clock.advance(timedelta(seconds=seconds))
        guard.on_tick(self.clock.now())
        guard.begin_batch()

    def new_child(self, **kwargs: Any) -> ChildOrder:
        """A child in the open children (as the engine adds it before the check)."""
        child = make_order(at=self.clock.now(), **kwargs)
        self.open_children[child.client_order_id] = child
        return child

    def check(self, guard: RiskGuard, child: ChildOrder) -> Rejection | None:
        """Check one child like the engine's dispatch: a denied child is closed at once."""
        rejection = guard.check(child, self.clock.now())
        if rejection is not None:
            self.close(child, ChildState.REJECTED)
        return rejection

    def send(self, child: ChildOrder) -> None:
        child.sent_at = self.clock.now()

    def fill(self, child: ChildOrder, quantity: str | Decimal, price: str | Decimal) -> Fill:
        """Apply a fill to the child and the account."""
        fill = Fill(f"f{next(self._fills)}", child.client_order_id, child.parent_id,
                    child.symbol, child.side, Decimal(str(price)), Decimal(str(quantity)),
                    Decimal(0), Liquidity.TAKER, self.clock.now(), "paper")
        child.apply_fill(fill)
        self.account.apply_fill(fill)
        if child.state.is_terminal:
            self.open_children.pop(child.client_order_id, None)
        return fill

    def close(self, child: ChildOrder, state: ChildState) -> None:
        child.transition(state, self.clock.now())
        self.open_children.pop(child.client_order_id, None)

    def advance(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    def shock(self, symbol: str, mid: str | Decimal) -> None:
        """The market's quote of ``symbol`` moves to ``mid`` (seen at the next refresh)."""
        self._quotes[symbol] = make_quote(symbol, mid, at=self.clock.now())
        self.board.refresh(self)  # type: ignore[arg-type]
