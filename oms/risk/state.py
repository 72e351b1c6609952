"""The account trading state (ACTIVE / REDUCING / HALTED) and its transition rules.

Rules:

- Tightening (ACTIVE -> REDUCING -> HALTED, or ACTIVE -> HALTED) is always allowed, with a reason.
- REDUCING -> ACTIVE is allowed through ``transition`` with a reason.
- Leaving HALTED (to ACTIVE or REDUCING) only through ``resume``: an explicit act by a named
  person with a reason, refused while any blocker (e.g. a tripped circuit breaker) is given.
- A transition to the current state is refused (``escalate`` treats it as a no-op instead).

Every change returns a ``TradingStateChanged`` event for the engine to persist (risk_events and
audit log). With a HaltGate attached, entering HALTED closes the gate at once and leaving HALTED
reopens it, so the state and the gate never disagree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from oms.errors import InvalidTransition
from oms.model.enums import TradingState
from oms.risk.halt import HaltGate

__all__ = ["ResumeResult", "TradingStateChanged", "TradingStateMachine"]

_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


@dataclass(frozen=True, slots=True)
class TradingStateChanged:
    """The account's trading state changed from ``previous`` to ``current``: who, why, when."""

    previous: TradingState
    current: TradingState
    who: str
    reason: str
    at: datetime

    def __str__(self) -> str:
        return f"{self.previous} -> {self.current} by {self.who}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ResumeResult:
    """The answer to a resume: the trading state after it, whether it changed, and a sentence
    for the operator (a resume while ACTIVE changes nothing and says so)."""

    state: TradingState
    changed: bool
    message: str


class TradingStateMachine:
    """Holds the trading state; start it from the persisted state so a halt survives a restart."""

    def __init__(
        self,
        initial: TradingState = TradingState.ACTIVE,
        *,
        gate: HaltGate | None = None,
        initial_reason: str = "halted at start (persisted state)",
    ) -> None:
        self._state = initial
        self._gate = gate
        self.last_change: TradingStateChanged | None = None
        if gate is not None and initial is TradingState.HALTED and not gate.is_halted:
            gate.halt(initial_reason)

    @property
    def state(self) -> TradingState:
        """The current trading state."""
        return self._state

    def transition(
        self, target: TradingState, who: str, reason: str, now: datetime
    ) -> TradingStateChanged:
        """Move to ``target`` or raise InvalidTransition (state unchanged); see the module rules."""
        current = self._state
        _require(who, reason)
        if target is current:
            raise InvalidTransition(f"trading state is already {current}")
        if current is TradingState.HALTED:
            raise InvalidTransition(
                f"leaving HALTED (to {target}) needs an explicit resume with a reason"
            )
        return self._apply(target, who, reason, now)

    def escalate(
        self, target: TradingState, who: str, reason: str, now: datetime
    ) -> TradingStateChanged | None:
        """Tighten to ``target`` if it is stricter than the current state; otherwise do nothing.

        Breakers and the kill switch use this: a REDUCING breaker never loosens a HALTED account.
        """
        _require(who, reason)
        if _SEVERITY[target] <= _SEVERITY[self._state]:
            return None
        return self._apply(target, who, reason, now)

    def resume(
        self,
        who: str,
        reason: str,
        now: datetime,
        *,
        target: TradingState = TradingState.ACTIVE,
        blockers: Collection[str] = (),
    ) -> TradingStateChanged:
        """Leave HALTED (or REDUCING) for ``target``: an explicit act by ``who`` with a reason.

        Refused while ``blockers`` is non-empty (pass the names of breakers not yet re-armed).
        """
        _require(who, reason)
        if blockers:
            raise InvalidTransition(
                "cannot resume while blocked by: " + ", ".join(sorted(blockers))
            )
        if _SEVERITY[target] >= _SEVERITY[self._state]:
            raise InvalidTransition(f"resume from {self._state} to {target} loosens nothing")
        return self._apply(target, who, reason, now)

    def _apply(
        self, target: TradingState, who: str, reason: str, now: datetime
    ) -> TradingStateChanged:
        event = TradingStateChanged(self._state, target, who, reason, now)
        gate = self._gate
        if gate is not None:
            if target is TradingState.HALTED:
                gate.halt(reason, now)
            elif self._state is TradingState.HALTED:
                gate.reopen()
        self._state = target
        self.last_change = event
        return event


def _require(who: str, reason: str) -> None:
    if not who.strip():
        raise InvalidTransition("a trading-state change needs who made it")
    if not reason.strip():
        raise InvalidTransition("a trading-state change needs a reason")
