"""Notifier: sends alerts through apprise (Slack, Telegram, e-mail, JSON webhooks) from a thread
of its own, so a slow or dead receiver can never hold up the engine.

``submit`` (any thread, never blocks on I/O) applies the per-kind rate limit, then appends to a
bounded queue; when the queue is full the OLDEST alert is dropped and counted (the newest says
most about now). The sender thread takes one alert at a time and sends it to every URL with the
apprise socket timeouts set from ``send_timeout_s``. URLs hold tokens: they are logged and shown
only redacted (``oms.alerts.redact``), also in apprise's own log records.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from oms.alerts.model import Alert, AlertKind, Severity
from oms.alerts.redact import protect_apprise_log, redact_url
from oms.config import AlertSettings
from oms.errors import ConfigError

__all__ = ["Notifier", "NotifierStats"]

log = logging.getLogger(__name__)
_STOP_WAIT_S = 2.0


@dataclass(frozen=True, slots=True)
class NotifierStats:
    """Counters of the outbound side, for the dashboard and /metrics."""

    destinations: tuple[str, ...]  # redacted URLs
    queued: int
    sent: int
    failed: int
    dropped: int  # oldest alerts pushed out of a full queue
    suppressed: int  # refused by the rate limit


def _with_timeouts(url: str, timeout_s: float) -> str:
    """The URL with apprise's connect/read timeouts (``cto``/``rto``) unless it sets them."""
    if "cto=" in url or "rto=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}cto={timeout_s:g}&rto={timeout_s:g}"


class Notifier:
    """Rate-limited, bounded, threaded sending of alerts (``start``/``stop``)."""

    def __init__(self, settings: AlertSettings, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 send: Callable[[Alert], bool] | None = None) -> None:
        urls = [url.get_secret_value() for url in settings.urls]
        self.destinations = tuple(redact_url(url) for url in urls)
        self._send = send or self._apprise_sender(urls, settings.send_timeout_s)
        self.queue_size = settings.queue_size
        self.window_s = settings.rate_limit_window_s
        self._limits = {kind: settings.rate_limit_per_kind.get(kind.value,
                                                                settings.rate_limit_count)
                        for kind in AlertKind}
        self._monotonic = monotonic
        self._queue: deque[Alert] = deque()
        self._recent: dict[AlertKind, deque[float]] = {kind: deque() for kind in AlertKind}
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.sent = self.failed = self.dropped = self.suppressed = 0

    def _apprise_sender(self, urls: list[str], timeout_s: float) -> Callable[[Alert], bool]:
        import apprise

        protect_apprise_log(*urls)  # before apprise loads them: it logs each URL it loads
        client = apprise.Apprise()
        for index, url in enumerate(urls):
            if not client.add(_with_timeouts(url, timeout_s)):
                raise ConfigError(f"OMS_ALERTS__URLS[{index}] ({redact_url(url)}) is refused "
                                  "by apprise")
        types = {Severity.CRITICAL: apprise.NotifyType.FAILURE,
                 Severity.WARNING: apprise.NotifyType.WARNING,
                 Severity.INFO: apprise.NotifyType.INFO}

        def send(alert: Alert) -> bool:
            kind = (apprise.NotifyType.SUCCESS if alert.kind is AlertKind.PARENT_COMPLETED
                    else types[alert.severity])
            return bool(client.notify(title=f"[OMS {alert.severity}] {alert.title}",
                                      body=_body(alert), notify_type=kind))

        return send

    # -- any thread -------------------------------------------------------------------------

    def submit(self, alert: Alert) -> bool:
        """Queue ``alert`` unless its kind is over the rate limit (False then). Never blocks:
        a full queue drops its oldest alert."""
        now = self._monotonic()
        recent = self._recent[alert.kind]
        with self._wake:  # held for a few appends only; the sender never holds it while sending
            while recent and now - recent[0] >= self.window_s:
                recent.popleft()
            if len(recent) >= self._limits[alert.kind]:
                self.suppressed += 1
                return False
            recent.append(now)
            if len(self._queue) >= self.queue_size:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(alert)
            self._wake.notify()
        return True

    def stats(self) -> NotifierStats:
        """The counters now."""
        with self._wake:
            return NotifierStats(self.destinations, len(self._queue), self.sent, self.failed,
                                 self.dropped, self.suppressed)

    # -- the sender thread ------------------------------------------------------------------

    def start(self) -> None:
        """Start the sender thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="oms-alerts", daemon=True)
        self._thread.start()
        log.info("alerts: sending to %s", ", ".join(self.destinations) or "nowhere")

    def stop(self) -> None:
        """Stop the sender; what is still queued is not sent (a stalled receiver must not hold
        up the shutdown either, hence a bounded join of a daemon thread)."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=_STOP_WAIT_S)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                alert = self._queue.popleft()
            try:
                ok = self._send(alert)
            except Exception as exc:  # a plugin error must not end the thread
                ok = False
                log.warning("alerts: sending %s failed: %s", alert.kind, type(exc).__name__)
            with self._wake:
                if ok:
                    self.sent += 1
                else:
                    self.failed += 1
            if not ok:
                log.warning("alerts: %s alert %d not delivered to every destination",
                            alert.kind, alert.alert_id)


def _body(alert: Alert) -> str:
    raised = alert.raised_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    market = alert.market_ts.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (f"{alert.message}\n{alert.severity} {alert.kind} · {raised} · market time "
            f"{market} · {alert.subject}")
