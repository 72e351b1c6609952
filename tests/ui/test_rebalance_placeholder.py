"""The rebalance targets box: its placeholder reads as an example, and an empty submit says
what to type (issue 17)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
from ui_helpers import text_of, ticking_app

from components import ids
from pages import rebalance


@pytest.fixture
def app(tmp_path: Path) -> Iterator[dash.Dash]:
    """An app with a ticking engine on its own database."""
    with ticking_app(tmp_path / "placeholder.db") as application:
        yield application


def _find(component: Any, component_id: str) -> Any:
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = _find(child, component_id)
            if found is not None:
                return found
    return None


def test_the_targets_placeholder_is_worded_as_an_example(app: dash.Dash) -> None:
    box = _find(rebalance.layout(), ids.REBALANCE_TEXT)
    assert box is not None and box.value == ""
    lines = box.placeholder.splitlines()
    assert lines and all(line.startswith("e.g. ") for line in lines)
    assert "one 'SYMBOL USD' per line" in lines[0]


@pytest.mark.parametrize("text", ["", "   \n  ", None])
def test_an_empty_submit_says_what_to_type(app: dash.Dash, text: str | None) -> None:
    # Act: the confirmation step and the submit itself
    asked, hidden, _ = rebalance.request_rebalance(1, text, "twap", 3, 0.5)
    submitted = rebalance.submit_rebalance(1, text, "twap", 3, 0.5)

    # Assert: both say how to write a target line, nothing is submitted
    for feedback in (asked, submitted):
        shown = text_of(feedback)
        assert "nothing submitted" in shown
        assert "one 'SYMBOL USD' line per symbol" in shown and "BTCUSDT 3000" in shown
    assert hidden is True
    assert app.server.config["OMS"].service.parent_orders().total == 0
