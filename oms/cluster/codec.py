"""Commands and replies as data: what crosses from a web worker to an account's engine through
the ``commands`` table, and back.

A command is ``(kind, payload)``: the class name and its fields as JSON (Decimals as strings,
enums by value, datetimes ISO 8601 UTC); ``decode_command`` rebuilds an equal command. A reply is
a tagged JSON value: a SubmitResult, a ResumeResult, a plain value, or an error of the OMS tree
with its field errors, which ``decode_reply`` re-raises as the same class the embedded service
raises.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from oms import errors
from oms.cluster.values import from_json, hints_of, to_json
from oms.commands import Command
from oms.engine.sessions import SubmitResult
from oms.errors import FieldError, OmsError, ValidationError
from oms.risk.state import ResumeResult

__all__ = ["COMMAND_KINDS", "decode_command", "decode_reply", "encode_command", "encode_error",
           "encode_reply", "raise_reply"]

#: command kind (the class name) -> class
COMMAND_KINDS: dict[str, type[Any]] = {
    cls.__name__: cls for cls in typing.get_args(Command)}
_SKIP = {"reply", "actor"}  # the future stays in the process; the actor is a column
#: reply types decoded by their type hints
_REPLY_TYPES: dict[str, type[Any]] = {"SubmitResult": SubmitResult, "ResumeResult": ResumeResult}


def encode_command(command: Command) -> tuple[str, dict[str, Any]]:
    """``(kind, payload)`` of a command (the actor travels beside it)."""
    return type(command).__name__, {
        f.name: to_json(getattr(command, f.name))
        for f in dataclasses.fields(command) if f.name not in _SKIP}


def decode_command(kind: str, payload: dict[str, Any], actor: str) -> Command:
    """The command ``encode_command`` gave ``(kind, payload)`` for; ValidationError when the
    kind is unknown or a field is missing or malformed."""
    cls = COMMAND_KINDS.get(kind)
    if cls is None:
        raise ValidationError(FieldError("kind", f"unknown command kind {kind!r:.40}"))
    hints = hints_of(cls)
    try:
        values = {f.name: from_json(payload[f.name], hints[f.name])
                  for f in dataclasses.fields(cls) if f.name not in _SKIP and f.name in payload}
        command: Command = cls(**values, actor=actor)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise ValidationError(FieldError("payload", f"{kind}: {exc}")) from None
    return command


# -- replies ------------------------------------------------------------------------------

def encode_reply(result: Any) -> dict[str, Any]:
    """A command's result as tagged JSON."""
    name = type(result).__name__
    return {"type": name if name in _REPLY_TYPES else "value", "value": to_json(result)}


def encode_error(error: OmsError) -> dict[str, Any]:
    """An OMS error as tagged JSON: its class, message, field errors and venue code."""
    out: dict[str, Any] = {"type": "error", "class": type(error).__name__, "message": str(error)}
    if isinstance(error, ValidationError):
        out["errors"] = [[e.field, e.message] for e in error.errors]
    if isinstance(error, errors.VenueError):
        out["code"] = error.code
    return out


def _error(reply: dict[str, Any]) -> OmsError:
    found = getattr(errors, str(reply.get("class")), None)
    cls: type[OmsError] = (found if isinstance(found, type) and issubclass(found, OmsError)
                           else OmsError)
    message = str(reply.get("message", ""))
    if issubclass(cls, ValidationError):
        return cls([FieldError(str(f), str(m)) for f, m in reply.get("errors", [])])
    if issubclass(cls, errors.VenueError):
        code = reply.get("code")
        prefix = f"{code}: "
        if code is not None and message.startswith(prefix):
            message = message[len(prefix):]
        venue_error: type[errors.VenueError] = cls
        return venue_error(message, code=code)
    try:
        return cls(message)
    except TypeError:  # a class the engine never answers with (its own constructor)
        return OmsError(message)


def decode_reply(reply: dict[str, Any]) -> Any:
    """The result ``encode_reply`` encoded, or the error ``encode_error`` encoded (returned,
    not raised: see ``raise_reply``)."""
    kind = reply.get("type")
    value: Any = reply.get("value")
    if isinstance(kind, str) and kind in _REPLY_TYPES:
        return from_json(value, _REPLY_TYPES[kind])
    if kind == "error":
        return _error(reply)
    return value


def raise_reply(reply: dict[str, Any]) -> Any:
    """The decoded result, or raise the decoded error (what the embedded service would)."""
    result = decode_reply(reply)
    if isinstance(result, OmsError):
        raise result
    return result
