"""Input checks of the OmsService: each turns a value from a page or the REST API into the
typed value a command takes, or raises ValidationError naming the field and the problem."""

from __future__ import annotations

import re
from collections.abc import Callable

from oms.config import CircuitBreakerSettings
from oms.errors import FieldError, ValidationError
from oms.model import AlgoName
from oms.rebalance import ON_LIMIT
from oms.reconciliation import ResolveAction

__all__ = ["MAX_REASON_CHARS", "errors_of", "parse_algo", "parse_breaker_name", "parse_mismatch_id",
           "parse_on_limit", "parse_resolve_action", "positive_float", "unit_interval",
           "validate_reason"]

MAX_REASON_CHARS = 500
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MISMATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_JSON_KINDS = {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
               list: "a list", dict: "an object"}


def validate_reason(value: object, *, field: str = "reason") -> str:
    """The reason of a kill, resume or breaker reset: a non-empty string of at most
    ``MAX_REASON_CHARS`` characters once stripped, on one line; ValidationError otherwise."""
    if not isinstance(value, str):
        kind = _JSON_KINDS.get(type(value), type(value).__name__)
        raise ValidationError(FieldError(field, f"must be a non-empty string, got {kind}"))
    text = value.strip()
    if not text:
        raise ValidationError(FieldError(field, "must not be empty or blank"))
    if len(text) > MAX_REASON_CHARS:
        raise ValidationError(FieldError(
            field, f"must be at most {MAX_REASON_CHARS} characters, got {len(text)}"))
    if _CONTROL_CHARS.search(text):
        raise ValidationError(FieldError(
            field, "must not contain control characters (newlines, tabs, escapes)"))
    return text


def parse_mismatch_id(value: object) -> str:
    """A reconciliation mismatch id as the engine makes them (``rc-...``)."""
    if not isinstance(value, str) or not _MISMATCH_ID.fullmatch(value):
        shown = repr(value) if isinstance(value, str) and len(value) <= 40 else "that value"
        raise ValidationError(FieldError("mismatch_id", f"unknown mismatch id {shown}; use an "
                                                        "id listed by the reconciliation"))
    return value


def parse_resolve_action(value: object) -> ResolveAction:
    allowed = ", ".join(a.value for a in ResolveAction)
    if not isinstance(value, str):
        kind = _JSON_KINDS.get(type(value), type(value).__name__)
        raise ValidationError(FieldError("action", f"must be one of {allowed}, got {kind}"))
    try:
        return ResolveAction(value.strip().lower())
    except ValueError:
        raise ValidationError(FieldError("action", f"must be one of {allowed}, got "
                                                   f"{value!r:.40}")) from None


def parse_breaker_name(value: object) -> str:
    names = sorted(CircuitBreakerSettings.model_fields)
    if not isinstance(value, str) or value not in names:
        shown = repr(value) if isinstance(value, str) and len(value) <= 40 else "that value"
        raise ValidationError(FieldError("breaker", f"unknown breaker {shown}; use one of "
                                                    f"{', '.join(names)}"))
    return value


def parse_algo(value: object) -> AlgoName:
    try:
        return AlgoName(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(a.value for a in AlgoName)
        raise ValidationError(FieldError("algo", f"unknown algorithm {value!r}; use one of "
                                                 f"{allowed}")) from None


def positive_float(name: str, value: object, *, upper: float | None = None) -> float:
    if value is None or isinstance(value, bool):
        raise ValidationError(FieldError(name, f"{name} must be a positive number; the field is "
                                               "empty or not a number"))
    try:
        number = float(str(value))
    except (TypeError, ValueError):
        raise ValidationError(FieldError(name, f"must be a number, got {value!r}")) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValidationError(FieldError(name, f"must be finite, got {value!r}"))
    if number <= 0 or (upper is not None and number > upper):
        bound = f" and at most {upper:g}" if upper is not None else ""
        raise ValidationError(FieldError(name, f"{name} must be positive (greater than 0{bound}), "
                                               f"got {value!r}"))
    return number


def parse_on_limit(value: object) -> str:
    if value not in ON_LIMIT:
        raise ValidationError(FieldError("on_limit", f"must be one of {', '.join(ON_LIMIT)}, "
                                                     f"got {value!r:.40}"))
    return str(value)


def unit_interval(name: str, value: object) -> float:
    try:
        number = float(str(value))
    except (TypeError, ValueError):
        raise ValidationError(FieldError(name, f"must be a number in [0, 1], got {value!r}")) \
            from None
    if not 0.0 <= number <= 1.0:
        raise ValidationError(FieldError(name, f"must be in [0, 1], got {value!r}"))
    return number


def errors_of(check: Callable[[], object]) -> list[FieldError]:
    """The field errors ``check`` raises (none when it passes)."""
    try:
        check()
    except ValidationError as exc:
        return exc.errors
    return []
