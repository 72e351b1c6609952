"""G2 on PreTradeRisk: the order-rate and duplicate limits hold inside one batch (children checked
at the same instant) and across batches in every rolling window, because ``approve`` counts each
child as it passes; ``release`` takes a child that was not sent back out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_helpers import T0, make_ctx, make_order

from oms.config import RiskLimits
from oms.model.enums import Side
from oms.model.orders import ChildOrder
from oms.risk.pretrade import PreTradeRisk
from oms.risk.violations import ViolationCode

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


def risk(**overrides: object) -> PreTradeRisk:
    return PreTradeRisk(RiskLimits(**overrides), SYMBOLS)


def distinct(n: int, *, parent: str = "p1") -> list[ChildOrder]:
    """``n`` buys of different quantities (never duplicates of each other)."""
    return [make_order(quantity=f"0.0{1000 + i}", parent_id=parent) for i in range(n)]


def test_fifty_children_in_one_batch_exactly_twenty_are_approved() -> None:
    # Arrange: limit 20 a minute, 50 children from 50 parents released at the same instant
    r = risk(max_orders_per_minute=20)
    ctx = make_ctx()
    children = [make_order(quantity=f"0.0{1000 + i}", parent_id=f"p{i}") for i in range(50)]
    # Act
    verdicts = [r.approve(child, ctx) for child in children]
    # Assert: the first 20 pass, every later one is denied for the rate with the numbers
    assert [v is None for v in verdicts] == [True] * 20 + [False] * 30
    assert all(v is not None and v.code == ViolationCode.ORDER_RATE for v in verdicts[20:])
    assert str(verdicts[20]) == "ORDER_RATE: orders=20 window=60s limit=20"
    assert r.windows.account_count(ctx.now) == 20


def test_a_window_near_full_leaves_room_only_for_the_rest() -> None:
    # Arrange: 18 approved over the last 40 s, then a batch of 10
    r = risk(max_orders_per_minute=20)
    for i, child in enumerate(distinct(18, parent="old")):
        assert r.approve(child, make_ctx(now=T0 + timedelta(seconds=i))) is None
    now = T0 + timedelta(seconds=40)
    # Act
    verdicts = [r.approve(child, make_ctx(now=now)) for child in distinct(10, parent="new")]
    # Assert
    assert sum(v is None for v in verdicts) == 2


def test_per_symbol_rate_holds_inside_a_batch() -> None:
    r = risk(max_orders_per_minute_per_symbol={"BTCUSDT": 3})
    verdicts = [r.approve(child, make_ctx()) for child in distinct(6)]
    assert sum(v is None for v in verdicts) == 3
    assert verdicts[3] is not None and verdicts[3].code == ViolationCode.SYMBOL_ORDER_RATE


def test_ten_identical_sells_from_ten_parents_in_one_batch_one_is_approved() -> None:
    # Arrange: ten parents each ask for the same SELL 0.01 BTC at the same instant
    r = risk()
    ctx = make_ctx(position="1")
    children = [make_order(side=Side.SELL, quantity="0.01", parent_id=f"p{i}") for i in range(10)]
    # Act
    verdicts = [r.approve(child, ctx) for child in children]
    # Assert
    assert verdicts[0] is None
    assert all(v is not None and v.code == ViolationCode.DUPLICATE_ORDER for v in verdicts[1:])
    assert str(verdicts[1]) == (
        "DUPLICATE_ORDER: symbol=BTCUSDT side=SELL quantity=0.01 seen=1 other_parent=p0 "
        "window_s=1"
    )


def test_identical_children_of_one_parent_are_not_duplicates() -> None:
    r = risk()
    verdicts = [r.approve(make_order(parent_id="p1"), make_ctx()) for _ in range(5)]
    assert verdicts == [None] * 5


def test_check_alone_counts_nothing() -> None:
    r = risk(max_orders_per_minute=1)
    ctx = make_ctx()
    assert [r.check(child, ctx) for child in distinct(3)] == [None] * 3
    assert r.windows.account_count(ctx.now) == 0


def test_release_puts_the_rate_counter_back() -> None:
    # Arrange: the window is full
    r = risk(max_orders_per_minute=20)
    ctx = make_ctx()
    children = distinct(20)
    for child in children:
        assert r.approve(child, ctx) is None
    assert r.approve(make_order(quantity="0.5"), ctx) is not None
    # Act: five were not sent after all (their commit failed)
    released = [r.release(child) for child in children[:5]]
    # Assert: exactly five more fit, and releasing twice changes nothing
    assert released == [True] * 5
    assert r.release(children[0]) is False
    assert r.windows.account_count(ctx.now) == 15
    verdicts = [r.approve(child, ctx) for child in distinct(7, parent="p2")]
    assert sum(v is None for v in verdicts) == 5


def test_release_puts_the_duplicate_window_back() -> None:
    r = risk()
    ctx = make_ctx(position="1")
    first = make_order(side=Side.SELL, parent_id="p1")
    assert r.approve(first, ctx) is None
    assert r.approve(make_order(side=Side.SELL, parent_id="p2"), ctx) is not None
    r.release(first)
    assert r.approve(make_order(side=Side.SELL, parent_id="p2"), ctx) is None


def test_record_sent_after_approve_counts_once() -> None:
    # an engine still calling record_sent after sending must not count the child twice
    r = risk(max_orders_per_minute=2)
    ctx = make_ctx()
    a, b, c = distinct(3)
    assert r.approve(a, ctx) is None
    r.record_sent(a, ctx.now)
    assert r.approve(b, ctx) is None
    assert r.approve(c, ctx) is not None
    assert r.windows.account_count(ctx.now) == 2


# arrival: (seconds since the previous batch, children in the batch, children then released)
arrivals = st.lists(
    st.tuples(st.sampled_from([0.0, 0.25, 1.0, 2.5, 7.0, 15.0, 30.0, 59.75, 60.0, 61.0]),
              st.integers(1, 12), st.integers(0, 3)),
    min_size=1, max_size=40,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(arrivals, st.integers(1, 25))
def test_no_rolling_window_ever_holds_more_than_the_limit(
    batches: list[tuple[float, int, int]], limit: int
) -> None:
    # Arrange
    r = risk(max_orders_per_minute=limit)
    approved: list[tuple[float, ChildOrder]] = []
    now_s = 0.0
    n = 0
    for gap, size, unsent in batches:
        now_s += gap
        now = T0 + timedelta(seconds=now_s)
        ctx = make_ctx(now=now)
        passed: list[ChildOrder] = []
        for _ in range(size):
            n += 1
            child = make_order(quantity=Decimal("0.01") + Decimal(n) / 100_000,
                               parent_id=f"p{n}")
            in_window = sum(1 for t, _ in approved if now_s - t <= 60.0)
            # Act
            verdict = r.approve(child, ctx)
            # Assert: denied exactly when the window is full
            assert (verdict is None) is (in_window < limit)
            if verdict is None:
                approved.append((now_s, child))
                passed.append(child)
        for child in passed[:unsent]:  # some of the batch were not sent: taken back out
            assert r.release(child)
            approved = [(t, c) for t, c in approved if c is not child]
    # Assert: every 60 s window ending at an approval (the worst windows) is within the limit
    times = [t for t, _ in approved]
    for end in times:
        assert sum(1 for t in times if 0 <= end - t <= 60.0) <= limit
