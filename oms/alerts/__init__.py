"""Alerts: what the desk must notice (breaker trips, halts, reject bursts, parents completed or
failed, reconciliation mismatches), derived from what the engine commits (``feed``), shown on
the dashboard and sent out through apprise from a thread of their own (``notify``).

Modules: ``model`` (Alert, AlertKind, Severity), ``feed`` (AlertFeed: the journal tap and the
latest alerts), ``notify`` (Notifier: bounded queue, rate limit, apprise), ``redact`` (apprise
URLs shown without their tokens).
"""
