"""ExecutionCounters: what the engine has sent, filled and had rejected since the process
started, and the venue round trips (engine thread writes; the snapshot publishes a frozen copy
that /metrics reads)."""

from __future__ import annotations

from collections import Counter

from oms.snapshot import ExecutionCounts

__all__ = ["ExecutionCounters"]


class ExecutionCounters:
    """Monotonic counts of one engine (reset only by a restart, as Prometheus counters are)."""

    def __init__(self) -> None:
        self.sent = 0
        self.filled = 0  # children that reached FILLED
        self.fills = 0  # fill events applied
        self.rejected: Counter[str] = Counter()  # reason code -> children rejected or denied
        self.latency_count = 0
        self.latency_sum_ms = 0.0
        self.last_latency_ms: float | None = None

    def on_latency(self, ms: float) -> None:
        """One order round trip (acknowledgement) in milliseconds."""
        self.latency_count += 1
        self.latency_sum_ms += ms
        self.last_latency_ms = ms

    def freeze(self) -> ExecutionCounts:
        """An immutable copy for the snapshot."""
        return ExecutionCounts(self.sent, self.filled, self.fills,
                               tuple(sorted(self.rejected.items())), self.latency_count,
                               self.latency_sum_ms, self.last_latency_ms)
