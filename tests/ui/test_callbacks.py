"""Dash callbacks tested by calling them (inside a request context of an isolated app)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dash
import pytest
from oms_harness import until
from ui_helpers import text_of, ticking_app, triggered

from components import ids
from components.blotter import grid_query
from components.frame import frame_view, kill_switch, refresh_frame
from oms.errors import ValidationError
from oms.runtime import EngineHealth
from pages import orders, overview, rebalance, risk, tca

TARGETS = "BTCUSDT 3000\nETHUSDT 2000\nSOLUSDT 1000"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[dash.Dash]:
    """An app with a ticking engine on its own database (market clock 120x)."""
    with ticking_app(tmp_path / "cb.db") as application:
        yield application


def _oms(app: dash.Dash) -> Any:
    return app.server.config["OMS"]


# -- frame -----------------------------------------------------------------------------------


def test_frame_shows_active_state_and_armed_breakers(app: dash.Dash) -> None:
    # Act
    out = refresh_frame(1, None)

    # Assert
    assert out[0] == "ACTIVE"
    assert "state-active" in out[1]
    breaker_texts = out[3:15:3]
    assert list(breaker_texts) == ["ARMED"] * 4
    assert "PAPER" in out[15]
    assert out[-1] == ""  # no banner while ACTIVE


def test_kill_switch_halts_before_the_next_tick(app: dash.Dash) -> None:
    # Act
    action = kill_switch(1)
    out = refresh_frame(2, action)

    # Assert
    assert _oms(app).gate.is_halted
    assert out[0] == "HALTED"
    assert "kill switch" in out[2]
    assert out[-1].startswith("TRADING HALTED: kill switch")


def test_kill_switch_ignores_the_initial_render(app: dash.Dash) -> None:
    with pytest.raises(dash.exceptions.PreventUpdate):
        kill_switch(0)
    assert not _oms(app).gate.is_halted


def test_frame_view_reports_stale_ticks_errors_and_tripped_breakers(app: dash.Dash) -> None:
    # Arrange
    snap = _oms(app).service.snapshot()
    snap = type(snap)(**{**{f: getattr(snap, f) for f in snap.__dataclass_fields__},
                         "breakers": {"high_latency": {"state": "COOLDOWN", "tripped": True,
                                                       "last_trip_at": "2024-01-01T00:00:00Z",
                                                       "last_reason": "5 round trips"}}})
    health = EngineHealth(True, 2, 1, "tick failed: boom", datetime.now(UTC))

    # Act
    view = frame_view(snap, health, halted_now=False, gate_reason="", speed=1.0,
                      now=snap.wall_ts + timedelta(seconds=30))

    # Assert
    assert view.breakers["high_latency"][0] == "TRIPPED"
    assert view.breakers["high_slippage"][0] == "ARMED"
    assert "no tick for 30 s" in view.health
    assert "2 tick errors" in view.health and "1 missed" in view.health
    assert view.health_class.endswith("health-bad")


# -- rebalance -------------------------------------------------------------------------------


def test_bad_rebalance_lists_each_line_and_submits_nothing(app: dash.Dash) -> None:
    # Arrange
    text = "BTCUSDT 3000\nFOOUSDT 10\nETHUSDT -5\nSOLUSDT inf"

    # Act
    feedback = rebalance.submit_rebalance(1, text, "twap", 0, 0.5)

    # Assert
    shown = text_of(feedback)
    assert "nothing submitted" in shown
    assert "line 2 (FOOUSDT)" in shown and "line 3 (ETHUSDT)" in shown
    assert "line 4 (SOLUSDT)" in shown and "duration" in shown
    assert _oms(app).service.parent_orders().total == 0


def test_bad_line_syntax_and_duplicates_are_named(app: dash.Dash) -> None:
    feedback = rebalance.submit_rebalance(1, "BTCUSDT 1 2\nETHUSDT 5\nETHUSDT 6", "auto", 5, 0.5)
    shown = text_of(feedback)
    assert "line 1" in shown and "line 3" in shown and "duplicate" in shown


def test_preview_lists_parents_with_algorithm_and_reason(app: dash.Dash) -> None:
    # Act
    table = rebalance.preview(1, TARGETS, "auto", 0.5)

    # Assert
    shown = text_of(table)
    for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
        assert symbol in shown
    assert "BUY" in shown and "3,000.00" in shown
    assert "IS" in shown and "implementation shortfall" in shown  # the policy's reason
    assert _oms(app).service.parent_orders().total == 0


def test_submit_creates_parents_visible_in_the_server_side_blotters(app: dash.Dash) -> None:
    # Arrange: an empty blotter says so (no "Page 0 of 0")
    empty, empty_box, empty_note = orders.parent_rows({"startRow": 0, "endRow": 100})

    # Act
    feedback = rebalance.submit_rebalance(1, TARGETS, "twap", 2, 0.5)

    # Assert
    assert empty["rowCount"] == 0 and "is-empty" in empty_box
    assert empty_note == "no parent orders yet"
    assert "Submitted 3 parent orders" in text_of(feedback)
    until(lambda: _oms(app).service.child_orders().total >= 3)
    parents, box, note = orders.parent_rows({"startRow": 0, "endRow": 100})
    assert parents["rowCount"] == 3 and "is-empty" not in box and note == ""
    assert {r["symbol"] for r in parents["rowData"]} == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    assert all(r["created"].endswith(" UTC") and r["created"][:2] == "20"
               for r in parents["rowData"])
    one = parents["rowData"][0]
    children, _, _ = orders.child_rows({"startRow": 0, "endRow": 100},
                                       {"parent_id": one["parent_id"],
                                        "session_id": one["session_id"]})
    assert children["rowCount"] >= 1
    assert {r["parent_id"] for r in children["rowData"]} == {one["parent_id"]}
    filtered, _, _ = orders.parent_rows({"startRow": 0, "endRow": 100, "filterModel": {
        "symbol": {"filterType": "text", "type": "equals", "filter": "ethusdt"}}})
    assert filtered["rowCount"] == 1
    nothing, _, why = orders.parent_rows({"startRow": 0, "endRow": 100, "filterModel": {
        "symbol": {"filterType": "text", "type": "equals", "filter": "dogeusdt"}}})
    assert nothing["rowCount"] == 0 and why == "no parent orders match the filters"


def test_the_working_only_toggle_shows_open_orders_only(app: dash.Dash) -> None:
    # Arrange: three parents, one canceled
    rebalance.submit_rebalance(1, TARGETS, "twap", 30, 0.5)
    until(lambda: _oms(app).service.parent_orders().total == 3)
    first = _oms(app).service.parent_orders().rows[0]["parent_id"]
    _oms(app).service.cancel_parent(first)
    until(lambda: _oms(app).service.parent_orders(state="CANCELED").total == 1)

    # Act
    working, _, _ = orders.parent_rows({"startRow": 0, "endRow": 100}, ["working"])
    every, _, _ = orders.parent_rows({"startRow": 0, "endRow": 100}, [])
    open_children, _, _ = orders.child_rows({"startRow": 0, "endRow": 100}, None, ["working"])

    # Assert
    assert every["rowCount"] == 3 and working["rowCount"] == 2
    assert first not in {r["parent_id"] for r in working["rowData"]}
    assert all(r["state"] in ("PENDING_NEW", "NEW", "PARTIALLY_FILLED", "PENDING_CANCEL")
               for r in open_children["rowData"])


def test_the_column_chooser_shows_optional_columns_and_never_hides_session_or_end_reason(
) -> None:
    default = {c["field"]: c["hide"] for c in orders.parent_columns([])}
    chosen = {c["field"]: c["hide"] for c in orders.parent_columns(["fees"])}
    assert not default["session_id"] and not default["end_reason"] and default["fees"]
    assert not chosen["fees"] and chosen["arrival_price"]
    pinned = [c["field"] for c in orders.child_columns([]) if c.get("pinned") == "left"]
    assert pinned == ["symbol", "side", "state"]


def test_submit_signal_validates_every_field(app: dash.Dash) -> None:
    feedback = signal_text = text_of(rebalance.submit_signal(1, "BTCUSDT", "HOLD", -1, 2, 0.5,
                                                           "entry"))
    assert "side" in signal_text and "size_usd" in signal_text and "confidence" in signal_text
    assert "nothing submitted" in feedback


def test_targets_text_and_table_stay_in_step() -> None:
    # Act
    _, rows = triggered(f"{ids.REBALANCE_TEXT}.value", rebalance.sync_targets,
                         "BTCUSDT 3000\n\nETHUSDT\t2000", None, 0, [])
    text, _ = triggered(f"{ids.REBALANCE_TABLE}.cellValueChanged", rebalance.sync_targets,
                         "", [{}], 0, [{"symbol": "SOLUSDT", "target_usd": "1000"},
                                       {"symbol": "", "target_usd": ""}])

    # Assert
    assert rows == [{"symbol": "BTCUSDT", "target_usd": "3000"},
                    {"symbol": "ETHUSDT", "target_usd": "2000"}]
    assert text == "SOLUSDT 1000"


# -- overview, orders, risk, tca ---------------------------------------------------------------


def test_overview_shows_positions_progress_and_fills_after_a_session(app: dash.Dash) -> None:
    # Arrange
    rebalance.submit_rebalance(1, TARGETS, "market", 1, 0.9)
    until(lambda: len(_oms(app).service.snapshot().recent_fills) >= 3)

    # Act
    kpis, positions, parents, fills = overview.refresh_overview(1)

    # Assert
    assert "Equity" in text_of(kpis)
    assert "3,000.00" in text_of(positions)
    assert "100%" in text_of(parents)
    assert "BTCUSDT" in text_of(fills)


def test_parent_selection_detail_and_cancel(app: dash.Dash) -> None:
    # Arrange
    result = _oms(app).service.submit_rebalance("BTCUSDT 2000", "twap", 30, 0.5, actor="t")
    parent_id = result.parent_ids[0]
    row = {"parent_id": parent_id, "session_id": result.session_id}
    until(lambda: _oms(app).service.parent_orders().total == 1)  # persisted after the tick

    # Act
    selected, _ = triggered(f"{ids.PARENT_GRID}.selectedRows", orders.select_parent, [row], 0)
    detail, _fills, cancel_disabled = orders.parent_detail(selected, 1)
    feedback = orders.cancel_parent(1, selected)

    # Assert
    assert selected == row
    assert parent_id in text_of(detail) and "TWAP" in text_of(detail)
    assert cancel_disabled is False
    assert "Cancel requested" in text_of(feedback)
    until(lambda: orders.parent_rows({"startRow": 0, "endRow": 10})[0]["rowData"][0]["state"]
           == "CANCELED")


def test_resume_needs_a_reason_then_returns_to_active(app: dash.Dash) -> None:
    # Arrange
    kill_switch(1)

    # Act
    refused = triggered(f"{ids.RESUME_TRADING}.n_clicks", risk.resume_or_reset, 1, 0, "  ",
                         None)
    resumed = triggered(f"{ids.RESUME_TRADING}.n_clicks", risk.resume_or_reset, 2, 0,
                         "checked", None)

    # Assert
    assert "reason" in text_of(refused)
    assert "ACTIVE" in text_of(resumed)
    until(lambda: refresh_frame(3, None)[0] == "ACTIVE")


def test_risk_page_usage_breakers_and_event_log(app: dash.Dash) -> None:
    # Arrange
    kill_switch(1)
    until(lambda: bool(_oms(app).service.risk_events()))

    # Act
    usage, breakers, venues = risk.refresh_risk(1)
    rows = risk.refresh_violations(1, None)

    # Assert
    assert "Gross exposure" in text_of(usage)
    assert "high slippage" in text_of(breakers) and "ARMED" in text_of(breakers)
    assert "one venue: paper" in text_of(venues)
    assert any(r["kind"] == "KILL" for r in rows)
    with pytest.raises(dash.exceptions.PreventUpdate):
        risk.refresh_violations(2, rows)


def test_tca_waits_for_the_report_then_draws_it(app: dash.Dash) -> None:
    # Arrange
    result = _oms(app).service.submit_rebalance(TARGETS, "market", 1, 0.9, actor="t")

    # Act
    pending = tca.refresh_tca(result.session_id, None, None)
    until(lambda: _oms(app).service.report(result.session_id) is not None)
    summary, execution, waterfall, histogram, quality = tca.refresh_tca(result.session_id,
                                                                        None, None)
    options, _ = triggered(f"{ids.TCA_SESSION}.value", tca.parent_options, result.session_id,
                            None)
    download = tca.download_json(1, result.session_id)

    # Assert
    assert "no report yet" in text_of(pending[0])
    assert "SHORTFALL" in text_of(summary).upper()
    assert len(execution.data) >= 3
    assert waterfall.data[0].type == "waterfall"
    assert histogram.data and quality.data
    assert len(options) == 3
    assert download["filename"].endswith(".json") and result.session_id in download["content"]


def test_grid_query_translates_paging_and_equality_filters() -> None:
    query = grid_query({"startRow": 200, "endRow": 300, "filterModel": {
        "state": {"filter": "working"}, "algo": {"filter": "twap"},
        "parent_id": {"filter": "p-1"}}}, "children", {"parent_id": "p-9"})
    assert query == {"page": 2, "page_size": 100, "state": "WORKING", "parent_id": "p-1"}


def test_grid_sorting_is_server_side_when_the_repository_supports_it() -> None:
    from components.blotter import SORTABLE

    query = grid_query({"startRow": 0, "endRow": 100, "sortModel": [
        {"colId": "progress", "sort": "asc"}, {"colId": "symbol", "sort": "asc"}]}, "parents")
    computed_only = grid_query({"sortModel": [{"colId": "progress", "sort": "asc"}]}, "parents")
    assert "order_by" not in computed_only  # computed columns cannot be sorted in SQL
    if SORTABLE:
        assert (query["order_by"], query["descending"]) == ("symbol", False)
    else:
        assert "order_by" not in query


def test_pnl_samples_and_chart_from_the_stored_history(app: dash.Dash) -> None:
    # Arrange: the engine (market 120x) samples every 5 s of market time into the database
    until(lambda: len(_oms(app).service.equity_history("session")) >= 3)

    # Act
    point = overview.record_equity(1)
    figures = {span: overview.draw_equity(span) for span in ("session", "day", "all")}

    # Assert
    assert set(point) == {"tick", "t", "pnl"} and point["pnl"] == 0.0
    for figure in figures.values():
        assert len(figure.data[0].x) >= 3 and set(figure.data[0].y) == {0.0}
        assert list(figure.data[0].x) == sorted(figure.data[0].x)
    with pytest.raises(ValidationError):
        _oms(app).service.equity_history("week")


def test_valid_signal_is_submitted(app: dash.Dash) -> None:
    feedback = rebalance.submit_signal(1, "ETHUSDT", "BUY", 800, 0.6, 0.4, "entry")
    assert "Submitted 1 parent order (signal" in text_of(feedback)


def test_signal_form_auto_size_previews_then_submits_the_computation(app: dash.Dash) -> None:
    # Act: the Size USD field (800) is ignored when the size is auto
    preview = text_of(rebalance.preview_signal(1, "ETHUSDT", "BUY", 800, 0.6, 0.4, "entry",
                                               "auto"))
    fixed = text_of(rebalance.preview_signal(1, "ETHUSDT", "BUY", 800, 0.6, 0.4, "entry",
                                             "usd"))
    parents_before = _oms(app).service.parent_orders().total
    submitted = text_of(rebalance.submit_signal(1, "ETHUSDT", "BUY", 800, 0.6, 0.4, "entry",
                                                "auto"))
    # Assert: equity 100,000 x 0.130667 x vol scale is above the 5,000 order cap
    assert "Auto size: 5000.00 USD" in preview and "0.522667" in preview
    assert "Win rate" in preview and "0.821" in preview and "Cap applied" in preview
    assert "Fixed size: 800 USD" in fixed
    assert parents_before == 0
    assert "Submitted 1 parent order (signal" in submitted and "5000.00" in submitted


def test_signal_form_refuses_a_missing_size(app: dash.Dash) -> None:
    feedback = text_of(rebalance.submit_signal(1, "ETHUSDT", "BUY", None, 0.6, 0.4, "entry",
                                               "usd"))
    assert "Signal rejected" in feedback and "size_usd" in feedback


def test_tca_session_list_follows_new_sessions(app: dash.Dash) -> None:
    # Arrange
    empty = tca.poll_sessions(1, None, None, None)
    result = _oms(app).service.submit_rebalance("BTCUSDT 1000", "market", 1, 0.9, actor="t")
    until(lambda: bool(_oms(app).service.sessions()))

    # Act
    options, value, ready = tca.poll_sessions(2, None, None, [])

    # Assert
    assert empty[0] == [] and empty[2] == {"session": None, "ready": False}
    assert [o["value"] for o in options] == [result.session_id]
    assert value == result.session_id and ready["session"] == result.session_id


# -- G1 and G8: the kill is durable; malformed callback payloads answer with a visible error ----


def test_kill_switch_commits_the_halt_before_it_answers(app: dash.Dash) -> None:
    # Act
    action = kill_switch(1)

    # Assert
    assert "error" not in action
    assert _oms(app).repository.latest_trading_state() == ("HALTED", "kill switch (dashboard)")


def test_kill_switch_that_cannot_commit_still_halts_and_says_so(
        app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange
    from oms.errors import PersistenceError

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise PersistenceError("database write failed: disk full")

    monkeypatch.setattr(_oms(app).repository, "record_halt", broken)

    # Act
    action = kill_switch(1)
    out = refresh_frame(2, action)

    # Assert
    assert _oms(app).gate.is_halted and out[0] == "HALTED"
    assert out[-1].startswith("KILL NOT YET DURABLE") and "disk full" in out[-1]


@pytest.mark.parametrize("clicks", [{"n": 1}, "1", [1], -1, True], ids=repr)
def test_kill_switch_with_a_malformed_click_shows_an_error(app: dash.Dash, clicks: Any) -> None:
    # Act
    action = kill_switch(clicks)
    out = refresh_frame(2, action)

    # Assert
    assert "n_clicks" in action["error"] and "n_clicks" in out[-1]
    assert not _oms(app).gate.is_halted


def test_refresh_frame_survives_a_malformed_frame_action(app: dash.Dash) -> None:
    for action in ({"error": {"x": 1}}, ["x"], "text", 5, {"error": "e" * 10_000}):
        out = refresh_frame(1, action)
        assert out[0] == "ACTIVE" and len(out[-1]) <= 301


@pytest.mark.parametrize("reason", [{"why": "x"}, ["x"], 5, True, "x" * 501, "a\nb"], ids=repr)
def test_resume_and_reset_with_a_malformed_reason_name_the_field(app: dash.Dash,
                                                                 reason: Any) -> None:
    # Arrange
    kill_switch(1)

    # Act
    resumed = triggered(f"{ids.RESUME_TRADING}.n_clicks", risk.resume_or_reset, 1, 0, reason,
                         None)
    reset = triggered(f"{ids.BREAKER_RESET}.n_clicks", risk.resume_or_reset, 0, 1, reason,
                       "high_slippage")

    # Assert
    assert "reason" in text_of(resumed) and "feedback-error" in resumed.className
    assert "reason" in text_of(reset) and "feedback-error" in reset.className
    assert _oms(app).gate.is_halted


@pytest.mark.parametrize("breaker", [{"name": "high_slippage"}, ["high_slippage"], 7, "nope"],
                         ids=repr)
def test_breaker_reset_with_a_malformed_name_names_the_breaker(app: dash.Dash,
                                                                breaker: Any) -> None:
    feedback = triggered(f"{ids.BREAKER_RESET}.n_clicks", risk.resume_or_reset, 0, 1,
                          "checked", breaker)
    assert "breaker" in text_of(feedback) and "feedback-error" in feedback.className


def test_rebalance_callbacks_with_malformed_payloads_show_errors(app: dash.Dash) -> None:
    # Act
    cases = {
        "targets": [rebalance.preview(1, {"BTCUSDT": 3000}, "auto", 0.5),
                    rebalance.submit_rebalance(1, ["BTCUSDT 3000"], "auto", 30, 0.5)],
        "algo": [rebalance.preview(1, TARGETS, ["twap"], 0.5),
                 rebalance.submit_rebalance(1, TARGETS, {"algo": "twap"}, 30, 0.5)],
        "urgency": [rebalance.preview(1, TARGETS, "auto", {"u": 1}),
                    rebalance.submit_rebalance(1, TARGETS, "auto", 30, [0.5])],
        "duration": [rebalance.submit_rebalance(1, TARGETS, "auto", {"min": 3}, 0.5)],
    }

    # Assert
    for field, feedbacks in cases.items():
        for feedback in feedbacks:
            assert field in text_of(feedback), (field, text_of(feedback))
            assert "feedback-error" in feedback.className
    time.sleep(0.2)
    assert orders.parent_rows({"startRow": 0, "endRow": 10})[0]["rowData"] == []


def test_targets_sync_ignores_a_malformed_payload(app: dash.Dash) -> None:
    for trigger, args in ((f"{ids.REBALANCE_TEXT}.value", ({"t": 1}, None, 0, None)),
                          (f"{ids.REBALANCE_TABLE}.cellValueChanged", ("", {}, 0, {"r": 1})),
                          (f"{ids.REBALANCE_TABLE}.cellValueChanged", ("", {}, 0, [1, 2])),
                          (f"{ids.REBALANCE_TABLE_ADD}.n_clicks", ("", None, 1, "rows"))):
        with pytest.raises(dash.exceptions.PreventUpdate):
            triggered(trigger, rebalance.sync_targets, *args)


def _resume_post(reason: Any) -> dict[str, Any]:
    """The body the dashboard posts when "Resume trading" is clicked."""
    return {"output": f"{ids.RISK_FEEDBACK}.children",
            "outputs": {"id": ids.RISK_FEEDBACK, "property": "children"},
            "inputs": [{"id": ids.RESUME_TRADING, "property": "n_clicks", "value": 1},
                       {"id": ids.BREAKER_RESET, "property": "n_clicks", "value": 0}],
            "changedPropIds": [f"{ids.RESUME_TRADING}.n_clicks"],
            "state": [{"id": ids.RESUME_REASON, "property": "value", "value": reason},
                      {"id": ids.BREAKER_RESET_NAME, "property": "value", "value": None}]}


def test_a_hostile_callback_post_gets_a_clear_error_never_a_500(app: dash.Dash) -> None:
    # Arrange
    client = app.server.test_client()
    kill_switch(1)
    unknown_output = {**_resume_post("x"), "output": "nothing.children"}
    bad_inputs = {**_resume_post("x"), "inputs": {"id": "x"}}
    bad_state = {**_resume_post("x"), "state": [{"value": 1}]}

    # Act
    wrong_type = client.post("/_dash-update-component", json=_resume_post({"a": [1, 2]}))
    envelopes = [client.post("/_dash-update-component", json=body)
                 for body in ([], {"inputs": []}, unknown_output, bad_inputs, bad_state)]

    # Assert
    assert wrong_type.status_code == 200
    assert "reason" in wrong_type.get_data(as_text=True)
    assert "feedback-error" in wrong_type.get_data(as_text=True)
    for response in envelopes:
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["errors"][0]["field"] in {"body", "output"}
    assert _oms(app).gate.is_halted
