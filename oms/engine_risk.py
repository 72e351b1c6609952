"""RiskGuard: the engine's side of risk: builds each order's RiskContext, feeds the breakers,
keeps the trading state and turns a breaker trip into REDUCING or a full halt."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from oms.model import ChildOrder, Fill, ParentOrder, Side, TradingState
from oms.risk.breakers import BreakerTrip, CircuitBreakers
from oms.risk.pretrade import OpenQty, PreTradeRisk, RiskContext
from oms.risk.state import TradingStateChanged, TradingStateMachine
from oms.risk.violations import Violation

if TYPE_CHECKING:
    from oms.engine import ExecutionEngine

__all__ = ["RiskGuard"]

_ZERO = Decimal(0)


class RiskGuard:
    """Pre-trade checks, circuit breakers and trading state, wired to one engine."""

    def __init__(self, engine: ExecutionEngine) -> None:
        self.engine = engine
        settings = engine.settings
        self.pretrade = PreTradeRisk(settings.risk, settings.symbols)
        self.state = TradingStateMachine(gate=engine.gate)
        self.breakers = CircuitBreakers(settings.breakers)
        self._day: date | None = None
        self._day_start_equity = _ZERO
        self._batch_tick = -1
        self._open: dict[str, OpenQty] = {}
        self._positions: dict[str, Decimal] = {}
        self._last_mids: dict[str, Decimal] = {}

    # -- state --------------------------------------------------------------------------

    @property
    def trading_state(self) -> TradingState:
        """The account's trading state."""
        return self.state.state

    def record_state_change(self, change: TradingStateChanged) -> None:
        """Persist a trading-state change (risk_events + audit)."""
        journal = self.engine.journal
        journal.risk_event(change.at, "TRADING_STATE", change.current.value, change.reason,
                           actor=change.who, payload={"previous": change.previous.value})
        journal.audit(change.at, "TradingStateChanged", "account",
                      {"previous": change.previous.value, "current": change.current.value,
                       "reason": change.reason}, actor=change.who)

    def allows_new_orders(self, parent: ParentOrder) -> bool:
        """False while HALTED, or while REDUCING for a parent that would add to its position."""
        state = self.state.state
        if state is TradingState.ACTIVE:
            return True
        if state is TradingState.HALTED:
            return False
        position = self.engine.account.position(parent.symbol).quantity
        return position != 0 and (position > 0) == (parent.side is Side.SELL)

    # -- pre-trade ----------------------------------------------------------------------

    def daily_pnl(self) -> Decimal:
        """Realised plus unrealised P&L since 00:00 UTC (equity now minus equity at midnight)."""
        return self._equity() - self._day_start_equity

    def _equity(self) -> Decimal:
        return self.engine.account.equity(
            {s: q.mid for s, q in self.engine.quotes.items()})

    def _begin_batch(self) -> None:
        engine = self.engine
        if self._batch_tick == engine.tick_count:
            return
        self._batch_tick = engine.tick_count
        open_qty: dict[str, list[Decimal]] = {}
        for child in engine.open_children.values():
            if child.sent_at is None:
                continue
            slot = open_qty.setdefault(child.symbol, [_ZERO, _ZERO])
            slot[0 if child.side is Side.BUY else 1] += child.remaining
        self._open = {s: (v[0], v[1]) for s, v in open_qty.items()}
        self._positions = {s: p.quantity for s, p in engine.account.positions.items()
                           if p.quantity}
        self._mids = {s: q.mid for s, q in engine.quotes.items()}
        self._pnl = self.daily_pnl()

    def check(self, child: ChildOrder, now: datetime) -> Violation | None:
        """The first pre-trade violation of ``child``, or None if it may be sent."""
        self._begin_batch()
        engine = self.engine
        ctx = RiskContext(
            now=now, trading_state=self.state.state, quote=engine.quotes.get(child.symbol),
            filters=engine.venue.filters(child.symbol),
            position_qty=self._positions.get(child.symbol, _ZERO), mids=self._mids,
            positions=self._positions, daily_pnl=self._pnl, open_orders=self._open)
        violation = self.pretrade.check(child, ctx)
        if violation is None:
            buy, sell = self._open.get(child.symbol, (_ZERO, _ZERO))
            self._open[child.symbol] = ((buy + child.quantity, sell) if child.side is Side.BUY
                                        else (buy, sell + child.quantity))
        return violation

    def record_sent(self, child: ChildOrder, now: datetime) -> None:
        """Count a sent child in the rate and duplicate windows."""
        self.pretrade.record_sent(child, now)

    # -- breakers -----------------------------------------------------------------------

    def on_tick(self, now: datetime) -> None:
        """Roll the daily P&L baseline at 00:00 UTC and let breaker cooldowns expire."""
        today = now.date()
        if today != self._day:
            self._day = today
            self._day_start_equity = self._equity()
        for rearmable in self.breakers.tick(now):
            self.engine.journal.risk_event(now, "BREAKER_REARMABLE", rearmable.name,
                                           str(rearmable), actor="breaker")
        self._observe_price_moves(now)

    def _observe_price_moves(self, now: datetime) -> None:
        """A jump of the mid between two ticks is market stress (a shock, a crash, a gap)."""
        for symbol, quote in self.engine.quotes.items():
            mid = quote.mid
            previous = self._last_mids.get(symbol)
            self._last_mids[symbol] = mid
            if previous:
                move = abs(float((mid - previous) / previous)) * 10_000
                self._handle(self.breakers.on_price_impact(move, now), now)

    def on_order_result(self, *, rejected: bool, now: datetime) -> None:
        """An order was accepted or rejected by the venue."""
        self._handle(self.breakers.on_order_result(rejected, now), now)

    def on_latency(self, ms: float, now: datetime) -> None:
        """An order's round trip (send to acknowledgement) took ``ms``."""
        self._handle(self.breakers.on_latency(ms, now), now)

    def on_fill(self, child: ChildOrder, fill: Fill, ref_mid: Decimal | None,
                now: datetime) -> None:
        """Slippage of a fill vs the mid when its child was created; mid move as price impact."""
        if ref_mid is None or ref_mid <= 0:
            return
        slippage = float((fill.price - ref_mid) / ref_mid) * 10_000 * fill.side.sign
        self._handle(self.breakers.on_fill_slippage(slippage, now), now)
        if fill.mid_price is not None:
            impact = abs(float((fill.mid_price - ref_mid) / ref_mid)) * 10_000
            self._handle(self.breakers.on_price_impact(impact, now), now)

    def _handle(self, trip: BreakerTrip | None, now: datetime) -> None:
        if trip is None:
            return
        engine = self.engine
        payload = {"action": trip.action.value, "observations": _observations(trip)}
        engine.journal.risk_event(now, "BREAKER_TRIP", trip.name, str(trip),
                                  actor=f"breaker:{trip.name}", payload=payload)
        engine.journal.audit(now, "CircuitBreakerTripped", trip.name,
                             {"reason": str(trip), **payload}, actor=f"breaker:{trip.name}")
        reason = f"circuit breaker {trip.name} tripped"
        target = TradingState(trip.action.value)
        if target is TradingState.HALTED:
            engine.handler.halt(reason, f"breaker:{trip.name}", now)
            return
        change = self.state.escalate(target, f"breaker:{trip.name}", reason, now)
        if change is not None:
            self.record_state_change(change)

    def breaker_state(self) -> dict[str, dict[str, Any]]:
        """Breaker states for the snapshot."""
        return {name: status.as_dict() for name, status in self.breakers.state().items()}

    def tripped_breakers(self) -> list[str]:
        """Names of breakers not yet re-armed (they block a resume)."""
        return self.breakers.blocking()

    def usage(self) -> dict[str, dict[str, float]]:
        """Limit usage for the risk page: value and limit per rule."""
        engine = self.engine
        limits = engine.settings.risk
        mids = {s: q.mid for s, q in engine.quotes.items()}
        positions = {s: abs(p.quantity * mids.get(s, p.avg_cost))
                     for s, p in engine.account.positions.items()}
        largest = max(positions.values(), default=_ZERO)
        gross = sum(positions.values(), _ZERO)
        loss = max(-self.daily_pnl(), _ZERO)
        rate = self.pretrade.windows.account_count(engine.clock.now())
        return {
            "position": {"value": float(largest), "limit": float(limits.max_position_usd)},
            "exposure": {"value": float(gross), "limit": float(limits.max_gross_exposure_usd)},
            "daily_loss": {"value": float(loss), "limit": float(limits.max_daily_loss_usd)},
            "order_rate": {"value": float(rate), "limit": float(limits.max_orders_per_minute)},
        }


def _observations(trip: BreakerTrip) -> list[Any]:
    return [str(o) for o in getattr(trip, "observations", ())]
