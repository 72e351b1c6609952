"""The four circuit breakers: observations in, trips out; a person re-arms them.

Each breaker counts *occurrences* (observations strictly above its threshold) in a rolling,
inclusive window: an occurrence at ``t`` still counts at ``now`` while ``now - t <= window``.
When ``count`` occurrences are in the window the breaker trips once, returns a ``BreakerTrip``
(the engine then moves the account to the trip's action) and ignores observations until reset.

- high_slippage: one child order's adverse slippage in bps (positive = worse than the mid when
  it was created, for a buy and for a sell alike), observed once, when the child is done: its
  average price over all its fills, so one order walking several book levels is one observation.
- high_rejection: every order result (rejected or not) enters a rolling window of results
  (``rate_window_s``, default the breaker window); a *rejection* that leaves the rejection rate
  of that window above the threshold (percent) is an occurrence. So five rejections among many
  accepted orders (rate at or below 10 %) do not trip it.
- high_latency: an order round trip in ms.
- market_stress: one market move in bps (absolute: a shock either way counts), from a single
  source (the mid's move between two ticks), so one move is one observation.

States: ARMED -> TRIPPED (no cooldown) or COOLDOWN (cooldown configured) -> REARMABLE once the
cooldown has passed (``tick``). ``reset`` by a person re-arms TRIPPED or REARMABLE breakers;
during COOLDOWN it is refused. Re-arming never resumes trading: that is the state machine's
explicit ``resume``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from oms.config import BreakerSettings, CircuitBreakerSettings
from oms.errors import InvalidTransition
from oms.model.enums import TradingState

__all__ = [
    "BREAKER_NAMES",
    "BreakerObservation",
    "BreakerRearmable",
    "BreakerReset",
    "BreakerState",
    "BreakerStatus",
    "BreakerTrip",
    "CircuitBreakers",
]

BREAKER_NAMES = ("high_slippage", "high_rejection", "high_latency", "market_stress")

_DESCRIPTIONS = {
    "high_slippage": "child orders slipped more than {threshold:g} bps",
    "high_rejection": "rejections with the rejection rate above {threshold:g}%",
    "high_latency": "order round trips above {threshold:g} ms",
    "market_stress": "price impacts above {threshold:g} bps",
}


class BreakerState(StrEnum):
    """Lifecycle of one breaker."""

    ARMED = "ARMED"
    TRIPPED = "TRIPPED"
    COOLDOWN = "COOLDOWN"
    REARMABLE = "REARMABLE"


@dataclass(frozen=True, slots=True)
class BreakerObservation:
    """One occurrence that counted towards a trip: when and the observed value."""

    at: datetime
    value: float

    def __str__(self) -> str:
        return f"{self.at.isoformat()} {self.value:g}"


@dataclass(frozen=True, slots=True)
class BreakerTrip:
    """A breaker tripped: the account must move to ``action``; ``observations`` tripped it."""

    name: str
    action: TradingState
    observations: tuple[BreakerObservation, ...]
    at: datetime
    reason: str

    def __str__(self) -> str:
        return self.reason

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for risk_events (observations as ISO time and value)."""
        return {
            "name": self.name,
            "action": self.action.value,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "observations": [{"at": o.at.isoformat(), "value": o.value}
                             for o in self.observations],
        }


@dataclass(frozen=True, slots=True)
class BreakerReset:
    """A person re-armed a breaker."""

    name: str
    who: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class BreakerRearmable:
    """A tripped breaker's cooldown has passed; a person may now re-arm it."""

    name: str
    at: datetime


@dataclass(frozen=True, slots=True)
class BreakerStatus:
    """Snapshot of one breaker for the dashboard."""

    name: str
    state: BreakerState
    action: TradingState
    threshold: float
    count: int
    window_s: float
    enabled: bool
    occurrences_in_window: int
    last_trip_at: datetime | None
    last_reason: str
    cooldown_until: datetime | None

    @property
    def tripped(self) -> bool:
        """True unless the breaker is ARMED."""
        return self.state is not BreakerState.ARMED

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (ISO times, enum values) for the snapshot and the dashboard."""
        return {
            "name": self.name,
            "state": self.state.value,
            "tripped": self.tripped,
            "action": self.action.value,
            "threshold": self.threshold,
            "count": self.count,
            "window_s": self.window_s,
            "enabled": self.enabled,
            "occurrences_in_window": self.occurrences_in_window,
            "last_trip_at": self.last_trip_at.isoformat() if self.last_trip_at else None,
            "last_reason": self.last_reason,
            "cooldown_until": self.cooldown_until.isoformat() if self.cooldown_until else None,
        }


class _Breaker:
    """One breaker's rolling occurrences and lifecycle."""

    def __init__(self, name: str, settings: BreakerSettings) -> None:
        self.name = name
        self.state = BreakerState.ARMED
        self.occurrences: deque[BreakerObservation] = deque()
        self.last_trip: BreakerTrip | None = None
        self.cooldown_until: datetime | None = None
        self.configure(settings)

    def configure(self, settings: BreakerSettings) -> None:
        self.settings = settings
        self.threshold = settings.threshold
        self.window = timedelta(seconds=settings.window_s)
        self.action = TradingState(settings.action)

    def prune(self, now: datetime) -> None:
        cutoff = now - self.window
        occurrences = self.occurrences
        while occurrences and occurrences[0].at < cutoff:
            occurrences.popleft()

    def occur(self, value: float, now: datetime) -> BreakerTrip | None:
        """Count one occurrence; trip when ``count`` are inside the window."""
        if self.state is not BreakerState.ARMED or not self.settings.enabled:
            return None
        self.occurrences.append(BreakerObservation(now, value))
        self.prune(now)
        if len(self.occurrences) < self.settings.count:
            return None
        observed = tuple(self.occurrences)
        self.occurrences.clear()
        what = _DESCRIPTIONS[self.name].format(threshold=self.threshold)
        values = ", ".join(f"{o.value:g}" for o in observed)
        reason = (
            f"{self.name.upper()}: {len(observed)} {what} within {self.settings.window_s:g}s "
            f"({values}) -> {self.action}"
        )
        trip = BreakerTrip(self.name, self.action, observed, now, reason)
        self.last_trip = trip
        if self.settings.cooldown_s is None:
            self.state = BreakerState.TRIPPED
        else:
            self.state = BreakerState.COOLDOWN
            self.cooldown_until = now + timedelta(seconds=self.settings.cooldown_s)
        return trip

    def status(self, now: datetime | None) -> BreakerStatus:
        if now is not None:
            self.prune(now)
        last = self.last_trip
        return BreakerStatus(
            name=self.name,
            state=self.state,
            action=self.action,
            threshold=self.threshold,
            count=self.settings.count,
            window_s=self.settings.window_s,
            enabled=self.settings.enabled,
            occurrences_in_window=len(self.occurrences),
            last_trip_at=last.at if last else None,
            last_reason=last.reason if last else "",
            cooldown_until=self.cooldown_until if self.state is BreakerState.COOLDOWN else None,
        )


class CircuitBreakers:
    """The four breakers of one account; the engine feeds observations and acts on trips."""

    def __init__(self, settings: CircuitBreakerSettings | None = None) -> None:
        settings = settings or CircuitBreakerSettings()
        self._breakers = {name: _Breaker(name, getattr(settings, name)) for name in BREAKER_NAMES}
        self._slippage = self._breakers["high_slippage"]
        self._rejection = self._breakers["high_rejection"]
        self._latency = self._breakers["high_latency"]
        self._stress = self._breakers["market_stress"]
        self._results: deque[tuple[datetime, bool]] = deque()
        self._rejected_in_window = 0
        self._now: datetime | None = None
        self.configure(settings)

    def configure(self, settings: CircuitBreakerSettings) -> None:
        """Apply new settings (thresholds, counts, windows, actions); states are kept."""
        for name, breaker in self._breakers.items():
            breaker.configure(getattr(settings, name))
        rejection = settings.high_rejection
        self._rate_window = timedelta(seconds=rejection.rate_window_s or rejection.window_s)

    def on_child_slippage(self, slippage_bps: float, now: datetime) -> BreakerTrip | None:
        """A finished child slipped ``slippage_bps`` on average (adverse positive); trips
        high_slippage. Call it once per child order, never per fill."""
        self._now = now
        breaker = self._slippage
        if slippage_bps > breaker.threshold:
            return breaker.occur(slippage_bps, now)
        return None

    def on_order_result(self, rejected: bool, now: datetime) -> BreakerTrip | None:
        """An order was accepted (False) or rejected (True) by the venue; trips high_rejection."""
        self._now = now
        results = self._results
        results.append((now, rejected))
        if rejected:
            self._rejected_in_window += 1
        cutoff = now - self._rate_window
        while results and results[0][0] < cutoff:
            _, was_rejected = results.popleft()
            if was_rejected:
                self._rejected_in_window -= 1
        if not rejected:
            return None
        rate_pct = 100.0 * self._rejected_in_window / len(results)
        breaker = self._rejection
        if rate_pct > breaker.threshold:
            return breaker.occur(round(rate_pct, 2), now)
        return None

    def rejection_rate_pct(self) -> float:
        """Rejection rate (percent) over the current rolling window of order results."""
        if not self._results:
            return 0.0
        return 100.0 * self._rejected_in_window / len(self._results)

    def on_latency(self, ms: float, now: datetime) -> BreakerTrip | None:
        """An order round trip took ``ms`` milliseconds; trips high_latency."""
        self._now = now
        breaker = self._latency
        if ms > breaker.threshold:
            return breaker.occur(ms, now)
        return None

    def on_price_impact(self, impact_bps: float, now: datetime) -> BreakerTrip | None:
        """The market moved ``impact_bps`` (either sign) on our flow or a shock: market_stress.
        Call it once per move."""
        self._now = now
        breaker = self._stress
        if abs(impact_bps) > breaker.threshold:
            return breaker.occur(abs(impact_bps), now)
        return None

    def tick(self, now: datetime) -> list[BreakerRearmable]:
        """Expire cooldowns: COOLDOWN breakers whose time has come become REARMABLE."""
        self._now = now
        events: list[BreakerRearmable] = []
        for breaker in self._breakers.values():
            until = breaker.cooldown_until
            if breaker.state is BreakerState.COOLDOWN and until is not None and now >= until:
                breaker.state = BreakerState.REARMABLE
                breaker.cooldown_until = None
                events.append(BreakerRearmable(breaker.name, now))
        return events

    def reset(self, name: str, who: str, reason: str, now: datetime) -> BreakerReset:
        """Re-arm a TRIPPED or REARMABLE breaker (a person's act, with a reason).

        Raises InvalidTransition (nothing changed) for an unknown name, a missing who/reason, an
        ARMED breaker or one still in COOLDOWN.
        """
        breaker = self._breakers.get(name)
        if breaker is None:
            raise InvalidTransition(f"unknown breaker {name!r}; known: {', '.join(BREAKER_NAMES)}")
        if not who.strip() or not reason.strip():
            raise InvalidTransition("resetting a breaker needs who and a reason")
        if breaker.state is BreakerState.ARMED:
            raise InvalidTransition(f"breaker {name} is already ARMED")
        if breaker.state is BreakerState.COOLDOWN:
            raise InvalidTransition(f"breaker {name} cools down until {breaker.cooldown_until}")
        breaker.state = BreakerState.ARMED
        breaker.cooldown_until = None
        breaker.occurrences.clear()
        if name == "high_rejection":
            self._results.clear()
            self._rejected_in_window = 0
        return BreakerReset(name, who, reason, now)

    def restore_trip(self, name: str, at: datetime, reason: str) -> None:
        """Mark ``name`` tripped at start-up from the persisted trip (a restart keeps it tripped).

        With a cooldown configured it resumes the cooldown from ``at``; call ``tick`` after.
        """
        breaker = self._breakers.get(name)
        if breaker is None:
            raise InvalidTransition(f"unknown breaker {name!r}; known: {', '.join(BREAKER_NAMES)}")
        breaker.occurrences.clear()
        breaker.last_trip = BreakerTrip(name, breaker.action, (), at, reason)
        cooldown = breaker.settings.cooldown_s
        if cooldown is None:
            breaker.state = BreakerState.TRIPPED
            breaker.cooldown_until = None
        else:
            breaker.state = BreakerState.COOLDOWN
            breaker.cooldown_until = at + timedelta(seconds=cooldown)

    def state(self) -> dict[str, BreakerStatus]:
        """Status of every breaker (for the engine snapshot)."""
        return {name: b.status(self._now) for name, b in self._breakers.items()}

    def tripped(self) -> list[str]:
        """Names of breakers that are not ARMED (blockers for resuming trading)."""
        return [name for name, b in self._breakers.items() if b.state is not BreakerState.ARMED]

    def blocking(self) -> list[str]:
        """Names of breakers that block a resume (every breaker not ARMED); same as ``tripped``."""
        return self.tripped()
