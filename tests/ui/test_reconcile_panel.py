"""The /risk reconciliation panel, tested by calling its callbacks (inside a request context of
an isolated app whose engine ticks): a mismatch is shown with both views and its actions; an
ignore without a reason is refused naming the field; with a reason it clears the mismatch."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dash
import pytest
from oms_harness import until
from ui_helpers import text_of, ticking_app, triggered

from components import ids
from components.reconcile_panel import action_id
from oms.reconciliation import MismatchKind, ResolveAction
from oms.venues.paper import PaperVenue
from pages import risk


@pytest.fixture
def app(tmp_path: Path) -> Iterator[dash.Dash]:
    """An app with a ticking engine (market clock 120x) reconciling every 2 s of market time."""
    with ticking_app(tmp_path / "rc.db", reconcile_interval_s=2) as application:
        yield application


def _oms(app: dash.Dash) -> Any:
    return app.server.config["OMS"]


def _clicked(button: dict[str, str], func: Callable[..., Any], *args: Any,
             clicks: int | None = 1) -> Any:
    """Call ``func`` as Dash does when the pattern-matching ``button`` fired."""
    prop_id = json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"
    return triggered(prop_id, func, *args, value=clicks)


def _ids(component: Any) -> list[Any]:
    """Every component id in a layout tree."""
    found: list[Any] = []
    if isinstance(component, list | tuple):
        for child in component:
            found += _ids(child)
        return found
    if hasattr(component, "to_plotly_json"):
        if getattr(component, "id", None) is not None:
            found.append(component.id)
        found += _ids(getattr(component, "children", None))
    return found


def _deposit(app: dash.Dash, amount: Decimal) -> None:
    venue = _oms(app).venue
    assert isinstance(venue, PaperVenue)
    totals = {a: b.total for a, b in venue.balances().items()}
    totals["USDT"] += amount
    venue.set_balances(totals)


def test_the_risk_page_has_the_reconciliation_panel() -> None:
    shown = _ids(risk.layout())
    for component_id in (ids.RECONCILE_STATUS, ids.RECONCILE_MISMATCHES, ids.RECONCILE_REASON,
                         ids.RECONCILE_FEEDBACK, ids.RECONCILE_SHOWN):
        assert component_id in shown


def test_a_mismatch_is_shown_with_both_views_and_ignore_needs_a_reason(app: dash.Dash) -> None:
    # Arrange: a deposit behind the OMS's back
    service = _oms(app).service
    until(lambda: service.reconciliation().runs >= 1)
    _deposit(app, Decimal(1000))
    until(lambda: bool(service.reconciliation().mismatches))
    (mismatch,) = service.reconciliation().mismatches

    # Act
    status, table, shown = risk.refresh_reconciliation(1, None)
    again = risk.refresh_reconciliation(2, shown)
    table_ids = _ids(table)
    not_clicked = _clicked(action_id(mismatch.mismatch_id, ResolveAction.IGNORE),
                           lambda: _raises_prevent(risk.resolve_mismatch, [0], ""), clicks=0)
    refused = _clicked(action_id(mismatch.mismatch_id, ResolveAction.IGNORE),
                       risk.resolve_mismatch, [1], "   ")
    still_open = service.reconciliation().mismatches
    accepted = _clicked(action_id(mismatch.mismatch_id, ResolveAction.IGNORE),
                        risk.resolve_mismatch, [2], "deposit from treasury, checked")
    until(lambda: not service.reconciliation().mismatches)
    _, cleared, _ = risk.refresh_reconciliation(3, shown)

    # Assert
    assert mismatch.kind is MismatchKind.BALANCE
    assert "1 open mismatch" in text_of(status)
    text = text_of(table)
    assert "BALANCE_MISMATCH" in text and "100000 USDT" in text and "101000 USDT" in text
    assert "+1000" in text
    assert action_id(mismatch.mismatch_id, ResolveAction.ADOPT) in table_ids
    assert action_id(mismatch.mismatch_id, ResolveAction.IGNORE) in table_ids
    assert action_id(mismatch.mismatch_id, ResolveAction.CANCEL) not in table_ids  # orders only
    assert again[1] is dash.no_update and again[2] is dash.no_update
    assert not_clicked is True
    assert "reason" in text_of(refused) and "feedback-error" in refused.className
    assert [m.mismatch_id for m in still_open] == [mismatch.mismatch_id]
    assert "ignore" in text_of(accepted) and "feedback-ok" in accepted.className
    assert "no open mismatch" in text_of(cleared)
    audit = [row for row in service.repository.audit(entity_id=mismatch.mismatch_id)
             if row["event"] == "ReconcileMismatchResolved"]
    assert audit and audit[0]["payload"]["reason"] == "deposit from treasury, checked"


def test_a_hostile_button_id_is_refused_naming_the_field(app: dash.Dash) -> None:
    feedback = _clicked({"type": ids.RECONCILE_ACTION, "mismatch": "x" * 200,
                         "action": "drop"}, risk.resolve_mismatch, [1], None)
    text = text_of(feedback)
    assert "mismatch_id" in text and "action" in text and "feedback-error" in feedback.className


def _raises_prevent(func: Callable[..., Any], *args: Any) -> bool:
    try:
        func(*args)
    except dash.exceptions.PreventUpdate:
        return True
    return False
