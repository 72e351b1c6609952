"""Typed wrappers around Dash's untyped registration functions (pages, clientside callbacks)."""

from __future__ import annotations

from typing import Any

import dash

__all__ = ["clientside_callback", "register_page"]


def register_page(module: str, **options: Any) -> None:
    """``dash.register_page`` (idempotent: registering again replaces the entry)."""
    dash.register_page(module, **options)  # type: ignore[no-untyped-call]


def clientside_callback(app: dash.Dash, function: Any, *dependencies: Any) -> None:
    """``app.clientside_callback`` for a function defined in assets/oms.js."""
    app.clientside_callback(function, *dependencies)  # type: ignore[no-untyped-call]
