"""The sent-order windows hold what their windows cover, not the history: thousands of approved
orders over hours leave only the last minute's in memory (a symbol that goes quiet included)."""

from __future__ import annotations

from datetime import timedelta

from risk_helpers import T0, make_order

from oms.risk.windows import SentOrderWindows

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


def test_windows_hold_the_last_minute_only_over_hours_of_orders() -> None:
    windows = SentOrderWindows(rate_window_s=60.0, duplicate_window_s=1.0)
    largest: dict[str, int] = {}

    for k in range(3 * 3600):  # one order a second for three hours, three parents a symbol
        now = T0 + timedelta(seconds=k)
        symbol = SYMBOLS[k % 3] if k < 2 * 3600 else "BTCUSDT"  # the others go quiet
        windows.record(make_order(symbol=symbol, parent_id=f"p{k % 9}", at=now), now)
        for name, size in windows.sizes().items():
            largest[name] = max(largest.get(name, 0), size)
    sizes = windows.sizes()

    assert largest["account"] <= 61 and largest["by_id"] <= 61  # inclusive 60-second window
    assert largest["recent"] <= 2 and largest["duplicate_keys"] <= 2
    assert sizes["account"] == sizes["by_id"] == 61
    # a quiet symbol keeps at most the minute before it went quiet
    assert sizes["by_symbol"] <= 61 + 2 * 21
