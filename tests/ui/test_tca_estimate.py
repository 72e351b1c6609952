"""The TCA page's estimate vs realised: a table per parent (each header defined on hover) and
a chart of the expected range and the realised cost; a report written before estimates were
kept, or a parent without one, renders and says "no estimate"; the page's callback draws it
from a real session's report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
from oms_harness import until
from ui_helpers import text_of, ticking_app

from components import ids
from components.tca_estimate import ESTIMATE_COLUMNS, estimate_chart, estimate_table
from pages import tca


def _block(realised: float, *, within: bool | None) -> dict[str, Any]:
    return {"expected": {"total_bps": 10.5, "sd_bps": 4.0, "range_1sd_bps": [6.5, 14.5],
                         "execution_bps": 0.5, "fees_usd": 2.0, "planned_children": 5,
                         "schedule_exact": True},
            "realised": {"shortfall_bps": realised, "arrival_slippage_bps": 1.3,
                         "fees_usd": 1.904, "children_sent": 4},
            "difference_bps": realised - 10.5, "within_1sd": within}


def _report(*parents: dict[str, Any]) -> dict[str, Any]:
    return {"session_id": "s-1", "parents": list(parents)}


def _parent(parent_id: str, side: str = "BUY", **extra: Any) -> dict[str, Any]:
    return {"parent_id": parent_id, "symbol": "BTCUSDT", "side": side, **extra}


def _headers(component: Any) -> list[Any]:
    found: list[Any] = []

    def walk(node: Any) -> None:
        if type(node).__name__ == "Th":
            found.append(node)
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str | int | float):
                walk(child)

    walk(component)
    return found


def test_the_table_sets_the_estimate_beside_the_realised_cost() -> None:
    # Arrange
    report = _report(_parent("p1", estimate=_block(12.0, within=True)),
                     _parent("p2", "SELL", estimate=_block(20.0, within=False)))

    # Act
    shown = text_of(estimate_table(report))

    # Assert: bps one decimal, USD two, counts planned / sent, the marker
    assert "+10.5 ± 4.0" in shown and "+6.5 to +14.5" in shown
    assert "+12.0" in shown and "+1.5" in shown and "+9.5" in shown  # realised, differences
    assert "+0.5 / +1.3" in shown  # spread + impact expected / slippage vs arrival
    assert "2.00 / 1.90" in shown and "5 / 4" in shown
    assert "✓ within" in shown and "✗ outside" in shown


def test_every_header_is_defined_on_hover() -> None:
    headers = _headers(estimate_table(_report(_parent("p1", estimate=_block(12.0,
                                                                             within=True)))))
    assert [h.children for h in headers] == [c.header for c in ESTIMATE_COLUMNS]
    assert all(len(getattr(h, "title", "") or "") > 10 for h in headers)
    realised = next(h for h in headers if h.children == "Realised bps")
    assert "FEES INCLUDED" in realised.title


def test_an_old_report_and_a_parent_without_an_estimate_say_no_estimate() -> None:
    # Arrange: a report from before estimates (no key) and a parent created without a quote
    old = _report(_parent("p1"))
    unquoted = _report(_parent("p1", estimate=None),
                       _parent("p2", estimate=_block(0.0, within=None)))

    # Act
    old_text = text_of(estimate_table(old))
    unquoted_text = text_of(estimate_table(unquoted))
    old_chart = estimate_chart(old)

    # Assert
    assert "no estimate (report written before estimates were kept)" in old_text
    assert "no estimate (no quote when the parent was created)" in unquoted_text
    assert "nothing filled" in unquoted_text
    assert old_chart.layout.annotations[0].text == "no estimate for these parents"
    assert len(estimate_chart(unquoted).data[0].x) == 1  # only the parent with an estimate


def test_the_chart_draws_the_range_as_an_error_bar_and_the_realised_as_a_dot() -> None:
    report = _report(_parent("p1", estimate=_block(12.0, within=True)),
                     _parent("p2", estimate=_block(20.0, within=False)))
    expected, realised = estimate_chart(report).data
    assert list(expected.y) == [10.5, 10.5] and list(expected.error_y.array) == [4.0, 4.0]
    assert list(realised.y) == [12.0, 20.0]
    assert realised.marker.color[0] != realised.marker.color[1]  # inside vs outside
    assert len(estimate_chart(report, "p2").data[1].y) == 1  # one parent chosen


@pytest.fixture
def app(tmp_path: Path) -> Iterator[dash.Dash]:
    """An app with a ticking engine on its own database (market clock 120x)."""
    with ticking_app(tmp_path / "estimate.db") as application:
        yield application


def test_the_tca_page_shows_estimate_vs_realised_of_a_session(app: dash.Dash) -> None:
    # Arrange: a rebalance executed at once
    service = app.server.config["OMS"].service
    result = service.submit_rebalance("BTCUSDT 3000\nETHUSDT 2000", "market", 1, 0.9, actor="t")

    # Act
    pending, _ = tca.refresh_estimate(result.session_id, None, None)
    until(lambda: service.report(result.session_id) is not None)
    table, chart = tca.refresh_estimate(result.session_id, None, None)
    chosen, _ = tca.refresh_estimate(result.session_id, result.parent_ids[0], None)
    page = tca.layout(session=result.session_id)

    # Assert
    assert "no report yet" in text_of(pending)
    shown = text_of(table)
    assert "BTCUSDT" in shown and "ETHUSDT" in shown and "no estimate" not in shown
    assert ("within" in shown or "outside" in shown) and shown.count("1 / 1") == 2
    assert len(chart.data) == 2 and len(chart.data[1].y) == 2
    assert text_of(chosen).count("1 / 1") == 1  # the chosen parent only
    assert ids.TCA_ESTIMATE_TABLE in str(page) and ids.TCA_ESTIMATE_CHART in str(page)
