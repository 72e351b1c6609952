"""CommandHandler: applies queued commands inside the engine tick and answers their futures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from oms.algos.selection import select_algo
from oms.commands import (
    CancelParent,
    Command,
    KillSwitch,
    ResetBreaker,
    Resume,
    SubmitParentOrder,
    SubmitRebalance,
    SubmitSignal,
)
from oms.errors import FieldError, OmsError, TradingHalted, ValidationError
from oms.model import AlgoName, ChildState, ParentOrder, ParentState, Side, TradingState
from oms.rebalance import plan_rebalance

if TYPE_CHECKING:
    from oms.engine import ExecutionEngine

__all__ = ["CommandHandler", "SubmitResult"]


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The answer to a submit: the session, the parents created and the symbols skipped."""

    session_id: str
    parent_ids: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    algos: dict[str, tuple[str, str]] = field(default_factory=dict)  # parent -> (algo, reason)


class CommandHandler:
    """Turns each command into state changes; never lets one bad command stop the engine."""

    def __init__(self, engine: ExecutionEngine) -> None:
        self.engine = engine
        self._seq = 0

    def handle(self, command: Command, now: datetime) -> None:
        """Apply ``command`` and set its reply (a result or the exception)."""
        if command.reply.done():
            return
        try:
            result: Any = self._dispatch(command, now)
        except OmsError as exc:
            command.reply.set_exception(exc)
            return
        command.reply.set_result(result)

    def _dispatch(self, command: Command, now: datetime) -> Any:
        if isinstance(command, SubmitRebalance):
            return self._rebalance(command, now)
        if isinstance(command, SubmitParentOrder):
            return self._parent_order(command, now)
        if isinstance(command, SubmitSignal):
            return self.engine.signals.submit(command, now)
        if isinstance(command, CancelParent):
            return self._cancel_parent(command, now)
        if isinstance(command, KillSwitch):
            return self.halt(command.reason, command.actor, now)
        if isinstance(command, Resume):
            return self._resume(command, now)
        if isinstance(command, ResetBreaker):
            return self._reset_breaker(command, now)
        raise ValidationError(FieldError("command", f"unknown command {type(command).__name__}"))

    # -- submits ------------------------------------------------------------------------

    def ensure_trading(self) -> None:
        """Raise TradingHalted while the account is HALTED."""
        if self.engine.risk.trading_state is TradingState.HALTED:
            raise TradingHalted("trading is HALTED; resume with a reason before submitting")

    def open_session(self, kind: str, now: datetime, actor: str, targets: dict[str, Any],
                     params: dict[str, Any]) -> str:
        """Create an execution session row and return its id."""
        engine = self.engine
        session_id = engine.ids.next("s")
        engine.journal.session({"session_id": session_id, "kind": kind, "created_at": now,
                                "ended_at": None, "venue": engine.venue.name, "actor": actor,
                                "targets": targets, "params": params})
        engine.journal.audit(now, "SessionStarted", session_id, {"kind": kind, **params},
                             actor=actor)
        return session_id

    def new_parent(self, session_id: str, symbol: str, side: Side, quantity: Decimal,
                   algo: AlgoName, duration_minutes: float, urgency: float, now: datetime, *,
                   confidence: float | None = None, limit_price: Decimal | None = None,
                   options: dict[str, Any] | None = None) -> ParentOrder:
        """Create a parent order (resolving ``auto``), start its algorithm, return it."""
        engine = self.engine
        mid = engine.mid(symbol)
        reason = "chosen by the trader"
        if algo is AlgoName.AUTO:
            size_usd = quantity * mid if mid is not None else Decimal(0)
            algo, reason = select_algo(size_usd, urgency, confidence)
        self._seq += 1
        parent = ParentOrder(
            parent_id=engine.ids.next("p"), session_id=session_id, symbol=symbol, side=side,
            quantity=quantity, algo=algo, created_at=now, duration_minutes=duration_minutes,
            urgency=urgency, algo_reason=reason,
            algo_params={"max_child_notional": str(engine.settings.risk.max_order_notional_usd),
                         **(options or {})},
            limit_price=limit_price, decision_price=mid)
        engine.start_parent(parent, now, seed=engine.settings.seed * 1_000_003 + self._seq)
        return parent

    def _rebalance(self, command: SubmitRebalance, now: datetime) -> SubmitResult:
        self.ensure_trading()
        engine = self.engine
        positions = {s: p.quantity for s, p in engine.account.positions.items()}
        mids = {s: q.mid for s, q in engine.quotes.items()}
        steps = {s: engine.venue.filters(s).step_size for s in command.targets}
        plan = plan_rebalance(command.targets, positions, mids, engine.settings.min_notional,
                              steps)
        engine.targets.update(command.targets)
        session_id = self.open_session(
            "rebalance", now, command.actor, {s: str(v) for s, v in command.targets.items()},
            {"algo": command.algo.value, "duration_minutes": command.duration_minutes,
             "urgency": command.urgency,
             "current_usd": {s: str((positions.get(s, Decimal(0)) * mids[s]).quantize(
                 Decimal("0.01"))) for s in command.targets if s in mids}})
        result = SubmitResult(session_id, [], plan.skipped)
        for planned in plan.parents:
            parent = self.new_parent(session_id, planned.symbol, planned.side, planned.quantity,
                                     command.algo, command.duration_minutes, command.urgency, now)
            result.parent_ids.append(parent.parent_id)
            result.algos[parent.parent_id] = (parent.algo.value, parent.algo_reason)
        for symbol, why in plan.skipped:
            engine.journal.audit(now, "RebalanceLineSkipped", session_id,
                                 {"symbol": symbol, "reason": why}, actor=command.actor)
        if not plan.parents:
            self.session_finished(session_id, now)
        return result

    def _parent_order(self, command: SubmitParentOrder, now: datetime) -> SubmitResult:
        self.ensure_trading()
        session_id = self.open_session(
            command.session_kind, now, command.actor, {},
            {"symbol": command.symbol, "side": command.side.value,
             "quantity": str(command.quantity), "algo": command.algo.value,
             "duration_minutes": command.duration_minutes, "urgency": command.urgency})
        parent = self.new_parent(session_id, command.symbol, command.side, command.quantity,
                                 command.algo, command.duration_minutes, command.urgency, now,
                                 confidence=command.confidence, limit_price=command.limit_price,
                                 options=command.algo_options)
        return SubmitResult(session_id, [parent.parent_id], [],
                            {parent.parent_id: (parent.algo.value, parent.algo_reason)})

    def _cancel_parent(self, command: CancelParent, now: datetime) -> str:
        engine = self.engine
        parent = engine.parents.get(command.parent_id)
        if parent is None or parent.state.is_terminal:
            raise ValidationError(FieldError("parent_id", f"{command.parent_id} is not working"))
        for cid in list(engine.working.get(parent.parent_id, {})):
            engine.request_cancel(cid, now, f"parent canceled by {command.actor}")
        engine.end_parent(parent, ParentState.CANCELED, now, f"canceled by {command.actor}")
        return parent.state.value

    # -- halt / resume --------------------------------------------------------------------

    def halt(self, reason: str, actor: str, now: datetime) -> int:
        """HALT: close the gate, cancel every working child at the venue, halt working parents.

        Returns the number of cancels requested.
        """
        engine = self.engine
        engine.gate.halt(reason, now)
        change = engine.risk.state.escalate(TradingState.HALTED, actor, reason, now)
        if change is not None:
            engine.risk.record_state_change(change)
        engine.journal.risk_event(now, "KILL", "HALTED", reason, actor=actor)
        engine.journal.audit(now, "KillSwitchActivated", "account", {"reason": reason},
                             actor=actor)
        canceled = 0
        for child in list(engine.open_children.values()):
            if child.state is not ChildState.PENDING_CANCEL:
                engine.request_cancel(child.client_order_id, now, f"halt: {reason}")
                canceled += 1
        for parent in list(engine.parents.values()):
            if not parent.state.is_terminal:
                engine.end_parent(parent, ParentState.HALTED, now, f"halted: {reason}")
        return canceled

    def _resume(self, command: Resume, now: datetime) -> str:
        engine = self.engine
        if not command.reason.strip():
            raise ValidationError(FieldError("reason", "a resume needs a reason"))
        state = engine.risk.state
        if state.state is TradingState.ACTIVE:
            if engine.gate.is_halted:  # the kill switch closed the gate just now
                engine.gate.reopen()
            return state.state.value
        try:
            change = state.resume(command.actor, command.reason, now,
                                  blockers=engine.risk.tripped_breakers())
        except OmsError as exc:
            raise ValidationError(FieldError("resume", str(exc))) from exc
        engine.risk.record_state_change(change)
        engine.journal.risk_event(now, "RESUME", change.current.value, command.reason,
                                  actor=command.actor)
        return change.current.value

    def _reset_breaker(self, command: ResetBreaker, now: datetime) -> str:
        engine = self.engine
        try:
            engine.risk.breakers.reset(command.name, command.actor, command.reason, now)
        except (KeyError, OmsError) as exc:
            raise ValidationError(FieldError("breaker", str(exc))) from exc
        engine.journal.risk_event(now, "BREAKER_RESET", command.name, command.reason,
                                  actor=command.actor)
        engine.journal.audit(now, "CircuitBreakerReset", command.name,
                             {"reason": command.reason}, actor=command.actor)
        return command.name

    # -- sessions -------------------------------------------------------------------------

    def session_finished(self, session_id: str, now: datetime) -> None:
        """All parents of a session ended: close it and store its ExecutionReport."""
        engine = self.engine
        engine.journal.session_ended(session_id, now)
        engine.journal.audit(now, "SessionEnded", session_id, {})
        engine.reports.session_ended(session_id, now)
