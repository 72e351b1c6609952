"""SentOrderWindows against a naive list scan: counts and duplicate parents, edges included,
with orders recorded twice (counted once) and released (taken back out)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_helpers import T0, make_order

from oms.model.enums import Side
from oms.model.orders import ChildOrder
from oms.risk.windows import SentOrderWindows

SYMBOLS = ("BTCUSDT", "ETHUSDT")
step = st.tuples(
    st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 30.0, 59.75, 60.0]),  # dyadic: exact edges
    st.sampled_from(SYMBOLS),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.sampled_from(["0.1", "0.2"]),
    st.sampled_from(["p1", "p2", "p3"]),
    st.sampled_from(["record", "record", "query", "again", "release"]),
    st.integers(0, 10),  # which earlier order to record again or release (newest first)
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(step, min_size=1, max_size=80), st.sampled_from([0.5, 1.0, 2.0, 90.0]))
def test_windows_match_a_naive_scan(steps: list[tuple[object, ...]], dup_window: float) -> None:
    windows = SentOrderWindows(rate_window_s=60.0, duplicate_window_s=dup_window)
    log: list[tuple[float, ChildOrder]] = []  # what counts: (time approved, order)
    recorded: list[ChildOrder] = []
    now_s = 0.0
    for dt, symbol, side, qty, parent, action, back in steps:
        assert isinstance(dt, float) and isinstance(symbol, str) and isinstance(side, Side)
        assert isinstance(qty, str) and isinstance(parent, str) and isinstance(back, int)
        now_s += dt
        now = T0 + timedelta(seconds=now_s)
        key = (symbol, side, Decimal(qty))
        # Act
        account = windows.account_count(now)
        by_symbol = windows.symbol_count(symbol, now)
        parents = dict(windows.recent_parents(key, now))
        # Assert: inclusive windows, now - t <= window
        assert account == sum(1 for t, _ in log if now_s - t <= 60.0)
        assert by_symbol == sum(1 for t, o in log if o.symbol == symbol and now_s - t <= 60.0)
        expected = Counter(o.parent_id for t, o in log
                           if (o.symbol, o.side, o.quantity) == key and now_s - t <= dup_window)
        assert parents == dict(expected)
        if action == "record":
            order = make_order(symbol=symbol, side=side, quantity=qty, parent_id=parent)
            assert windows.record(order, now) is True
            log.append((now_s, order))
            recorded.append(order)
        elif action == "again" and recorded:  # an engine calling record_sent after approve
            order = recorded[-1 - back % len(recorded)]
            counted = any(o is order for _, o in log)
            in_window = any(o is order and now_s - t <= max(60.0, dup_window) for t, o in log)
            result = windows.record(order, now)
            if in_window:
                assert result is False  # counted once
            if result:
                assert not counted or not in_window
                log = [(t, o) for t, o in log if o is not order]
                log.append((now_s, order))
        elif action == "release" and recorded:
            order = recorded[-1 - back % len(recorded)]
            in_window = any(o is order and now_s - t <= max(60.0, dup_window) for t, o in log)
            released = windows.release(order.client_order_id)
            assert released is in_window
            log = [(t, o) for t, o in log if o is not order]


def test_release_restores_every_count() -> None:
    windows = SentOrderWindows(rate_window_s=60.0, duplicate_window_s=1.0)
    kept = make_order(parent_id="p1", quantity="0.1")
    taken_back = make_order(parent_id="p2", quantity="0.1")
    windows.record(kept, T0)
    windows.record(taken_back, T0)
    # Act
    released = windows.release(taken_back.client_order_id)
    again = windows.release(taken_back.client_order_id)
    # Assert
    assert released is True and again is False
    assert windows.account_count(T0) == 1
    assert windows.symbol_count("BTCUSDT", T0) == 1
    assert windows.recent_parents(("BTCUSDT", Side.BUY, Decimal("0.1")), T0) == {"p1": 1}
    assert taken_back.client_order_id not in windows and kept.client_order_id in windows
