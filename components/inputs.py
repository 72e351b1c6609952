"""Callback inputs as a hostile or broken page may post them to ``/_dash-update-component``.

Each helper returns the type the callback expects or raises ValidationError naming the field,
so the callback answers with a visible error message instead of failing with a 500.
"""

from __future__ import annotations

import math
from typing import Any

from oms.errors import FieldError, ValidationError

__all__ = ["clicks_value", "number_value", "rows_value", "text_value"]


def _kind(value: object) -> str:
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
             str: "text", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def text_value(field: str, value: object) -> str:
    """A text input's value ("" when empty); anything but text is a ValidationError."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(FieldError(field, f"must be text, got {_kind(value)}"))
    return value


def number_value(field: str, value: object, default: float) -> float:
    """A numeric input's value (``default`` when empty); it must be a finite number."""
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(FieldError(field, f"must be a number, got {_kind(value)}"))
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(FieldError(field, f"must be a number, got {value!r:.40}")) \
            from None
    if not math.isfinite(number):
        raise ValidationError(FieldError(field, "must be a finite number"))
    return number


def rows_value(field: str, value: object) -> list[dict[str, Any]]:
    """Grid rows: a list of objects ([] when empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise ValidationError(FieldError(field, f"must be a list of rows, got {_kind(value)}"))
    return value


def clicks_value(value: object) -> int:
    """A button's ``n_clicks``: a non-negative integer (0 when never clicked)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(FieldError("n_clicks", f"must be a click count, got "
                                                     f"{_kind(value)}"))
    return value
