"""SentOrderWindows against a naive list scan: counts and duplicate parents, edges included."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_helpers import T0, make_order

from oms.model.enums import Side
from oms.risk.windows import SentOrderWindows

SYMBOLS = ("BTCUSDT", "ETHUSDT")
step = st.tuples(
    st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 30.0, 59.75, 60.0]),  # dyadic: exact edges
    st.sampled_from(SYMBOLS),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.sampled_from(["0.1", "0.2"]),
    st.sampled_from(["p1", "p2", "p3"]),
    st.booleans(),  # record it (True) or only query
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(step, min_size=1, max_size=80), st.sampled_from([0.5, 1.0, 2.0]))
def test_windows_match_a_naive_scan(steps: list[tuple[object, ...]], dup_window: float) -> None:
    windows = SentOrderWindows(rate_window_s=60.0, duplicate_window_s=dup_window)
    log: list[tuple[float, str, Side, Decimal, str]] = []
    now_s = 0.0
    for dt, symbol, side, qty, parent, record in steps:
        assert isinstance(dt, float) and isinstance(symbol, str) and isinstance(side, Side)
        assert isinstance(qty, str) and isinstance(parent, str)
        now_s += dt
        now = T0 + timedelta(seconds=now_s)
        key = (symbol, side, Decimal(qty))
        # Act
        account = windows.account_count(now)
        by_symbol = windows.symbol_count(symbol, now)
        parents = dict(windows.recent_parents(key, now))
        # Assert: inclusive windows, now - t <= window
        assert account == sum(1 for t, *_ in log if now_s - t <= 60.0)
        assert by_symbol == sum(1 for t, s, *_ in log if s == symbol and now_s - t <= 60.0)
        expected = Counter(p for t, s, sd, q, p in log
                           if (s, sd, q) == key and now_s - t <= dup_window)
        assert parents == dict(expected)
        if record:
            windows.record(make_order(symbol=symbol, side=side, quantity=qty, parent_id=parent),
                           now)
            log.append((now_s, symbol, side, Decimal(qty), parent))
