"""Child and parent state machines: allowed moves succeed, forbidden ones raise, change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from oms.errors import InvalidTransition
from oms.model import AlgoName, ChildOrder, ChildState, OrderType, ParentOrder, ParentState, Side
from oms.model.transitions import CHILD_TRANSITIONS, PARENT_TRANSITIONS

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def child(state: ChildState = ChildState.PENDING_NEW) -> ChildOrder:
    return ChildOrder("c1", "p1", "BTCUSDT", Side.BUY, Decimal("1"), OrderType.MARKET, T0,
                      "paper", state=state)


def parent(state: ParentState = ParentState.PENDING) -> ParentOrder:
    return ParentOrder("p1", "s1", "BTCUSDT", Side.BUY, Decimal("1"), AlgoName.TWAP, T0, 10.0,
                       state=state)


@pytest.mark.parametrize("source", list(ChildState))
@pytest.mark.parametrize("target", list(ChildState))
def test_child_transition_table_is_enforced(source: ChildState, target: ChildState) -> None:
    order = child(source)
    if target in CHILD_TRANSITIONS[source]:
        order.transition(target, T0)
        assert order.state is target
    else:
        with pytest.raises(InvalidTransition):
            order.transition(target, T0)
        assert order.state is source


@pytest.mark.parametrize("source", list(ParentState))
@pytest.mark.parametrize("target", list(ParentState))
def test_parent_transition_table_is_enforced(source: ParentState, target: ParentState) -> None:
    order = parent(source)
    if target in PARENT_TRANSITIONS[source]:
        order.transition(target, T0)
        assert order.state is target
    else:
        with pytest.raises(InvalidTransition):
            order.transition(target, T0)
        assert order.state is source


def test_terminal_states_have_no_exit() -> None:
    for state in ChildState:
        assert (not CHILD_TRANSITIONS[state]) == state.is_terminal
    for pstate in ParentState:
        assert (not PARENT_TRANSITIONS[pstate]) == pstate.is_terminal


def test_parent_records_start_and_end() -> None:
    order = parent()
    order.transition(ParentState.WORKING, T0)
    order.transition(ParentState.COMPLETED, T0, "filled")
    assert order.started_at == T0 and order.ended_at == T0 and order.end_reason == "filled"
