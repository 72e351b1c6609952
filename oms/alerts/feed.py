"""AlertFeed: alerts derived from what the engine commits, and the latest of them.

The engine's journal calls ``tap`` with each batch it has just committed (engine thread), so an
alert is a fact in the database, never a guess: a ``BREAKER_TRIP`` or ``RECONCILE`` risk event,
a ``TRADING_STATE`` change to HALTED (kill switch, breaker, reconciliation or failing ticks), a
``ParentCompleted``/``ParentFailed`` audit row, and bursts of ``OrderRejected``/``OrderDenied``
rows (halt denials excluded: after a kill every child is denied by design). ``tap`` only looks
at a handful of rows, swaps an immutable tuple and hands each alert to the sink (the Notifier,
which never blocks); it never raises into the engine.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import Counter, deque
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from oms.alerts.model import Alert, AlertKind, Severity
from oms.config import AlertSettings
from oms.persistence.repository import WriteBatch
from oms.persistence.rows import JsonText

__all__ = ["MAX_ALERTS", "AlertFeed", "AlertSink"]

log = logging.getLogger(__name__)
MAX_ALERTS = 200  # the dashboard's list; the database keeps every risk event
_REJECT_EVENTS = frozenset({"OrderRejected", "OrderDenied"})
_PARENT_EVENTS = {"ParentCompleted": (AlertKind.PARENT_COMPLETED, Severity.INFO, "completed"),
                  "ParentFailed": (AlertKind.PARENT_FAILED, Severity.WARNING, "failed")}
_HALTING_MISMATCHES = frozenset({"UNKNOWN_ORDER", "MISSING_ORDER"})


class AlertSink(Protocol):
    """Where new alerts go besides the dashboard (the Notifier); must not block."""

    def submit(self, alert: Alert) -> bool: ...


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    """A row's JSON payload: the journal's encoded ``JsonText`` (or plain JSON text)."""
    raw = row.get("payload")
    try:
        value = raw.value() if isinstance(raw, JsonText) else json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


class AlertFeed:
    """Derives alerts from committed batches; ``latest()`` is safe from any thread."""

    def __init__(self, settings: AlertSettings, sink: AlertSink | None = None, *,
                 max_alerts: int = MAX_ALERTS) -> None:
        self.sink = sink
        self.max_alerts = max_alerts
        self.burst_count = settings.reject_burst_count
        self.burst_window = timedelta(seconds=settings.reject_burst_window_s)
        self._latest: tuple[Alert, ...] = ()  # replaced whole, never mutated: no lock to read
        self._ids = itertools.count(1)
        self._rejects: deque[tuple[datetime, str]] = deque()  # (engine time, reason code)
        self.raised: Counter[AlertKind] = Counter()  # engine thread writes, metrics read

    def latest(self) -> tuple[Alert, ...]:
        """The latest alerts, newest first."""
        return self._latest

    def tap(self, batch: WriteBatch) -> None:
        """Journal hook (engine thread, after the commit): derive and publish the alerts."""
        try:
            alerts = [*self._from_risk_events(batch.risk_events),
                      *self._from_audit(batch.audit)]
        except Exception:  # a malformed row must never fail the engine's tick
            log.exception("alerts: could not derive alerts from a committed batch")
            return
        if alerts:
            self.publish(alerts)

    def publish(self, alerts: Iterable[Alert]) -> None:
        """Add alerts (oldest first) to the list and hand them to the sink."""
        fresh = list(alerts)
        self._latest = (*reversed(fresh), *self._latest)[:self.max_alerts]
        for alert in fresh:
            self.raised[alert.kind] += 1
            if self.sink is not None:
                self.sink.submit(alert)

    def _alert(self, kind: AlertKind, severity: Severity, title: str, message: str,
               market_ts: datetime, subject: str) -> Alert:
        return Alert(next(self._ids), kind, severity, title, message, datetime.now(UTC),
                     market_ts, subject)

    def _from_risk_events(self, rows: list[dict[str, Any]]) -> Iterable[Alert]:
        for row in rows:
            kind, code, ts = row["kind"], str(row["code"]), row["ts"]
            message = str(row.get("message") or "")
            if kind == "BREAKER_TRIP":
                halts = _payload(row).get("action", "HALTED") == "HALTED"
                yield self._alert(AlertKind.BREAKER_TRIP,
                                  Severity.CRITICAL if halts else Severity.WARNING,
                                  f"Breaker {code} tripped", message, ts, code)
            elif kind == "TRADING_STATE" and code == "HALTED":
                yield self._alert(AlertKind.HALT, Severity.CRITICAL, "Trading HALTED",
                                  f"{message} (by {row.get('actor') or 'engine'})", ts, "account")
            elif kind == "RECONCILE":
                severity = Severity.CRITICAL if code in _HALTING_MISMATCHES else Severity.WARNING
                subject = str(row.get("entity_id") or row.get("symbol") or "account")
                yield self._alert(AlertKind.RECONCILE_MISMATCH, severity,
                                  f"Reconciliation: {code} {subject}", message, ts, subject)

    def _from_audit(self, rows: list[dict[str, Any]]) -> Iterable[Alert]:
        for row in rows:
            event = row["event"]
            if event in _REJECT_EVENTS:
                burst = self._reject_seen(row)
                if burst is not None:
                    yield burst
            elif event in _PARENT_EVENTS:
                kind, severity, verb = _PARENT_EVENTS[event]
                payload = _payload(row)
                parent_id = str(row["entity_id"])
                yield self._alert(
                    kind, severity, f"Parent {parent_id} {verb}",
                    f"filled {payload.get('filled', '?')} of {payload.get('quantity', '?')}: "
                    f"{payload.get('reason', '')}".rstrip(": "), row["ts"], parent_id)

    def _reject_seen(self, row: dict[str, Any]) -> Alert | None:
        """Count one rejection; an alert when ``burst_count`` fell within the window (engine
        time), after which counting starts again (one alert per burst, not per reject)."""
        payload = _payload(row)
        if payload.get("source") == "HALT":
            return None
        ts: datetime = row["ts"]
        self._rejects.append((ts, str(payload.get("code", "?"))))
        while ts - self._rejects[0][0] > self.burst_window:
            self._rejects.popleft()
        if len(self._rejects) < self.burst_count:
            return None
        codes = Counter(code for _, code in self._rejects)
        text = ", ".join(f"{code} x{n}" for code, n in codes.most_common(3))
        count = len(self._rejects)
        self._rejects.clear()
        return self._alert(AlertKind.REJECT_BURST, Severity.WARNING,
                           f"{count} children rejected within "
                           f"{self.burst_window.total_seconds():g} s",
                           f"reason codes: {text}", ts, "orders")
