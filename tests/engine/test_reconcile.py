"""Running reconciliation on the real engine and the paper venue, attacked: children in flight
never make a mismatch, an order or a deposit behind the OMS's back does (after two runs), and
each operator action clears it, audited; a bad action changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from oms_harness import OmsHarness, make_harness

from oms.config import RiskLimits
from oms.errors import ValidationError
from oms.model import ChildOrder, ChildState, OrderType, ParentState, Side, TradingState
from oms.reconciliation import MismatchKind, MismatchView
from oms.venues.events import VenueEvent
from oms.venues.paper import PaperVenue

D = Decimal
INTERVAL = 10.0  # seconds of market time between two runs; the harness ticks every second


def _harness(tmp_path: Path, **overrides: Any) -> OmsHarness:
    h = make_harness(tmp_path, reconcile_interval_s=INTERVAL, **overrides)
    h.tick()  # the first tick starts the interval: runs at +10 s, +20 s, ...
    return h


def _runs(h: OmsHarness, count: int) -> None:
    """Advance the market by ``count`` reconciliation intervals (one run each)."""
    h.run(INTERVAL * count)


def _venue(h: OmsHarness) -> PaperVenue:
    venue = h.engine.venue
    assert isinstance(venue, PaperVenue)
    return venue


def _foreign_order(h: OmsHarness, cid: str = "manual-1") -> ChildOrder:
    """A resting buy placed at the paper venue directly, behind the OMS's back."""
    mid = h.engine.mid("BTCUSDT")
    assert mid is not None
    order = ChildOrder(client_order_id=cid, parent_id="outside", symbol="BTCUSDT",
                       side=Side.BUY, quantity=D("0.01"), order_type=OrderType.LIMIT,
                       created_at=h.clock.now(), venue="paper",
                       limit_price=(mid * D("0.97")).quantize(D("0.01")))
    _venue(h).submit(order, h.clock.now())
    return order


def _deposit(h: OmsHarness, asset: str, amount: Decimal) -> None:
    """Change the paper venue's ledger behind the OMS's back."""
    venue = _venue(h)
    totals = {a: b.total for a, b in venue.balances().items()}
    totals[asset] = totals.get(asset, D(0)) + amount
    venue.set_balances(totals)


def _mismatches(h: OmsHarness) -> tuple[MismatchView, ...]:
    view = h.service.snapshot().reconciliation
    assert view is not None
    return view.mismatches


def _only(h: OmsHarness, kind: MismatchKind) -> MismatchView:
    (mismatch,) = _mismatches(h)
    assert mismatch.kind is kind
    return mismatch


def _resolve(h: OmsHarness, mismatch_id: str, action: str, reason: str | None = None) -> Any:
    future = h.service.resolve_mismatch(mismatch_id, action, reason, actor="desk", wait=False)
    h.tick()
    return future.result(timeout=1)


def _audit(h: OmsHarness, entity_id: str, event: str) -> list[dict[str, Any]]:
    return [row for row in h.service.repository.audit(entity_id=entity_id)
            if row["event"] == event]


def _reconcile_events(h: OmsHarness, code: str) -> list[dict[str, Any]]:
    return [e for e in h.service.risk_events(kind="RECONCILE") if e["code"] == code]


# -- no false positive --------------------------------------------------------------------------


def test_children_in_flight_never_make_a_mismatch_over_a_long_run(tmp_path: Path) -> None:
    # Arrange: passive TWAPs on three symbols, many small children, reconcile on every tick
    h = make_harness(tmp_path, reconcile_interval_s=0.5,
                     risk=RiskLimits(max_orders_per_minute=1000))
    options = {"max_child_notional": "300"}
    for symbol, quantity in (("BTCUSDT", "0.1"), ("ETHUSDT", "2"), ("SOLUSDT", "20")):
        h.service.submit_order(symbol, "BUY", quantity, "twap", 6, wait=False,
                               algo_options=options)
    transient, unsettled = 0, 0

    # Act
    for _ in range(7 * 60):
        h.run(1)
        view = h.service.snapshot().reconciliation
        assert view is not None
        transient = max(transient, view.pending)
        unsettled += view.balances_checked_at != view.last_run_at

    # Assert: it ran every tick, met differences in flight (fills and ends not yet polled) and
    # reported none of them
    view = h.service.snapshot().reconciliation
    assert view is not None and view.runs >= 7 * 60 - 1 and view.last_error is None
    assert h.service.child_orders(page_size=1).total >= 40 and len(h.service.fills()) >= 40
    assert transient > 0 and unsettled > 0
    assert view.mismatches == ()
    assert h.service.risk_events(kind="RECONCILE") == []
    assert h.engine.risk.trading_state is TradingState.ACTIVE
    h.oms.close()


def test_reconciliation_can_be_disabled(tmp_path: Path) -> None:
    h = make_harness(tmp_path, reconcile_interval_s=0)
    _foreign_order(h)
    h.run(120)
    view = h.service.snapshot().reconciliation
    assert view is not None and not view.enabled and view.runs == 0
    assert h.engine.risk.trading_state is TradingState.ACTIVE


# -- detection ---------------------------------------------------------------------------------


def test_an_order_placed_behind_the_oms_back_halts_after_two_runs(tmp_path: Path) -> None:
    # Arrange
    h = _harness(tmp_path)
    order = _foreign_order(h)

    # Act: the first run only sees it once
    _runs(h, 1)
    first = h.service.snapshot().reconciliation

    _runs(h, 1)

    # Assert
    assert first is not None and first.pending == 1 and first.mismatches == ()
    mismatch = _only(h, MismatchKind.UNKNOWN_ORDER)
    assert mismatch.subject == order.client_order_id and mismatch.symbol == "BTCUSDT"
    assert mismatch.oms_view == "not known as open"
    assert "BUY 0.01 BTCUSDT LIMIT" in mismatch.venue_view
    assert h.engine.risk.trading_state is TradingState.HALTED and h.oms.gate.is_halted
    (event,) = _reconcile_events(h, "UNKNOWN_ORDER")
    assert event["entity_id"] == order.client_order_id and event["actor"] == "reconcile"
    assert "reconciliation" in h.oms.gate.reason


def test_a_deposit_behind_the_oms_back_reduces_after_two_runs(tmp_path: Path) -> None:
    # Arrange
    h = _harness(tmp_path)
    _runs(h, 1)

    # Act
    _deposit(h, "USDT", D(1000))
    _runs(h, 1)
    state_after_one = h.engine.risk.trading_state
    _runs(h, 1)

    # Assert
    assert state_after_one is TradingState.ACTIVE
    mismatch = _only(h, MismatchKind.BALANCE)
    assert mismatch.subject == "USDT" and mismatch.difference == D(1000)
    assert mismatch.oms_view == "100000 USDT" and mismatch.venue_view == "101000 USDT"
    assert h.engine.risk.trading_state is TradingState.REDUCING
    assert not h.oms.gate.is_halted
    assert len(_reconcile_events(h, "BALANCE_MISMATCH")) == 1


def test_a_base_asset_difference_within_one_step_is_rounding(tmp_path: Path) -> None:
    h = _harness(tmp_path)
    _deposit(h, "BTC", D("0.00001"))  # one BTCUSDT step
    _runs(h, 3)
    assert _mismatches(h) == ()
    _deposit(h, "BTC", D("0.00001"))  # two steps
    _runs(h, 2)
    assert _only(h, MismatchKind.BALANCE).difference == D("0.00002")


def test_an_open_mismatch_blocks_resume_until_resolved(tmp_path: Path) -> None:
    # Arrange
    h = _harness(tmp_path)
    _foreign_order(h)
    _runs(h, 2)
    mismatch = _only(h, MismatchKind.UNKNOWN_ORDER)

    # Act
    refused = h.service.resume("checked", wait=False)
    h.tick()
    with pytest.raises(ValidationError) as err:
        refused.result(timeout=1)
    _resolve(h, mismatch.mismatch_id, "cancel")
    resumed = h.service.resume("checked", wait=False)
    h.tick()

    # Assert
    assert mismatch.mismatch_id in str(err.value)
    assert resumed.result(timeout=1).state is TradingState.ACTIVE


# -- actions -----------------------------------------------------------------------------------


def test_cancel_at_venue_clears_an_unknown_order_and_is_audited(tmp_path: Path) -> None:
    # Arrange
    h = _harness(tmp_path)
    order = _foreign_order(h)
    _runs(h, 2)
    mismatch = _only(h, MismatchKind.UNKNOWN_ORDER)

    # Act
    result = _resolve(h, mismatch.mismatch_id, "cancel")
    _runs(h, 3)

    # Assert
    assert result["action"] == "cancel" and _mismatches(h) == ()
    report = _venue(h).query(order.client_order_id)
    assert report is not None and report.state is ChildState.CANCELED
    (audit,) = _audit(h, mismatch.mismatch_id, "ReconcileMismatchResolved")
    assert audit["actor"] == "desk" and audit["payload"]["action"] == "cancel"
    assert audit["payload"]["subject"] == order.client_order_id
    assert len(_reconcile_events(h, "UNKNOWN_ORDER")) == 1  # not reported again


def test_adopt_follows_an_unknown_order_under_a_new_parent(tmp_path: Path) -> None:
    # Arrange
    h = _harness(tmp_path)
    order = _foreign_order(h)
    _runs(h, 2)
    mismatch = _only(h, MismatchKind.UNKNOWN_ORDER)

    # Act
    result = _resolve(h, mismatch.mismatch_id, "adopt")
    child = h.engine.open_children[order.client_order_id]
    parent = h.engine.parents[child.parent_id]
    _runs(h, 3)  # followed: no longer unknown
    still_open = _mismatches(h)
    h.service.cancel_parent(parent.parent_id, wait=False)  # its events now reach the OMS
    h.run(5)

    # Assert
    assert "followed" in result["result"] and still_open == ()
    assert parent.algo_reason.startswith("adopted from the venue")
    assert child.state is ChildState.CANCELED and parent.state is ParentState.CANCELED
    assert order.client_order_id not in h.engine.open_children
    assert parent.parent_id not in h.engine.parents and h.engine.last_error is None
    (session,) = [s for s in h.service.sessions() if s["kind"] == "reconcile"]
    assert session["session_id"] == parent.session_id
    assert _audit(h, order.client_order_id, "OrderAdopted")
    (audit,) = _audit(h, mismatch.mismatch_id, "ReconcileMismatchResolved")
    assert audit["payload"]["action"] == "adopt"


def test_adopting_a_balance_difference_makes_it_the_baseline(tmp_path: Path) -> None:
    # Arrange
    h = _harness(tmp_path)
    _deposit(h, "USDT", D(1000))
    _runs(h, 2)
    mismatch = _only(h, MismatchKind.BALANCE)

    # Act
    result = _resolve(h, mismatch.mismatch_id, "adopt")
    _runs(h, 3)
    after_adopt = _mismatches(h)
    _deposit(h, "USDT", D(-200))  # a withdrawal is a difference from the new baseline
    _runs(h, 2)

    # Assert
    assert "baseline of USDT 0 -> 1000" in result["result"] and after_adopt == ()
    view = h.service.snapshot().reconciliation
    assert view is not None and view.baseline == {"USDT": D(1000)}
    assert _only(h, MismatchKind.BALANCE).difference == D(-200)
    (audit,) = _audit(h, mismatch.mismatch_id, "ReconcileMismatchResolved")
    assert audit["payload"]["action"] == "adopt" and audit["payload"]["difference"] == "1000"


def test_ignore_needs_a_reason_and_then_holds_while_the_difference_is_unchanged(
        tmp_path: Path) -> None:
    # Arrange
    h = _harness(tmp_path)
    _deposit(h, "USDT", D(1000))
    _runs(h, 2)
    mismatch = _only(h, MismatchKind.BALANCE)

    # Act
    refusals = []
    for reason in (None, "", "   ", "x" * 501, "two\nlines"):
        with pytest.raises(ValidationError) as err:
            h.service.resolve_mismatch(mismatch.mismatch_id, "ignore", reason, wait=False)
        refusals.append(err.value.errors)
    h.tick()
    still_open = _mismatches(h)
    _resolve(h, mismatch.mismatch_id, "ignore", "desk deposit, booked by treasury")
    _runs(h, 3)
    while_unchanged = _mismatches(h)
    _deposit(h, "USDT", D(500))
    _runs(h, 2)

    # Assert
    assert all(errors[0].field == "reason" for errors in refusals)
    assert "500 characters" in refusals[3][0].message
    assert [m.mismatch_id for m in still_open] == [mismatch.mismatch_id]  # nothing applied
    assert while_unchanged == ()
    assert _only(h, MismatchKind.BALANCE).difference == D(1500)  # changed: reported again
    (audit,) = _audit(h, mismatch.mismatch_id, "ReconcileMismatchResolved")
    assert audit["payload"]["reason"] == "desk deposit, booked by treasury"


def test_a_bad_action_is_refused_naming_the_field_and_changes_nothing(tmp_path: Path) -> None:
    # Arrange
    h = _harness(tmp_path)
    _deposit(h, "USDT", D(1000))
    _runs(h, 2)
    mismatch = _only(h, MismatchKind.BALANCE)

    # Act
    with pytest.raises(ValidationError) as bad_action:
        h.service.resolve_mismatch(mismatch.mismatch_id, "delete", wait=False)
    with pytest.raises(ValidationError) as bad_id:
        h.service.resolve_mismatch("../etc", "adopt", wait=False)
    with pytest.raises(ValidationError) as wrong_kind:
        _resolve(h, mismatch.mismatch_id, "cancel")  # cancel is for unknown orders
    with pytest.raises(ValidationError) as unknown:
        _resolve(h, "rc-nope-1", "adopt")

    # Assert
    assert bad_action.value.errors[0].field == "action"
    assert "adopt, cancel, ignore" in bad_action.value.errors[0].message
    assert bad_id.value.errors[0].field == "mismatch_id"
    assert wrong_kind.value.errors[0].field == "action"
    assert "BALANCE_MISMATCH" in wrong_kind.value.errors[0].message
    assert unknown.value.errors[0].field == "mismatch_id"
    assert [m.mismatch_id for m in _mismatches(h)] == [mismatch.mismatch_id]
    assert not _audit(h, mismatch.mismatch_id, "ReconcileMismatchResolved")


def _lose_events_of(h: OmsHarness, monkeypatch: pytest.MonkeyPatch,
                    lost: set[str]) -> Callable[[datetime], list[VenueEvent]]:
    """Make the venue drop every event of the orders in ``lost`` (a lost stream message)."""
    venue = _venue(h)
    poll = venue.poll

    def lossy(now: datetime) -> list[VenueEvent]:
        return [e for e in poll(now) if e.client_order_id not in lost]

    monkeypatch.setattr(venue, "poll", lossy)
    return lossy


def test_an_order_the_venue_no_longer_holds_is_missing_and_adopt_closes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange: a working child of the OMS (an adopted order resting far from the market)
    h = _harness(tmp_path)
    order = _foreign_order(h)
    _runs(h, 2)
    _resolve(h, _only(h, MismatchKind.UNKNOWN_ORDER).mismatch_id, "adopt")
    child = h.engine.open_children[order.client_order_id]
    assert child.state is ChildState.NEW and child.acked_at is not None

    # Act: canceled at the venue, and the cancel's event never reaches the OMS
    _lose_events_of(h, monkeypatch, {order.client_order_id})
    _venue(h).cancel(order.client_order_id, h.clock.now())
    _runs(h, 2)
    mismatch = _only(h, MismatchKind.MISSING_ORDER)
    halted = h.engine.risk.trading_state
    result = _resolve(h, mismatch.mismatch_id, "adopt")
    h.run(5)

    # Assert
    assert mismatch.subject == order.client_order_id and mismatch.present
    assert mismatch.oms_view.startswith("NEW") and "CANCELED" in mismatch.venue_view
    assert halted is TradingState.HALTED
    assert result["result"].startswith("closed as CANCELED")
    assert child.state is ChildState.CANCELED and "reconciliation" in (child.reason or "")
    assert order.client_order_id not in h.engine.open_children and _mismatches(h) == ()
    assert len(_reconcile_events(h, "MISSING_ORDER")) == 1
    assert _audit(h, mismatch.mismatch_id, "ReconcileMismatchResolved")


def test_adopt_refuses_an_order_id_the_oms_already_closed(tmp_path: Path) -> None:
    # Arrange: the OMS follows an order, then closes it while the venue still works it
    h = _harness(tmp_path)
    order = _foreign_order(h)
    _runs(h, 2)
    _resolve(h, _only(h, MismatchKind.UNKNOWN_ORDER).mismatch_id, "adopt")
    child = h.engine.open_children[order.client_order_id]
    h.engine.lifecycle.close_child(child, ChildState.EXPIRED, h.clock.now(), "lost by a bug")
    _runs(h, 2)
    mismatch = _only(h, MismatchKind.UNKNOWN_ORDER)

    # Act
    with pytest.raises(ValidationError) as err:
        _resolve(h, mismatch.mismatch_id, "adopt")
    result = _resolve(h, mismatch.mismatch_id, "cancel")

    # Assert
    assert err.value.errors[0].field == "action" and "already closed" in str(err.value)
    assert result["result"] == "cancel requested at the venue"
    assert h.engine.last_error is None
