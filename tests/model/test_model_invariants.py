"""Property tests of the order invariants (hypothesis)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from oms.errors import InvalidTransition
from oms.model import (
    AlgoName,
    ChildOrder,
    ChildState,
    Fill,
    Liquidity,
    OrderType,
    ParentOrder,
    Side,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("5"), places=3)


def fill(cid: str, n: int, qty: Decimal) -> Fill:
    return Fill(f"{cid}:{n}", cid, "p1", "BTCUSDT", Side.BUY, Decimal("100"), qty,
                Decimal("0.01"), Liquidity.TAKER, T0, "paper")


@given(order_qty=quantities, fills=st.lists(quantities, max_size=12))
def test_child_fills_never_exceed_quantity(order_qty: Decimal, fills: list[Decimal]) -> None:
    order = ChildOrder("c1", "p1", "BTCUSDT", Side.BUY, order_qty, OrderType.MARKET, T0, "paper")
    order.transition(ChildState.NEW, T0)
    for n, qty in enumerate(fills):
        before = (order.filled_quantity, order.state)
        try:
            order.apply_fill(fill("c1", n, qty))
        except InvalidTransition:
            assert (order.filled_quantity, order.state) == before  # unchanged
        assert order.filled_quantity <= order.quantity
    assert (order.state is ChildState.FILLED) == (order.filled_quantity == order.quantity)


@settings(max_examples=60)
@given(children=st.lists(st.tuples(quantities, st.lists(quantities, max_size=4)), min_size=1,
                         max_size=6))
def test_parent_filled_equals_sum_of_children(
        children: list[tuple[Decimal, list[Decimal]]]) -> None:
    total = sum((q for q, _ in children), Decimal(0))
    parent = ParentOrder("p1", "s1", "BTCUSDT", Side.BUY, total, AlgoName.TWAP, T0, 10.0)
    orders = []
    for i, (qty, fills) in enumerate(children):
        order = ChildOrder(f"c{i}", "p1", "BTCUSDT", Side.BUY, qty, OrderType.MARKET, T0, "paper")
        orders.append(order)
        for n, fqty in enumerate(fills):
            f = fill(order.client_order_id, n, fqty)
            try:
                if order.apply_fill(f):
                    parent.record_fill(f)
            except InvalidTransition:
                pass
    assert parent.filled_quantity == sum((o.filled_quantity for o in orders), Decimal(0))


@given(terminal=st.sampled_from([ChildState.FILLED, ChildState.CANCELED, ChildState.REJECTED,
                                 ChildState.EXPIRED]),
       target=st.sampled_from(list(ChildState)))
def test_terminal_child_states_are_final(terminal: ChildState, target: ChildState) -> None:
    order = ChildOrder("c1", "p1", "BTCUSDT", Side.BUY, Decimal(1), OrderType.MARKET, T0,
                       "paper", state=terminal)
    with contextlib.suppress(InvalidTransition):
        order.transition(target, T0)
    assert order.state is terminal


def test_fill_after_cancel_request_is_applied() -> None:
    order = ChildOrder("c1", "p1", "BTCUSDT", Side.BUY, Decimal(2), OrderType.LIMIT, T0, "paper")
    order.transition(ChildState.NEW, T0)
    order.transition(ChildState.PENDING_CANCEL, T0)
    order.apply_fill(fill("c1", 1, Decimal(1)))
    assert order.state is ChildState.PENDING_CANCEL and order.filled_quantity == 1
    order.apply_fill(fill("c1", 2, Decimal(1)))
    assert order.state is ChildState.FILLED


def test_same_fill_is_applied_once() -> None:
    order = ChildOrder("c1", "p1", "BTCUSDT", Side.BUY, Decimal(2), OrderType.MARKET, T0, "paper")
    f = fill("c1", 1, Decimal(1))
    assert order.apply_fill(f) is True
    assert order.apply_fill(f) is False
    assert order.filled_quantity == 1
