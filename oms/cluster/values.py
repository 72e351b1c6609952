"""Typed values to JSON and back, driven by the dataclass type hints: Decimals as strings,
enums by value, datetimes ISO 8601, dataclasses as objects, tuples and mappings as arrays and
objects. What the command codec and the snapshot rows use."""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from oms.errors import FieldError, ValidationError

__all__ = ["from_json", "hints_of", "to_json"]


_HINTS: dict[type[Any], dict[str, Any]] = {}


def hints_of(cls: type[Any]) -> dict[str, Any]:
    """The resolved type hints of a dataclass (its module's names), computed once per class."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    return hints


def to_json(value: Any) -> Any:
    """``value`` as plain JSON values (ValidationError for what JSON cannot carry)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(FieldError("value", f"naive datetime {value!r}"))
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.init}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((to_json(v) for v in value), key=repr)
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise ValidationError(FieldError("value", f"cannot encode {type(value).__name__}"))


def from_json(value: Any, hint: Any) -> Any:
    """The typed value ``to_json`` gave ``value`` for, given its type hint."""
    origin = typing.get_origin(hint)
    if hint is Any or hint is object:
        return value
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        return from_json(value, next(o for o in options if o is not type(None)))
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        args = typing.get_args(hint)
        item = args[1] if args else Any
        return {k: from_json(v, item) for k, v in value.items()}
    if origin in (set, frozenset):
        kind = frozenset if origin is frozenset else set
        return kind(from_json(v, typing.get_args(hint)[0]) for v in value)
    if origin is list or hint is list:
        args = typing.get_args(hint)
        return [from_json(v, args[0] if args else Any) for v in value]
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_json(v, args[0]) for v in value)
        return tuple(from_json(v, a) for v, a in zip(value, args, strict=True))
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is float:
        return float(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = hints_of(hint)
        return hint(**{f.name: from_json(value[f.name], hints[f.name])
                       for f in dataclasses.fields(hint) if f.init and f.name in value})
    return value
