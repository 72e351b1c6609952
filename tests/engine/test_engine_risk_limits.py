"""G2 and G7 through the real engine (paper venue, SQLite, TestClock).

G2: many parents released in the same tick never send more than the order-rate limit in any
rolling minute, and identical children of different parents never leave inside the duplicate
window. G7: slippage counts once per child order however many book levels it fills on, and one
price shock is one market-stress occurrence even with children filling across it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from oms_harness import OmsHarness, make_harness
from sqlalchemy import select

from oms.config import BreakerSettings, CircuitBreakerSettings, RiskLimits
from oms.persistence.tables import ChildOrderRow, FillRow

LIFTED = RiskLimits(max_orders_per_minute=1000, max_position_usd=10**7,
                    max_gross_exposure_usd=10**7, max_order_notional_usd=10**7)


def sent_children(h: OmsHarness) -> list[ChildOrderRow]:
    with h.oms.database.session() as s:
        rows = s.scalars(select(ChildOrderRow).where(ChildOrderRow.sent_at.is_not(None))).all()
    return sorted(rows, key=lambda r: r.sent_at)  # type: ignore[arg-type,return-value]


def submit_all(h: OmsHarness, orders: list[tuple[str, str, str]], algo: str = "market") -> None:
    """Queue every (symbol, side, quantity) parent, then one tick takes them all."""
    futures = [h.service.submit_order(symbol, side, quantity, algo, 1, wait=False)
               for symbol, side, quantity in orders]
    h.tick()
    for future in futures:
        future.result(timeout=1)  # type: ignore[attr-defined]


def breaker(h: OmsHarness, name: str) -> dict[str, object]:
    return h.service.snapshot().breakers[name]


def test_thirty_parents_in_one_tick_never_pass_the_rate_in_any_minute(tmp_path: Path) -> None:
    # Arrange: default limit 20 a minute; 30 market parents (different sizes) in one tick
    h = make_harness(tmp_path)
    orders = [("BTCUSDT", "BUY", str(Decimal("0.001") + Decimal(i) / 100_000)) for i in range(30)]
    # Act
    submit_all(h, orders)
    first_tick = len(sent_children(h))
    h.run(150)
    # Assert: 20 leave in the first tick, and no 60 s window ever holds more than 20
    sent = [row.sent_at for row in sent_children(h)]
    assert first_tick == 20
    assert len(sent) >= 30  # the rest went out as the window rolled on
    for end in sent:
        assert end is not None
        assert sum(1 for t in sent if t is not None and end - timedelta(seconds=60) <= t <= end) \
            <= 20
    h.oms.close()


def test_identical_sells_of_ten_parents_never_leave_together(tmp_path: Path) -> None:
    # Arrange: hold 0.05 BTC, then ten parents sell 0.002 BTC each in one tick
    h = make_harness(tmp_path)
    submit_all(h, [("BTCUSDT", "BUY", "0.05")])
    h.run(10)
    assert h.service.snapshot().positions[0].quantity >= Decimal("0.05")
    before = {row.client_order_id for row in sent_children(h)}
    # Act
    submit_all(h, [("BTCUSDT", "SELL", "0.002")] * 10)
    in_the_tick = [row for row in sent_children(h) if row.client_order_id not in before]
    h.run(30)
    # Assert: one leaves in that tick; no two of other parents within the 1 s window, ever
    sells = [row for row in sent_children(h) if row.side == "SELL"]
    assert len(in_the_tick) == 1
    for a in sells:
        for b in sells:
            if a.parent_id != b.parent_id and a.quantity == b.quantity:
                assert a.sent_at is not None and b.sent_at is not None
                assert abs((a.sent_at - b.sent_at).total_seconds()) > 1.0
    h.oms.close()


def test_a_child_walking_the_book_is_one_slippage_occurrence(tmp_path: Path) -> None:
    # Arrange: every finished child with fills is an occurrence (threshold far below zero), and
    # the breaker never trips; one large market parent
    counting = CircuitBreakerSettings(high_slippage=BreakerSettings(
        threshold=-1e9, count=10_000, window_s=3600))
    h = make_harness(tmp_path, risk=LIFTED, breakers=counting, starting_balance=Decimal(10**8))
    # Act
    submit_all(h, [("BTCUSDT", "BUY", "20")])
    h.run(20)
    # Assert: one occurrence per filled child, though the fills are more than the children
    with h.oms.database.session() as s:
        children = [c for c in s.scalars(select(ChildOrderRow)).all() if c.filled_quantity > 0]
        fills = s.scalars(select(FillRow)).all()
    assert len(fills) > len(children) >= 1
    assert breaker(h, "high_slippage")["occurrences_in_window"] == len(children)
    h.oms.close()


def test_one_price_shock_is_one_market_stress_occurrence(tmp_path: Path) -> None:
    # Arrange: a TWAP's first market child is sent at the old price and fills a few ms later,
    # after a -300 bps shock (its fill's mid is 300 bps from the mid it was created at)
    h = make_harness(tmp_path, risk=LIFTED)
    future = h.service.submit_order("BTCUSDT", "BUY", "0.06", "twap", 2, wait=False,
                                    algo_options={"slices": 10, "placement": "aggressive"})
    h.tick()
    future.result(timeout=1)  # type: ignore[attr-defined]
    shock_at = h.clock.now() + timedelta(milliseconds=5)
    h.oms.venue.price_shock("BTCUSDT", -300, at=shock_at)  # type: ignore[attr-defined]
    # Act
    h.run(40)
    # Assert: counted once (the tick move), not again by the fill across it
    with h.oms.database.session() as s:
        created = {c.client_order_id: c.created_at for c in s.scalars(select(ChildOrderRow))}
        fills = s.scalars(select(FillRow)).all()
    assert any(created[f.client_order_id] < shock_at <= f.ts for f in fills)
    assert breaker(h, "market_stress")["occurrences_in_window"] == 1
    assert breaker(h, "market_stress")["state"] == "ARMED"
    h.oms.close()
