"""RiskGuard: the engine's side of risk: builds each order's RiskContext, feeds the breakers,
keeps the trading state and decides what a breaker trip does (REDUCING at once; a halt is
returned as a decision that the tick applies through the one halt path).

Inside one batch (``begin_batch``, then ``check`` for each new child) every approved child
counts at once: in the rate and duplicate windows and in the reservation of what open children
may still take (quantity per symbol and side, cash the open buys may spend), so the next child of
the batch is checked against it. An approved child that is not sent is taken back with
``release``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from oms.clock import Clock
from oms.config import Settings
from oms.engine.book import BookView
from oms.engine.quotes import QuoteBoard
from oms.engine.reconcile import ReconcileRun
from oms.journal import Journal
from oms.model import Account, ChildOrder, ParentOrder, Side, TradingState
from oms.model.rejection import Rejection, RejectionSource
from oms.risk.breakers import BreakerTrip, CircuitBreakers
from oms.risk.checks import reserved_cash
from oms.risk.halt import HaltGate
from oms.risk.pretrade import OpenQty, PreTradeRisk, RiskContext
from oms.risk.state import TradingStateChanged, TradingStateMachine
from oms.venues.filters import SymbolFilters

__all__ = ["HaltDecision", "RiskGuard", "child_slippage_bps"]

_ZERO = Decimal(0)
_BPS = 10_000
_SLIPPAGE_MEMORY = 4096  # children whose slippage was counted, remembered to count each once


@dataclass(frozen=True, slots=True)
class HaltDecision:
    """Risk decided the account must halt (a breaker whose action is HALTED tripped)."""

    reason: str
    actor: str


class RiskGuard:
    """Pre-trade checks, circuit breakers and trading state of one account."""

    def __init__(self, *, settings: Settings, gate: HaltGate, account: Account,
                 quotes: QuoteBoard, book: BookView, filters: Callable[[str], SymbolFilters],
                 journal: Journal, clock: Clock) -> None:
        self.settings = settings
        self.account = account
        self.quotes = quotes
        self.book = book
        self.filters = filters
        self.journal = journal
        self.clock = clock
        self.pretrade = PreTradeRisk(settings.risk, settings.symbols)
        self.state = TradingStateMachine(gate=gate)
        self.breakers = CircuitBreakers(settings.breakers)
        self._day: date | None = None
        self._day_start_equity = _ZERO
        self._open: dict[str, OpenQty] = {}
        self._open_buy_reserved = _ZERO
        self._approved: set[str] = set()  # approved, not yet known sent (sent_at) or closed
        self._positions: dict[str, Decimal] = {}
        self._mids: dict[str, Decimal] = {}
        self._pnl = _ZERO
        self._cash = account.cash
        self._last_mids: dict[str, Decimal] = {}
        self._halts: list[HaltDecision] = []
        self._slippage_counted: set[str] = set()
        self._slippage_order: deque[str] = deque()

    # -- state --------------------------------------------------------------------------

    @property
    def trading_state(self) -> TradingState:
        """The account's trading state."""
        return self.state.state

    def record_state_change(self, change: TradingStateChanged) -> None:
        """Persist a trading-state change (risk_events + audit)."""
        self.journal.risk_event(change.at, "TRADING_STATE", change.current.value, change.reason,
                                actor=change.who, payload={"previous": change.previous.value})
        self.journal.audit(change.at, "TradingStateChanged", "account",
                           {"previous": change.previous.value, "current": change.current.value,
                            "reason": change.reason}, actor=change.who)

    def allows_new_orders(self, parent: ParentOrder) -> bool:
        """False while HALTED, or while REDUCING for a parent that would add to its position."""
        state = self.state.state
        if state is TradingState.ACTIVE:
            return True
        if state is TradingState.HALTED:
            return False
        position = self.account.position(parent.symbol).quantity
        return position != 0 and (position > 0) == (parent.side is Side.SELL)

    def take_halts(self) -> list[HaltDecision]:
        """The halts decided since the last call (the tick applies them)."""
        halts, self._halts = self._halts, []
        return halts

    # -- pre-trade ----------------------------------------------------------------------

    def daily_pnl(self) -> Decimal:
        """Realised plus unrealised P&L since 00:00 UTC (equity now minus equity at midnight)."""
        return self._equity() - self._day_start_equity

    def _equity(self) -> Decimal:
        return self.account.equity(self.quotes.mids())

    def begin_batch(self) -> None:
        """Take the state one dispatch checks against: positions, cash, mids, P&L, and what
        the open children may still take (sent or acknowledged ones, and ones approved but not
        sent yet; a child created for this batch and not yet checked is not open)."""
        open_children = self.book.open_children
        approved = self._approved
        buffer_bps = self.settings.risk.buy_reserve_buffer_bps
        open_qty: dict[str, list[Decimal]] = {}
        buy_reserved = _ZERO
        for cid, child in open_children.items():
            if child.sent_at is None and child.acked_at is None and cid not in approved:
                continue
            remaining = child.remaining
            if remaining <= 0:
                continue
            slot = open_qty.setdefault(child.symbol, [_ZERO, _ZERO])
            if child.side is Side.BUY:
                slot[0] += remaining
                buy_reserved += reserved_cash(remaining, self._reserve_price(child), buffer_bps)
            else:
                slot[1] += remaining
        self._approved = {cid for cid in approved
                          if cid in open_children and open_children[cid].sent_at is None}
        self._open = {s: (v[0], v[1]) for s, v in open_qty.items()}
        self._open_buy_reserved = buy_reserved
        self._positions = {s: p.quantity for s, p in self.account.positions.items()
                           if p.quantity}
        self._cash = self.account.cash
        self._mids = self.quotes.mids()
        self._pnl = self.daily_pnl()

    def _reserve_price(self, child: ChildOrder) -> Decimal:
        """The price a buy is reserved at: its limit, else the ask, else the last mid seen."""
        if child.limit_price is not None:
            return child.limit_price
        quote = self.quotes.quote(child.symbol)
        if quote is not None:
            return quote.ask
        return self._last_mids.get(child.symbol, _ZERO)

    def check(self, child: ChildOrder, now: datetime) -> Rejection | None:
        """Why ``child`` may not be sent, or None: then it counts at once (rate and duplicate
        windows, open quantity, cash reserved) and must be ``release``d if it is not sent."""
        ctx = RiskContext(
            now=now, trading_state=self.state.state, quote=self.quotes.quote(child.symbol),
            filters=self.filters(child.symbol),
            position_qty=self._positions.get(child.symbol, _ZERO), mids=self._mids,
            positions=self._positions, daily_pnl=self._pnl, open_orders=self._open,
            cash=self._cash, open_buy_reserved=self._open_buy_reserved)
        violation = self.pretrade.approve(child, ctx)
        if violation is not None:
            return Rejection(RejectionSource.RISK, str(violation.code), violation.message,
                             violation.numbers)
        self._approved.add(child.client_order_id)
        self._reserve(child, 1)
        return None

    def release(self, child: ChildOrder) -> None:
        """An approved child that never reached the venue no longer counts: it leaves the rate
        and duplicate windows and the reservation (once; a second call changes nothing). A child
        the venue rejected after it was sent is not released (the venue counts it too)."""
        self.pretrade.release(child)
        if child.client_order_id in self._approved:
            self._approved.discard(child.client_order_id)
            if child.sent_at is None:
                self._reserve(child, -1)

    def _reserve(self, child: ChildOrder, sign: int) -> None:
        quantity = child.quantity * sign
        buy, sell = self._open.get(child.symbol, (_ZERO, _ZERO))
        if child.side is Side.BUY:
            self._open[child.symbol] = (buy + quantity, sell)
            self._open_buy_reserved += reserved_cash(
                quantity, self._reserve_price(child), self.settings.risk.buy_reserve_buffer_bps)
        else:
            self._open[child.symbol] = (buy, sell + quantity)

    # -- breakers -----------------------------------------------------------------------

    def on_tick(self, now: datetime) -> None:
        """Roll the daily P&L baseline at 00:00 UTC and let breaker cooldowns expire."""
        today = now.date()
        if today != self._day:
            self._day = today
            self._day_start_equity = self._equity()
        for rearmable in self.breakers.tick(now):
            self.journal.risk_event(now, "BREAKER_REARMABLE", rearmable.name,
                                    str(rearmable), actor="breaker")
        self._observe_price_moves(now)

    def _observe_price_moves(self, now: datetime) -> None:
        """A jump of the mid between two ticks is market stress (a shock, a crash, a gap):
        each move is one occurrence, counted once."""
        for symbol, quote in self.quotes.quotes.items():
            mid = quote.mid
            previous = self._last_mids.get(symbol)
            self._last_mids[symbol] = mid
            if previous:
                # an unchanged mid (most ticks) is a move of 0.0, without the division
                move = 0.0 if mid == previous else abs(float((mid - previous) / previous)) * 10_000
                self._handle(self.breakers.on_price_impact(move, now), now)

    def on_order_result(self, *, rejected: bool, now: datetime) -> None:
        """An order was accepted or rejected by the venue."""
        self._handle(self.breakers.on_order_result(rejected, now), now)

    def on_latency(self, ms: float, now: datetime) -> None:
        """An order's round trip (send to acknowledgement) took ``ms``."""
        self._handle(self.breakers.on_latency(ms, now), now)

    def on_child_done(self, child: ChildOrder, ref_mid: Decimal | None, now: datetime) -> None:
        """A child with fills ended: its average fill price vs the mid when it was created is
        one slippage occurrence (adverse positive for both sides: a BUY above or a SELL below
        the mid). Without fills or a reference mid nothing counts; a second call for the same
        child is ignored."""
        slippage = child_slippage_bps(child, ref_mid)
        if slippage is None:
            return
        cid = child.client_order_id
        if cid in self._slippage_counted:
            return
        self._slippage_counted.add(cid)
        self._slippage_order.append(cid)
        if len(self._slippage_order) > _SLIPPAGE_MEMORY:
            self._slippage_counted.discard(self._slippage_order.popleft())
        self._handle(self.breakers.on_child_slippage(slippage, now), now)

    def reset_breaker(self, name: str, actor: str, reason: str, now: datetime) -> None:
        """Re-arm a tripped breaker (raises for an unknown name or one still cooling down)."""
        self.breakers.reset(name, actor, reason, now)

    def _handle(self, trip: BreakerTrip | None, now: datetime) -> None:
        if trip is None:
            return
        payload = {"action": trip.action.value, "observations": _observations(trip)}
        actor = f"breaker:{trip.name}"
        self.journal.risk_event(now, "BREAKER_TRIP", trip.name, str(trip), actor=actor,
                                payload=payload)
        self.journal.audit(now, "CircuitBreakerTripped", trip.name,
                           {"reason": str(trip), **payload}, actor=actor)
        reason = f"circuit breaker {trip.name} tripped"
        target = TradingState(trip.action.value)
        if target is TradingState.HALTED:
            self._halts.append(HaltDecision(reason, actor))
            return
        self.reduce(reason, actor, now)

    def reduce(self, reason: str, actor: str, now: datetime) -> None:
        """Tighten to REDUCING at once and record it (it cancels nothing, so unlike a halt it
        needs no point of the tick; it never loosens a HALTED account)."""
        change = self.state.escalate(TradingState.REDUCING, actor, reason, now)
        if change is not None:
            self.record_state_change(change)

    # -- reconciliation (oms.engine.reconcile)

    def on_reconcile(self, run: ReconcileRun, now: datetime) -> None:
        """Record what a reconciliation run reported and decide: an unknown or missing order
        halts (a decision the tick applies), a balance difference reduces."""
        if run.baseline_taken is not None:
            self.journal.audit(now, "ReconcileBaselineTaken", "account",
                               {"baseline": run.baseline_taken}, actor="reconcile")
        for mismatch in run.reported:
            payload = {"mismatch_id": mismatch.mismatch_id, "oms": mismatch.oms_view,
                       "venue": mismatch.venue_view, "difference": mismatch.difference,
                       "first_seen": mismatch.first_seen}
            self.journal.risk_event(now, "RECONCILE", mismatch.kind.value, mismatch.message,
                                    symbol=mismatch.symbol, entity_id=mismatch.subject,
                                    actor="reconcile", payload=payload)
            self.journal.audit(now, "ReconcileMismatchFound", mismatch.mismatch_id,
                               {"kind": mismatch.kind.value, "subject": mismatch.subject,
                                **payload}, actor="reconcile")
            reason = f"reconciliation: {mismatch.kind.value} {mismatch.subject}"
            if mismatch.kind.trading_state is TradingState.HALTED:
                self._halts.append(HaltDecision(reason, "reconcile"))
            else:
                self.reduce(reason, "reconcile", now)

    def breaker_state(self) -> dict[str, dict[str, Any]]:
        """Breaker states for the snapshot."""
        return {name: status.as_dict() for name, status in self.breakers.state().items()}

    def tripped_breakers(self) -> list[str]:
        """Names of breakers not yet re-armed (they block a resume)."""
        return self.breakers.blocking()

    def usage(self) -> dict[str, dict[str, float]]:
        """Limit usage for the risk page: value and limit per rule."""
        limits = self.settings.risk
        mids = self.quotes.mids()
        positions = {s: abs(p.quantity * mids.get(s, p.avg_cost))
                     for s, p in self.account.positions.items()}
        largest = max(positions.values(), default=_ZERO)
        gross = sum(positions.values(), _ZERO)
        loss = max(-self.daily_pnl(), _ZERO)
        rate = self.pretrade.windows.account_count(self.clock.now())
        return {
            "position": {"value": float(largest), "limit": float(limits.max_position_usd)},
            "exposure": {"value": float(gross), "limit": float(limits.max_gross_exposure_usd)},
            "daily_loss": {"value": float(loss), "limit": float(limits.max_daily_loss_usd)},
            "order_rate": {"value": float(rate), "limit": float(limits.max_orders_per_minute)},
        }


def child_slippage_bps(child: ChildOrder, ref_mid: Decimal | None) -> float | None:
    """Adverse slippage of a child's average fill price vs ``ref_mid`` in bps (a BUY above or a
    SELL below the mid is positive), or None without fills or a usable reference mid."""
    average = child.avg_price
    if average is None or ref_mid is None or ref_mid <= 0:
        return None
    return float((average - ref_mid) / ref_mid) * _BPS * child.side.sign


def _observations(trip: BreakerTrip) -> list[Any]:
    return [str(o) for o in getattr(trip, "observations", ())]
