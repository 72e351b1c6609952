"""Building TCA inputs from the domain model (ParentOrder, ChildOrder, Fill)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from tca_builders import T0, D, session_of, worked_fills

from oms.errors import ValidationError
from oms.model.enums import AlgoName, ChildState, OrderType, ParentState, Side
from oms.model.orders import ChildOrder, ParentOrder
from oms.tca import MarketWindow, ParentExecution, build_execution_report, parent_execution
from oms.tca.inputs import ChildLatencies


def _domain_parent() -> tuple[ParentOrder, list[ChildOrder]]:
    parent = ParentOrder(
        parent_id="p-1", session_id="s-1", symbol="BTCUSDT", side=Side.BUY, quantity=D("1"),
        algo=AlgoName.TWAP, created_at=T0 - timedelta(seconds=5), duration_minutes=30,
        algo_reason="twap: 1% of ADV", decision_price=D("100.00"), arrival_price=D("100.10"),
        end_price=D("100.50"),
    )  # fmt: skip
    parent.transition(ParentState.WORKING, T0)
    children = []
    for n, fill in enumerate(worked_fills(), start=1):
        child = ChildOrder(
            client_order_id=fill.client_order_id, parent_id="p-1", symbol="BTCUSDT",
            side=Side.BUY, quantity=fill.quantity, order_type=OrderType.MARKET,
            created_at=fill.ts, venue="paper",
        )  # fmt: skip
        child.sent_at = fill.ts - timedelta(milliseconds=100 * n)
        child.acked_at = child.sent_at + timedelta(milliseconds=10 * n)
        child.transition(ChildState.NEW, child.acked_at)
        child.apply_fill(fill)
        parent.record_fill(fill)
        children.append(child)
    unsent = ChildOrder(
        client_order_id="c-x", parent_id="p-1", symbol="BTCUSDT", side=Side.BUY,
        quantity=D("0.2"), order_type=OrderType.MARKET, created_at=T0, venue="paper",
    )  # fmt: skip
    children.append(unsent)
    parent.transition(ParentState.CANCELED, T0 + timedelta(minutes=30), "horizon reached")
    return parent, children


def test_parent_execution_from_domain_objects() -> None:
    # Arrange
    parent, children = _domain_parent()
    fills = worked_fills()
    window = MarketWindow(vwap=D("100.20"), twap=D("100.25"), volume=D("8"))
    # Act
    execution = parent_execution(parent, children, fills, market=window)
    # Assert
    assert execution.child_count == 4
    assert execution.child_latencies.ack_ms == (10.0, 20.0, 30.0)  # the unsent child has none
    assert execution.child_latencies.first_fill_ms == (100.0, 200.0, 300.0)
    assert execution.filled_quantity == D("0.8")
    assert execution.start == T0 and execution.decision_time == T0 - timedelta(seconds=5)
    assert execution.end == T0 + timedelta(minutes=30)
    assert execution.state == "CANCELED" and execution.end_reason == "horizon reached"
    assert execution.algo == "twap"


def test_domain_built_report_matches_the_worked_example() -> None:
    # Arrange
    parent, children = _domain_parent()
    execution = parent_execution(
        parent, children, worked_fills(), market=MarketWindow(D("100.20"), D("100.25"), D("8"))
    )
    # Act
    report = build_execution_report(session_of(execution), T0)
    # Assert
    assert report["tca"]["total_cost_bps"] == pytest.approx(37.0)
    assert report["summary"]["latency"]["ack_p50_ms"] == pytest.approx(20.0)


def test_naive_times_and_non_positive_quantity_are_rejected() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="timezone-aware"):
        ParentExecution("p", "BTCUSDT", Side.BUY, "twap", D("1"), start=datetime(2024, 1, 1))
    with pytest.raises(ValidationError, match="must be > 0"):
        ParentExecution("p", "BTCUSDT", Side.BUY, "twap", Decimal(0))
    assert ChildLatencies.from_children([]) == ChildLatencies()
