"""Shared helpers of the callback and component tests: an app with a ticking engine, run a
callback as Dash does when an input fired, and read the text of a component tree."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import copy_context
from pathlib import Path
from typing import Any

from dash._callback_context import context_value
from dash._utils import AttributeDict
from oms_harness import text_of

__all__ = ["text_now", "text_of", "ticking_app", "triggered"]


def text_now(dash_duo: Any, selector: str) -> str:
    """The rendered text of the first element matching ``selector``, read in one script ('' if
    none): live panels re-render every refresh, so an element found first and read after it
    may be stale."""
    text = dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", selector)
    return str(text or "")


@contextlib.contextmanager
def ticking_app(database: Path, **settings: Any) -> Iterator[Any]:
    """A Dash app whose engine ticks (market clock 120x, 50 ms ticks) on its own SQLite
    ``database``, inside a request context so callbacks can be called directly."""
    from app import create_app
    from oms.bootstrap import build_oms
    from oms.config import Settings

    config = Settings(database_url=f"sqlite:///{database}", speed=120.0, tick_interval_ms=50,
                      **settings)
    oms = build_oms(config)
    application = create_app(config, oms, start_engine=True)
    try:
        with application.server.test_request_context("/"):
            yield application
    finally:
        oms.close()


def triggered(prop_id: str, func: Callable[..., Any], *args: Any, value: Any = None) -> Any:
    """Call ``func(*args)`` as Dash would when ``prop_id`` fired with ``value``."""

    def run() -> Any:
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id,
                                                           "value": value}]))
        return func(*args)

    return copy_context().run(run)


