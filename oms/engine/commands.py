"""CommandHandler: applies queued commands inside the engine tick and answers their futures.

A rebalance supersedes what is working for its symbols: the plan is made against the position
plus what open children may still fill, validated against the limits (refused whole with the
numbers, or clipped), and only then are the old parents canceled and the new ones started, so
any number of identical rebalances ends at the target and never overtrades. The halt lives here
and only here: the kill switch, a breaker trip and a failing engine all call ``halt``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from oms.commands import (
    CancelParent,
    Command,
    KillSwitch,
    ResetBreaker,
    ResolveMismatch,
    ResubmitRemaining,
    Resume,
    SubmitParentOrder,
    SubmitRebalance,
    SubmitSignal,
)
from oms.engine.book import OrderBook
from oms.engine.lifecycle import OrderLifecycle
from oms.engine.resubmit import Resubmitter
from oms.engine.sessions import SessionDesk, SubmitResult
from oms.engine.signals import SignalDesk
from oms.errors import FieldError, NotFound, OmsError, ValidationError
from oms.journal import Journal
from oms.model import TradingState
from oms.rebalance import PlanInputs, plan_rebalance
from oms.risk.halt import HaltGate
from oms.risk.state import ResumeResult, TradingStateChanged, TradingStateMachine

__all__ = ["CommandHandler", "CommandSource", "HaltControl", "HandledListener",
           "ReconcileControl"]

_CENT = Decimal("0.01")


class HaltControl(Protocol):
    """The risk side of halt, resume and breaker resets."""

    @property
    def state(self) -> TradingStateMachine: ...

    def record_state_change(self, change: TradingStateChanged) -> None: ...
    def tripped_breakers(self) -> list[str]: ...
    def reset_breaker(self, name: str, actor: str, reason: str, now: datetime) -> None: ...


class ReconcileControl(Protocol):
    """Running reconciliation's side of commands: resolving mismatches, blocking a resume."""

    def resolve(self, command: ResolveMismatch, now: datetime) -> dict[str, Any]: ...
    def blockers(self) -> list[str]: ...


class CommandSource(Protocol):
    """Commands from outside the process, taken by the tick after its in-process queue (the
    split deployment's ``commands`` rows, oms.cluster.source)."""

    def take(self, now: datetime) -> list[Command]: ...


#: told of each command handled, with its result or its error, before the tick's commit
HandledListener = Callable[[Command, Any, "OmsError | None"], None]


class CommandHandler:
    """Turns each command into state changes; never lets one bad command stop the engine."""

    def __init__(self, *, book: OrderBook, lifecycle: OrderLifecycle, sessions: SessionDesk,
                 signals: SignalDesk, journal: Journal, gate: HaltGate, risk: HaltControl,
                 plan_inputs: Callable[[list[str]], PlanInputs],
                 reconcile: ReconcileControl | None = None,
                 resubmitter: Resubmitter | None = None) -> None:
        self.reconcile = reconcile
        self.resubmitter = resubmitter
        self.book = book
        self.lifecycle = lifecycle
        self.sessions = sessions
        self.signals = signals
        self.journal = journal
        self.gate = gate
        self.risk = risk
        self.plan_inputs = plan_inputs
        self._answers: list[tuple[Command, Any, OmsError | None]] = []
        #: told of each command handled (its result or error) inside the tick, before its
        #: commit: the split deployment records the reply in the same transaction
        self.listeners: list[HandledListener] = []

    def handle(self, command: Command, now: datetime) -> None:
        """Apply ``command``; its reply (a result or the exception) waits for ``answer``."""
        if command.reply.done():
            return
        try:
            answer: tuple[Command, Any, OmsError | None] = (
                command, self._dispatch(command, now), None)
        except OmsError as exc:
            answer = (command, None, exc)
        self._answers.append(answer)
        for listener in self.listeners:
            listener(*answer)

    def answer(self) -> None:
        """Set the replies of the commands handled so far: the core calls this after the
        tick's commit, so that a caller who got an answer reads its effect from the database."""
        answers, self._answers = self._answers, []
        for command, result, error in answers:
            if command.reply.done():
                continue
            if error is not None:
                command.reply.set_exception(error)
            else:
                command.reply.set_result(result)

    def _dispatch(self, command: Command, now: datetime) -> Any:
        if isinstance(command, SubmitRebalance):
            return self._rebalance(command, now)
        if isinstance(command, SubmitParentOrder):
            return self._parent_order(command, now)
        if isinstance(command, SubmitSignal):
            return self.signals.submit(command, now)
        if isinstance(command, CancelParent):
            return self._cancel_parent(command, now)
        if isinstance(command, ResubmitRemaining):
            if self.resubmitter is None:
                raise ValidationError(FieldError("parent_id", "resubmits are not available"))
            return self.resubmitter.resubmit(command, now)
        if isinstance(command, KillSwitch):
            return self.halt(command.reason, command.actor, now, durable=command.durable)
        if isinstance(command, Resume):
            return self._resume(command, now)
        if isinstance(command, ResetBreaker):
            return self._reset_breaker(command, now)
        if isinstance(command, ResolveMismatch):
            if self.reconcile is None:
                raise ValidationError(FieldError("mismatch_id", "reconciliation is not running"))
            return self.reconcile.resolve(command, now)
        raise ValidationError(FieldError("command", f"unknown command {type(command).__name__}"))

    # -- submits ------------------------------------------------------------------------

    def _rebalance(self, command: SubmitRebalance, now: datetime) -> SubmitResult:
        self.sessions.ensure_trading()
        inputs = self.plan_inputs(list(command.targets))
        plan = plan_rebalance(command.targets, inputs, on_limit=command.on_limit)
        if plan.breaches:
            raise ValidationError(plan.breaches)  # refused whole: nothing canceled or created
        self.book.set_targets(command.targets)
        session_id = self.sessions.open_session(
            "rebalance", now, command.actor, {s: str(v) for s, v in command.targets.items()},
            {"algo": command.algo.value, "duration_minutes": command.duration_minutes,
             "urgency": command.urgency, "on_limit": command.on_limit,
             "superseded": plan.superseded,
             "current_usd": _current_usd(inputs, list(command.targets))})
        for parent_id in plan.superseded:
            parent = self.book.parent(parent_id)
            if parent is not None and not parent.state.is_terminal:
                self.lifecycle.cancel_parent(parent, now, f"superseded by session {session_id}")
        result = SubmitResult(session_id, [], plan.skipped, superseded=list(plan.superseded))
        for planned in plan.parents:
            parent = self.sessions.new_parent(
                session_id, planned.symbol, planned.side, planned.quantity, command.algo,
                command.duration_minutes, command.urgency, now)
            result.parent_ids.append(parent.parent_id)
            result.algos[parent.parent_id] = (parent.algo.value, parent.algo_reason)
        for symbol, why in plan.skipped:
            self.journal.audit(now, "RebalanceLineSkipped", session_id,
                               {"symbol": symbol, "reason": why}, actor=command.actor)
        if not plan.parents:
            self.sessions.session_finished(session_id, now)
        return result

    def _parent_order(self, command: SubmitParentOrder, now: datetime) -> SubmitResult:
        self.sessions.ensure_trading()
        session_id = self.sessions.open_session(
            command.session_kind, now, command.actor, {},
            {"symbol": command.symbol, "side": command.side.value,
             "quantity": str(command.quantity), "algo": command.algo.value,
             "duration_minutes": command.duration_minutes, "urgency": command.urgency})
        parent = self.sessions.new_parent(
            session_id, command.symbol, command.side, command.quantity, command.algo,
            command.duration_minutes, command.urgency, now, confidence=command.confidence,
            limit_price=command.limit_price, options=command.algo_options)
        return SubmitResult(session_id, [parent.parent_id], [],
                            {parent.parent_id: (parent.algo.value, parent.algo_reason)})

    def _cancel_parent(self, command: CancelParent, now: datetime) -> str:
        parent = self.book.parent(command.parent_id)
        if parent is None:  # retired or never existed: the service tells the two apart
            raise NotFound(FieldError("parent_id", f"no working parent {command.parent_id}"))
        if parent.state.is_terminal:
            raise ValidationError(FieldError("parent_id", f"{command.parent_id} is not working "
                                                          f"(it is {parent.state.value})"))
        self.lifecycle.cancel_parent(parent, now, f"canceled by {command.actor}")
        return parent.state.value

    # -- halt / resume --------------------------------------------------------------------

    def halt(self, reason: str, actor: str, now: datetime, *, durable: bool = False) -> int:
        """HALT: close the gate, cancel every working child at the venue, halt working parents.

        ``durable``: the caller already committed the KILL rows (the kill switch does, before it
        answers); the state change is recorded again all the same, so that no state recorded in
        between (a breaker's REDUCING) is the last one. Halting twice keeps the first reason and
        time. Returns the number of cancels requested.
        """
        self.gate.halt(reason, now)
        change = self.risk.state.escalate(TradingState.HALTED, actor, reason, now)
        if change is not None:  # also when durable: a state recorded since must not be last
            self.risk.record_state_change(change)
        if not durable:
            self.journal.risk_event(now, "KILL", "HALTED", reason, actor=actor)
            self.journal.audit(now, "KillSwitchActivated", "account", {"reason": reason},
                               actor=actor)
        return self.lifecycle.halt_orders(reason, now)

    def _resume(self, command: Resume, now: datetime) -> ResumeResult:
        """Leave HALTED or REDUCING for ACTIVE. Already ACTIVE: nothing is written or changed
        (no state change, no risk event, no audit row) and the answer says so."""
        if not command.reason.strip():
            raise ValidationError(FieldError("reason", "a resume needs a reason"))
        state = self.risk.state
        if state.state is TradingState.ACTIVE:
            if self.gate.is_halted:
                # a kill closed the gate and its command is still queued behind this resume:
                # reopening would let children leave after the kill was acknowledged
                raise ValidationError(FieldError(
                    "resume", "a kill is being applied (the halt gate is closed); resume once "
                              "trading shows HALTED"))
            return ResumeResult(TradingState.ACTIVE, False,
                                "trading was already ACTIVE: nothing to resume, nothing changed")
        try:
            blockers = list(self.risk.tripped_breakers())
            if self.reconcile is not None:  # an open reconciliation mismatch blocks too
                blockers += self.reconcile.blockers()
            cancels, _ = self.book.awaiting_venue(now)
            if cancels:  # a kill is not over while the venue has not confirmed its cancels
                blockers.append(f"{cancels} cancels not yet confirmed by the venue")
            change = state.resume(command.actor, command.reason, now, blockers=blockers)
        except OmsError as exc:
            raise ValidationError(FieldError("resume", str(exc))) from exc
        self.risk.record_state_change(change)
        self.journal.risk_event(now, "RESUME", change.current.value, command.reason,
                                actor=command.actor)
        return ResumeResult(change.current, True,
                            f"resumed: {change.previous.value} -> {change.current.value}")

    def _reset_breaker(self, command: ResetBreaker, now: datetime) -> str:
        try:
            self.risk.reset_breaker(command.name, command.actor, command.reason, now)
        except (KeyError, OmsError) as exc:
            raise ValidationError(FieldError("breaker", str(exc))) from exc
        self.journal.risk_event(now, "BREAKER_RESET", command.name, command.reason,
                                actor=command.actor)
        self.journal.audit(now, "CircuitBreakerReset", command.name,
                           {"reason": command.reason}, actor=command.actor)
        return command.name


def _current_usd(inputs: PlanInputs, symbols: list[str]) -> dict[str, str]:
    """What each targeted symbol holds in USD before the plan (position plus in flight)."""
    held: dict[str, str] = {}
    for symbol in symbols:
        mid = inputs.mids.get(symbol)
        if mid is not None:
            held[symbol] = str((inputs.held(symbol) * mid).quantize(_CENT))
    return held
