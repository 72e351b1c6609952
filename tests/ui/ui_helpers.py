"""Shared helpers of the callback and component tests: run a callback as Dash does when an
input fired, and read the text of a component tree."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import copy_context
from typing import Any

from dash._callback_context import context_value
from dash._utils import AttributeDict

__all__ = ["text_of", "triggered"]


def triggered(prop_id: str, func: Callable[..., Any], *args: Any, value: Any = None) -> Any:
    """Call ``func(*args)`` as Dash would when ``prop_id`` fired with ``value``."""

    def run() -> Any:
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id,
                                                           "value": value}]))
        return func(*args)

    return copy_context().run(run)


def text_of(component: Any) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))
