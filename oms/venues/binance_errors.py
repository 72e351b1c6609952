"""Translate python-binance / requests exceptions into the OMS error tree, at the boundary.

The translation decides how the caller reacts: VenueRejected (do not resend as is),
VenueUnavailable (retry later; ``retry_after_s`` when the venue said so), OrderStatusUnknown
(query by client order id before any resend) and VenueBanned (halt, call a person).
"""

from __future__ import annotations

from typing import Any

import requests
from binance.exceptions import BinanceAPIException, BinanceRequestException

from oms.errors import (
    OrderStatusUnknown,
    VenueBanned,
    VenueError,
    VenueRejected,
    VenueUnavailable,
)

__all__ = [
    "CODE_CLOCK",
    "CODE_ORDER_NOT_FOUND",
    "CODE_UNKNOWN_ORDER",
    "KEY_CODES",
    "STATUS_UNKNOWN_CODES",
    "is_not_open",
    "retry_after_seconds",
    "translate_exception",
]

CODE_CLOCK = -1021  # timestamp outside recvWindow
CODE_ORDER_NOT_FOUND = -2013  # "Order does not exist."
CODE_UNKNOWN_ORDER = -2011  # CANCEL_REJECTED: "Unknown order sent." is one of its messages
# On a request that may place an order these say nothing about whether it was placed (Binance:
# "the request may or may not have been processed"): -1000 UNKNOWN, -1001 DISCONNECTED,
# -1006 UNEXPECTED_RESP, -1007 TIMEOUT; so do timeouts and HTTP 5xx.
STATUS_UNKNOWN_CODES = frozenset({-1000, -1001, -1006, -1007})
KEY_CODES = frozenset({-2014, -2015, -1022})  # bad key format / key, IP, permission / signature
_TRANSIENT_CODES = frozenset({-1000, -1001, -1003, -1008, -1015, -1016, CODE_CLOCK})
_NOT_OPEN_MESSAGES = ("unknown order sent", "order does not exist")


def is_not_open(exc: VenueError) -> bool:
    """True when a cancel failed because the order is not open at Binance (not visible yet,
    or already ended): -2013, or -2011 with "Unknown order sent.". Every other -2011 ("This
    account may not place or cancel orders.", "Market is closed.", ...) is a refused cancel."""
    if exc.code == CODE_ORDER_NOT_FOUND:
        return True
    text = str(exc).lower()
    return exc.code == CODE_UNKNOWN_ORDER and any(m in text for m in _NOT_OPEN_MESSAGES)


def retry_after_seconds(headers: Any, default: float = 60.0) -> float:
    """The Retry-After header in seconds (Binance sends seconds), or ``default``."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else default
    except (TypeError, ValueError):
        return default


def _api_error(exc: BinanceAPIException, *, placing: bool) -> VenueError:
    code = int(exc.code) if exc.code else None
    status = int(exc.status_code)
    message = str(exc.message)
    headers = getattr(exc.response, "headers", None)
    if status == 418:
        return VenueBanned(f"IP banned by Binance (HTTP 418): {message}", code=code)
    if status == 429:
        return VenueUnavailable(
            f"rate limited (HTTP 429): {message}", code=code,
            retry_after_s=retry_after_seconds(headers),
        )
    if code in STATUS_UNKNOWN_CODES or status >= 500:
        if placing:
            return OrderStatusUnknown(f"status unknown (HTTP {status}): {message}", code=code)
        return VenueUnavailable(f"venue error (HTTP {status}): {message}", code=code)
    if code in KEY_CODES:
        return VenueBanned(f"API key unusable: {message}", code=code)
    if code in _TRANSIENT_CODES:
        return VenueUnavailable(f"transient venue error: {message}", code=code)
    return VenueRejected(message, code=code)


def translate_exception(exc: BaseException, *, placing: bool = False) -> VenueError:
    """The OMS error for ``exc``; ``placing`` is True when the request could have placed an order.

    Never puts request headers (the API key) or the signed body into the message.
    """
    if isinstance(exc, VenueError):
        return exc
    if isinstance(exc, BinanceAPIException):
        return _api_error(exc, placing=placing)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        # the connection was never made, so the request cannot have reached Binance
        return VenueUnavailable("connect timeout")
    if isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError):
        kind = type(exc).__name__
        if placing:
            return OrderStatusUnknown(f"{kind} after the order was sent")
        return VenueUnavailable(kind)
    if isinstance(exc, BinanceRequestException | requests.exceptions.RequestException):
        kind = type(exc).__name__
        if placing:
            return OrderStatusUnknown(f"{kind}: invalid response to an order request")
        return VenueUnavailable(f"{kind}: invalid response")
    return VenueUnavailable(f"unexpected {type(exc).__name__}")
