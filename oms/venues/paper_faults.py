"""Latency and scripted faults of the paper venue (all deterministic for a seed).

Tests and the risk issue's circuit-breaker scenarios script faults on a ``FaultPlan``::

    venue.faults.reject_rate = 0.2                        # 20% of new orders rejected (-2010)
    venue.faults.add_outage(t0, t0 + timedelta(minutes=2))  # unreachable: VenueUnavailable
    venue.faults.add_latency_spike(t1, t2, extra_ms=1500)   # slow acks, fills and cancels
    venue.price_shock("BTCUSDT", -300, at=t3)              # the mid drops 3% at t3 (market)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime

from oms.clock import utc

__all__ = ["FaultPlan", "LatencyModel", "LatencySpike", "Outage"]


@dataclass(frozen=True, slots=True)
class Outage:
    """The venue is unreachable in [start, end): sends and cancels raise VenueUnavailable."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class LatencySpike:
    """Every request sent in [start, end) takes ``extra_ms`` longer (round trip)."""

    start: datetime
    end: datetime
    extra_ms: float


@dataclass(slots=True)
class FaultPlan:
    """Faults on demand: a reject rate, outages and latency spikes."""

    reject_rate: float = 0.0
    outages: list[Outage] = field(default_factory=list)
    spikes: list[LatencySpike] = field(default_factory=list)

    def add_outage(self, start: datetime, end: datetime) -> Outage:
        """Make the venue unreachable in [start, end)."""
        outage = Outage(utc(start), utc(end))
        self.outages.append(outage)
        return outage

    def add_latency_spike(self, start: datetime, end: datetime, extra_ms: float) -> LatencySpike:
        """Add ``extra_ms`` to every request sent in [start, end)."""
        spike = LatencySpike(utc(start), utc(end), extra_ms)
        self.spikes.append(spike)
        return spike

    def clear(self) -> None:
        """Remove every fault."""
        self.reject_rate = 0.0
        self.outages.clear()
        self.spikes.clear()

    def unreachable(self, now: datetime) -> bool:
        """True during an outage."""
        return any(o.start <= now < o.end for o in self.outages) if self.outages else False

    def extra_latency_ms(self, now: datetime) -> float:
        """Spike latency for a request sent at ``now``."""
        if not self.spikes:
            return 0.0
        return sum(s.extra_ms for s in self.spikes if s.start <= now < s.end)


class LatencyModel:
    """Round-trip latency: log-normal with median ``median_ms`` and spread from ``jitter_ms``.

    ``jitter_ms`` is about the standard deviation; 0 gives a fixed latency, and a median of 0 an
    instantaneous venue (handy in unit tests).
    """

    __slots__ = ("_rng", "median_s", "sigma")

    def __init__(self, median_ms: float, jitter_ms: float, rng: random.Random) -> None:
        self.median_s = max(median_ms, 0.0) / 1000.0
        ratio = jitter_ms / median_ms if median_ms > 0 else 0.0
        self.sigma = math.sqrt(math.log1p(ratio * ratio))
        self._rng = rng

    def draw(self, extra_ms: float = 0.0) -> float:
        """One round trip, in seconds."""
        if self.median_s <= 0.0:
            return extra_ms / 1000.0
        if self.sigma <= 0.0:
            return self.median_s + extra_ms / 1000.0
        return self.median_s * math.exp(self.sigma * self._rng.gauss(0.0, 1.0)) + extra_ms / 1000.0
