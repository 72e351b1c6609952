"""``/metrics``: the OMS in the Prometheus text format (prometheus_client).

Each app gets its own CollectorRegistry (never the process-global one), so tests build isolated
apps. The tick duration is a Histogram the runtime observes after each job run; everything else
is read at scrape time from the latest immutable snapshot, the runtime's health, the command
queue and the alert side (a custom collector: nothing is copied on the engine's hot path).
The route is guarded like the REST API (``oms.auth``: the loopback rule, Basic or Bearer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import flask
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from oms.auth import METRICS_PATH
from oms.bootstrap import Oms
from oms.directory import current_oms
from oms.errors import NotFound, ValidationError
from oms.model import TradingState

__all__ = ["TICK_BUCKETS_S", "build_registry", "install_metrics"]

# a tick is a few ms when idle and tens of ms with hundreds of working children; past a second
# the scheduler starts to miss runs
TICK_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _OmsCollector(Collector):
    """Reads one OMS at scrape time (``oms_of``: which one, e.g. the scrape's account)."""

    def __init__(self, oms_of: Callable[[], Oms]) -> None:
        self.oms_of = oms_of

    def collect(self) -> Iterator[Metric]:
        oms = self.oms_of()
        snap = oms.service.snapshot()
        counts = snap.executions
        yield CounterMetricFamily("oms_engine_ticks", "Engine ticks published", value=snap.tick)
        yield CounterMetricFamily("oms_children_sent", "Child orders sent to the venue",
                                  value=counts.sent)
        yield CounterMetricFamily("oms_children_filled", "Child orders completely filled",
                                  value=counts.filled)
        yield CounterMetricFamily("oms_fills", "Fill events applied", value=counts.fills)
        rejected = CounterMetricFamily("oms_children_rejected",
                                       "Child orders rejected or denied, by reason code",
                                       labels=["code"])
        for code, count in counts.rejected:
            rejected.add_metric([code], count)
        yield rejected
        yield from self._risk(snap.breakers, snap.trading_state, oms.gate.is_halted)
        yield GaugeMetricFamily("oms_command_queue_depth", "Commands waiting for a tick",
                                value=oms.service.command_queue_depth())
        health = oms.runtime.health()
        yield CounterMetricFamily("oms_scheduler_missed", "Scheduler runs missed",
                                  value=health.missed)
        yield CounterMetricFamily("oms_scheduler_errors", "Scheduler runs that raised",
                                  value=health.errors)
        yield SummaryMetricFamily("oms_venue_round_trip_milliseconds",
                                  "Order round trips to the venue (send to acknowledgement)",
                                  count_value=counts.latency_count,
                                  sum_value=counts.latency_sum_ms)
        yield GaugeMetricFamily("oms_venue_last_round_trip_milliseconds",
                                "The last order round trip to the venue",
                                value=counts.last_latency_ms or 0.0)
        yield GaugeMetricFamily("oms_working_parents", "Parents not yet retired",
                                value=snap.counts.get("working_parents", 0))
        yield GaugeMetricFamily("oms_open_children", "Children that may still fill",
                                value=snap.counts.get("open_children", 0))
        yield from self._alerts(oms)

    @staticmethod
    def _risk(breakers: dict[str, dict[str, object]], state: TradingState,
              halted_now: bool) -> Iterator[Metric]:
        tripped = GaugeMetricFamily("oms_breaker_tripped", "1 while a circuit breaker is tripped",
                                    labels=["breaker"])
        by_state = GaugeMetricFamily("oms_breaker_state", "Circuit breaker state (1 = current)",
                                     labels=["breaker", "state"])
        for name, info in sorted(breakers.items()):
            current = str(info.get("state", "ARMED"))
            tripped.add_metric([name], 0.0 if current == "ARMED" else 1.0)
            by_state.add_metric([name, current], 1.0)
        yield tripped
        yield by_state
        # the halt gate wins over a snapshot one tick old (as on the dashboard)
        current = TradingState.HALTED if halted_now else state
        trading = GaugeMetricFamily("oms_trading_state", "Trading state (1 = current)",
                                    labels=["state"])
        for value in TradingState:
            trading.add_metric([value.value], 1.0 if value is current else 0.0)
        yield trading

    @staticmethod
    def _alerts(oms: Oms) -> Iterator[Metric]:
        raised = CounterMetricFamily("oms_alerts", "Alerts raised, by kind", labels=["kind"])
        for kind, count in sorted(oms.alerts.raised.items()):
            raised.add_metric([kind.value], count)
        yield raised
        notifier = oms.notifier
        if notifier is None:
            return
        stats = notifier.stats()
        for name, value, text in (
                ("sent", stats.sent, "Alert notifications delivered"),
                ("failed", stats.failed, "Alert notifications that failed"),
                ("dropped", stats.dropped, "Alert notifications dropped (queue full)"),
                ("suppressed", stats.suppressed, "Alert notifications refused by the rate limit")):
            yield CounterMetricFamily(f"oms_alert_notifications_{name}", text, value=value)
        yield GaugeMetricFamily("oms_alert_queue_depth", "Alert notifications waiting to be sent",
                                value=stats.queued)


def build_registry(oms: Oms, oms_of: Callable[[], Oms] | None = None) -> CollectorRegistry:
    """A registry of its own for ``oms`` (or, at each scrape, for ``oms_of()``); ``oms``'s
    runtime feeds its tick histogram."""
    registry = CollectorRegistry(auto_describe=False)
    histogram = Histogram("oms_tick_duration_seconds",
                          "Wall time of one engine job run (sub-steps included)",
                          buckets=TICK_BUCKETS_S, registry=registry)
    oms.runtime.tick_observers.append(histogram.observe)
    registry.register(_OmsCollector(oms_of or (lambda: oms)))
    return registry


def install_metrics(server: flask.Flask, oms: Oms) -> CollectorRegistry:
    """Serve the metrics of the scrape's account (``/metrics?account=NAME``, ``oms``'s without
    one) at ``/metrics`` on ``server``; returns the registry."""
    registry = build_registry(oms, current_oms)

    def metrics() -> flask.Response:
        try:
            current_oms()
        except (NotFound, ValidationError) as exc:
            return flask.Response(f"{exc}\n", status=404 if isinstance(exc, NotFound) else 422,
                                  content_type="text/plain")
        return flask.Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    server.add_url_rule(METRICS_PATH, "oms_metrics", metrics, methods=["GET"])
    return registry
