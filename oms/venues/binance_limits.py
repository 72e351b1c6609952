"""Binance rate limits: request weight and order counts kept under a margin, 429 back-off, 418 ban.

Limits come from exchangeInfo ``rateLimits``; usage is counted locally per fixed window (Binance
counts per calendar window too) and corrected upward by the ``X-MBX-USED-WEIGHT-*`` /
``X-MBX-ORDER-COUNT-*`` response headers, which are the venue's own count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from oms.errors import VenueBanned, VenueUnavailable

__all__ = ["RateLimit", "RateLimiter", "VenueStatus", "limits_from_exchange_info"]

_INTERVAL_S = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
_HEADER_SUFFIX = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}


class VenueStatus(StrEnum):
    """Connection health shown on the dashboard."""

    OK = "OK"
    BACKING_OFF = "BACKING_OFF"  # HTTP 429 or a local limit: nothing sent until the time passes
    BANNED = "BANNED"  # HTTP 418: the venue is halted until a person intervenes


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


@dataclass(slots=True)
class RateLimiter:
    """Admits a request only if every limit stays under ``margin`` of its value."""

    margin: float = 0.8
    limits: list[RateLimit] = field(default_factory=list)
    blocked_until: float = 0.0  # epoch seconds; set by HTTP 429 (Retry-After) or a local limit
    banned_reason: str = ""

    @property
    def banned(self) -> bool:
        """True after HTTP 418."""
        return bool(self.banned_reason)

    def status(self, epoch_s: float) -> VenueStatus:
        """OK, BACKING_OFF or BANNED at ``epoch_s``."""
        if self.banned:
            return VenueStatus.BANNED
        return VenueStatus.BACKING_OFF if epoch_s < self.blocked_until else VenueStatus.OK

    def describe(self, epoch_s: float) -> str:
        """Status in words, for the dashboard."""
        status = self.status(epoch_s)
        if status is VenueStatus.BANNED:
            return f"HALTED, banned by Binance ({self.banned_reason})"
        if status is VenueStatus.BACKING_OFF:
            return f"backing off, {self.blocked_until - epoch_s:.0f}s left"
        return "OK"

    def set_limits(self, limits: list[RateLimit]) -> None:
        """Replace the limits (exchangeInfo refresh), keeping the counts of unchanged ones."""
        old = {(x.kind, x.interval, x.interval_num): x for x in self.limits}
        for new in limits:
            prev = old.get((new.kind, new.interval, new.interval_num))
            if prev is not None:
                new.window, new.used = prev.window, prev.used
        self.limits = limits

    def acquire(self, epoch_s: float, *, weight: int, orders: int = 0) -> None:
        """Count a request about to be sent, or raise (nothing counted, nothing to send).

        Raises VenueBanned after a 418 and VenueUnavailable (with ``retry_after_s``) while a
        Retry-After runs or when a limit would pass its margin.
        """
        if self.banned:
            raise VenueBanned(f"venue halted: {self.banned_reason}")
        if epoch_s < self.blocked_until:
            raise VenueUnavailable(
                "backing off after a rate limit", retry_after_s=self.blocked_until - epoch_s)
        for lim in self.limits:
            lim.roll(epoch_s)
            cost = weight if lim.kind == "REQUEST_WEIGHT" else orders
            cap = math.floor(lim.limit * self.margin)
            if cost and lim.used + cost > cap:
                wait = lim.seconds_left(epoch_s)
                if lim.window_s <= 60:  # short windows: wait them out; a full day is not waited
                    self.blocked_until = max(self.blocked_until, epoch_s + wait)
                raise VenueUnavailable(
                    f"{lim.kind} limit {lim.used}+{cost} > {cap} "
                    f"({self.margin:.0%} of {lim.limit} per {lim.interval_num} {lim.interval})",
                    retry_after_s=wait,
                )
        for lim in self.limits:
            lim.used += weight if lim.kind == "REQUEST_WEIGHT" else orders

    def observe_headers(self, headers: Any, epoch_s: float) -> None:
        """Take Binance's own counts from response headers when they exceed ours."""
        if headers is None:
            return
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
        self.blocked_until = max(self.blocked_until, epoch_s + retry_after_s)

    def ban(self, reason: str) -> None:
        """HTTP 418: halt the venue until a person clears it."""
        self.banned_reason = reason or "HTTP 418"

    def clear_ban(self) -> None:
        """Operator action after the ban expired."""
        self.banned_reason = ""
