"""The JSON text of stored rows (payloads, reports, venue state): one encoder for both write
paths, orjson in C, with Decimals as their exact digits, datetimes as ISO-8601 and enums by value.

Values orjson refuses (an integer beyond 64 bits) go through the standard library's encoder with
the same conversions, so nothing storable is refused. NaN and infinities, which are not JSON,
become null (PostgreSQL's JSON refuses them; the fallback writes them as ``json.dumps`` does).
Keys that are not text (ints) become text, as ``json.dumps`` does. The text is compact: readers
decode it, nothing compares it as text.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson

__all__ = ["dumps"]

_OPTIONS = orjson.OPT_NON_STR_KEYS


def _as_text(value: Any) -> Any:
    # called only for what JSON has no type for: exact Decimal digits as text
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_fallback = json.JSONEncoder(default=_as_text, check_circular=False, allow_nan=True).encode


def dumps(value: Any) -> str:
    """``value`` as JSON text (module docstring)."""
    try:
        return orjson.dumps(value, default=_as_text, option=_OPTIONS).decode()
    except orjson.JSONEncodeError as exc:
        if isinstance(exc.__cause__, TypeError) and "not JSON serializable" in str(exc):
            raise TypeError(str(exc)) from None
        return _fallback(value)
