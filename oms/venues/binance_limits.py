"""Binance rate limits: request weight and order counts kept under a margin, 429 back-off, 418 ban.

One RateLimiter serves the whole process: request weight is counted per IP (the venue's signed
calls and the market feed's public calls alike), order counts per account. Limits come from
exchangeInfo ``rateLimits`` (``default_limits`` until it is loaded); usage is counted locally per
fixed window (Binance counts per calendar window too) and corrected upward by the
``X-MBX-USED-WEIGHT-*`` / ``X-MBX-ORDER-COUNT-*`` response headers, the venue's own count.

A 429 blocks every request until its Retry-After; a 418 bans until its Retry-After (2 minutes
to 3 days at Binance), after which requests go out again; a rejected API key (-2015, -1022)
stays until a person clears it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from oms.errors import VenueBanned, VenueUnavailable

__all__ = [
    "BAN_DEFAULT_S",
    "BAN_MAX_S",
    "RateLimit",
    "RateLimiter",
    "VenueStatus",
    "default_limits",
    "limits_from_exchange_info",
]

_INTERVAL_S = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
_HEADER_SUFFIX = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}
BAN_DEFAULT_S = 120.0  # a 418 without Retry-After: Binance's shortest ban
BAN_MAX_S = 3 * 86400.0  # Binance's longest ban; doubling stops here


class VenueStatus(StrEnum):
    """Connection health shown on the dashboard."""

    OK = "OK"
    BACKING_OFF = "BACKING_OFF"  # HTTP 429 or a local limit: nothing sent until the time passes
    BANNED = "BANNED"  # HTTP 418 until its Retry-After, or a rejected key until a person acts


@dataclass(slots=True)
class RateLimit:
    """One limit: ``kind`` is REQUEST_WEIGHT or ORDERS, over ``window_s`` seconds."""

    kind: str
    interval: str
    interval_num: int
    limit: int
    window: int = -1
    used: int = 0

    @property
    def window_s(self) -> int:
        """Length of the window in seconds."""
        return _INTERVAL_S[self.interval] * self.interval_num

    @property
    def header(self) -> str:
        """The response header carrying Binance's count for this limit."""
        prefix = "X-MBX-USED-WEIGHT-" if self.kind == "REQUEST_WEIGHT" else "X-MBX-ORDER-COUNT-"
        return f"{prefix}{self.interval_num}{_HEADER_SUFFIX[self.interval]}"

    def roll(self, epoch_s: float) -> None:
        """Start a new count when a new window began."""
        window = int(epoch_s // self.window_s)
        if window != self.window:
            self.window, self.used = window, 0

    def seconds_left(self, epoch_s: float) -> float:
        """Seconds until the current window ends."""
        return (self.window + 1) * self.window_s - epoch_s


def limits_from_exchange_info(info: dict[str, Any]) -> list[RateLimit]:
    """The REQUEST_WEIGHT and ORDERS limits of an exchangeInfo response."""
    return [
        RateLimit(str(r["rateLimitType"]), str(r["interval"]), int(r["intervalNum"]),
                  int(r["limit"]))
        for r in info.get("rateLimits", [])
        if r.get("rateLimitType") in ("REQUEST_WEIGHT", "ORDERS")
        and r.get("interval") in _INTERVAL_S
    ]


def default_limits() -> list[RateLimit]:
    """Binance spot's published limits, used until exchangeInfo says otherwise."""
    return [RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000), RateLimit("ORDERS", "SECOND", 10, 100),
            RateLimit("ORDERS", "DAY", 1, 200_000)]


def _span(seconds: float) -> str:
    """``seconds`` in words fit for a status line: 45s, 3m05s, 2h10m, 2d04h."""
    s = max(0, math.ceil(seconds))
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 2 * 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


@dataclass(slots=True)
class RateLimiter:
    """Admits a request only if every limit stays under ``margin`` of its value (thread-safe).

    A priority request (a cancel) may use the whole limit; none passes a 429 back-off or a ban.
    """

    margin: float = 0.8
    limits: list[RateLimit] = field(default_factory=list)
    blocked_until: float = 0.0  # epoch seconds; HTTP 429 Retry-After
    throttled_until: float = 0.0  # epoch seconds; a local limit reached its margin (status only)
    banned_until: float = 0.0  # epoch seconds; HTTP 418 Retry-After
    ban_started: float = 0.0
    ban_length_s: float = 0.0
    banned_reason: str = ""  # of the last 418, kept for the dashboard
    key_rejected_reason: str = ""  # -2015 / -1022: stays until clear_ban()
    _listeners: list[Callable[[str], object]] = field(default_factory=list, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def banned(self, epoch_s: float) -> bool:
        """True while a 418 ban runs or after a key rejection."""
        return bool(self.key_rejected_reason) or epoch_s < self.banned_until

    def status(self, epoch_s: float) -> VenueStatus:
        """OK, BACKING_OFF or BANNED at ``epoch_s``."""
        if self.banned(epoch_s):
            return VenueStatus.BANNED
        if epoch_s < max(self.blocked_until, self.throttled_until):
            return VenueStatus.BACKING_OFF
        return VenueStatus.OK

    def describe(self, epoch_s: float) -> str:
        """Status in words, for the dashboard."""
        if self.key_rejected_reason:
            return f"HALTED, {self.key_rejected_reason}: a person must fix the key and clear it"
        status = self.status(epoch_s)
        if status is VenueStatus.BANNED:
            return (f"HALTED, banned by Binance ({self.banned_reason}), "
                    f"{_span(self.banned_until - epoch_s)} left")
        if status is VenueStatus.BACKING_OFF:
            left = max(self.blocked_until, self.throttled_until) - epoch_s
            return f"backing off, {_span(left)} left"
        return "OK"

    def set_limits(self, limits: list[RateLimit]) -> None:
        """Replace the limits (exchangeInfo refresh), keeping the counts of unchanged ones."""
        with self._lock:
            old = {(x.kind, x.interval, x.interval_num): x for x in self.limits}
            for new in limits:
                prev = old.get((new.kind, new.interval, new.interval_num))
                if prev is not None:
                    new.window, new.used = prev.window, prev.used
            self.limits = limits

    def acquire(self, epoch_s: float, *, weight: int, orders: int = 0,
                priority: bool = False) -> None:
        """Count a request about to be sent, or raise (nothing counted, nothing to send).

        Raises VenueBanned during a 418 ban or after a key rejection, VenueUnavailable (with
        ``retry_after_s``) while a 429 Retry-After runs or when a limit would pass its margin
        (the whole limit for a ``priority`` request).
        """
        with self._lock:
            self._check_open(epoch_s)
            share = 1.0 if priority else self.margin
            for lim in self.limits:
                lim.roll(epoch_s)
                cost = weight if lim.kind == "REQUEST_WEIGHT" else orders
                cap = math.floor(lim.limit * share)
                if cost and lim.used + cost > cap:
                    wait = lim.seconds_left(epoch_s)
                    if lim.window_s <= 60:  # short windows: wait them out; a day is not waited
                        self.throttled_until = max(self.throttled_until, epoch_s + wait)
                    raise VenueUnavailable(
                        f"{lim.kind} limit {lim.used}+{cost} > {cap} "
                        f"({share:.0%} of {lim.limit} per {lim.interval_num} {lim.interval})",
                        retry_after_s=wait,
                    )
            for lim in self.limits:
                lim.used += weight if lim.kind == "REQUEST_WEIGHT" else orders

    def _check_open(self, epoch_s: float) -> None:
        if self.key_rejected_reason:
            raise VenueBanned(f"venue halted: {self.key_rejected_reason}")
        if epoch_s < self.banned_until:
            raise VenueBanned(f"banned by Binance ({self.banned_reason}): "
                              f"{_span(self.banned_until - epoch_s)} left")
        if epoch_s < self.blocked_until:
            raise VenueUnavailable(
                "backing off after a rate limit", retry_after_s=self.blocked_until - epoch_s)

    def observe_headers(self, headers: Any, epoch_s: float) -> None:
        """Take Binance's own counts from response headers when they exceed ours."""
        if headers is None:
            return
        with self._lock:
            for lim in self.limits:
                value = headers.get(lim.header)
                if value is None:
                    continue
                lim.roll(epoch_s)
                try:
                    lim.used = max(lim.used, int(value))
                except ValueError:
                    continue

    def back_off(self, epoch_s: float, retry_after_s: float) -> None:
        """HTTP 429: send nothing until Retry-After has passed."""
        with self._lock:
            self.blocked_until = max(self.blocked_until, epoch_s + retry_after_s)

    def ban(self, reason: str, epoch_s: float, *, retry_after_s: float | None = None,
            sent_at: float | None = None) -> float:
        """HTTP 418: send nothing until Retry-After (``BAN_DEFAULT_S`` without one); the end.

        A 418 for a request sent during or soon after the previous ban (within its length after
        it lifted) is a repeat: the ban is at least twice the previous one, up to ``BAN_MAX_S``.
        A 418 for a request sent before the current ban began is that same ban.
        """
        with self._lock:
            sent = epoch_s if sent_at is None else sent_at
            length = BAN_DEFAULT_S if retry_after_s is None else retry_after_s
            banned_before = self.ban_length_s > 0
            same_ban = banned_before and sent < self.ban_started
            repeat = (banned_before and not same_ban
                      and sent < self.banned_until + self.ban_length_s)
            if repeat:
                length = max(length, min(2 * self.ban_length_s, BAN_MAX_S))
            until = max(self.banned_until, epoch_s + length)
            if until > self.banned_until:
                self.ban_started, self.ban_length_s = epoch_s, until - epoch_s
                self.banned_until = until
            self.banned_reason = reason or "HTTP 418"
            listeners = list(self._listeners)
        for notify in listeners:
            notify(self.banned_reason)
        return until

    def reject_key(self, reason: str) -> None:
        """-2015 / -1022: the key is unusable; nothing is sent until a person clears it."""
        with self._lock:
            self.key_rejected_reason = reason or "API key rejected"

    def clear_ban(self) -> None:
        """Operator action: forget a key rejection and any ban still running."""
        with self._lock:
            self.key_rejected_reason = ""
            self.banned_until = 0.0

    def on_ban(self, listener: Callable[[str], object]) -> None:
        """Call ``listener(reason)`` on every 418, whichever component's request received it."""
        with self._lock:
            self._listeners.append(listener)
