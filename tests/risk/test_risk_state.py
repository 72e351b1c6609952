"""Trading-state rules: tighten freely, loosen explicitly, leave HALTED only through resume."""

from __future__ import annotations

from datetime import timedelta

import pytest
from risk_helpers import T0

from oms.errors import InvalidTransition, TradingHalted
from oms.model.enums import TradingState
from oms.risk.halt import HaltGate
from oms.risk.state import TradingStateChanged, TradingStateMachine

A, R, H = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED


def test_transition_returns_a_past_tense_event() -> None:
    sm = TradingStateMachine()
    event = sm.transition(R, "breaker:high_slippage", "3 slipping fills", T0)
    assert event == TradingStateChanged(A, R, "breaker:high_slippage", "3 slipping fills", T0)
    assert sm.state is R
    assert sm.last_change is event
    assert str(event) == "ACTIVE -> REDUCING by breaker:high_slippage: 3 slipping fills"


@pytest.mark.parametrize(("start", "target"), [(A, R), (A, H), (R, H), (R, A)])
def test_allowed_transitions(start: TradingState, target: TradingState) -> None:
    sm = TradingStateMachine(start)
    sm.transition(target, "ops", "why", T0)
    assert sm.state is target


@pytest.mark.parametrize("target", [A, R])
def test_leaving_halted_needs_resume(target: TradingState) -> None:
    sm = TradingStateMachine(H)
    with pytest.raises(InvalidTransition, match="explicit resume"):
        sm.transition(target, "ops", "why", T0)
    assert sm.state is H


def test_same_state_is_refused() -> None:
    sm = TradingStateMachine(A)
    with pytest.raises(InvalidTransition, match="already ACTIVE"):
        sm.transition(A, "ops", "why", T0)


@pytest.mark.parametrize(("who", "reason"), [("", "why"), ("ops", ""), ("ops", "  ")])
def test_who_and_reason_are_required(who: str, reason: str) -> None:
    sm = TradingStateMachine()
    with pytest.raises(InvalidTransition):
        sm.transition(H, who, reason, T0)
    with pytest.raises(InvalidTransition):
        sm.resume(who, reason, T0)
    assert sm.state is A


def test_resume_from_halted_with_reason() -> None:
    sm = TradingStateMachine(H)
    event = sm.resume("alice", "venue back, breakers reset", T0 + timedelta(minutes=5))
    assert sm.state is A
    assert (event.previous, event.current, event.who) == (H, A, "alice")


def test_resume_to_reducing() -> None:
    sm = TradingStateMachine(H)
    sm.resume("alice", "unwind only", T0, target=R)
    assert sm.state is R


def test_resume_refused_while_blocked() -> None:
    sm = TradingStateMachine(H)
    with pytest.raises(InvalidTransition, match="high_latency"):
        sm.resume("alice", "go", T0, blockers=["high_latency"])
    assert sm.state is H


def test_resume_that_loosens_nothing_is_refused() -> None:
    sm = TradingStateMachine(A)
    with pytest.raises(InvalidTransition, match="loosens nothing"):
        sm.resume("alice", "go", T0)


def test_escalate_only_tightens() -> None:
    sm = TradingStateMachine(H)
    assert sm.escalate(R, "breaker:x", "trip", T0) is None
    assert sm.state is H
    sm2 = TradingStateMachine(R)
    event = sm2.escalate(H, "breaker:y", "trip", T0)
    assert event is not None and sm2.state is H


def test_gate_follows_the_state() -> None:
    gate = HaltGate()
    sm = TradingStateMachine(gate=gate)
    sm.transition(H, "kill switch", "operator pressed kill", T0)
    assert gate.is_halted
    with pytest.raises(TradingHalted):
        gate.ensure_open()
    sm.resume("alice", "all clear", T0)
    assert not gate.is_halted


def test_starting_halted_closes_the_gate() -> None:
    gate = HaltGate()
    TradingStateMachine(H, gate=gate)
    assert gate.is_halted


def test_reducing_does_not_close_the_gate() -> None:
    gate = HaltGate()
    sm = TradingStateMachine(gate=gate)
    sm.transition(R, "breaker:x", "trip", T0)
    assert not gate.is_halted


def test_starting_halted_keeps_the_persisted_reason() -> None:
    gate = HaltGate()
    TradingStateMachine(H, gate=gate, initial_reason="kill switch by alice (persisted)")
    assert gate.reason == "kill switch by alice (persisted)"
