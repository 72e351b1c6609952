"""RiskGuard, the engine's side of risk, driven the way the engine's tick drives it.

G2: the rate and duplicate limits hold inside one batch; ``release`` takes back a child that was
not sent. G5 (reservation): no spot position below zero and no negative cash, counting what open
children (sent earlier, or approved earlier in the same batch) may still take.
"""

from __future__ import annotations

from decimal import Decimal

from risk_helpers import D, FakeEngine

from oms.config import RiskLimits
from oms.model.enums import ChildState, OrderType, Side
from oms.model.orders import ChildOrder
from oms.model.rejection import RejectionSource
from oms.risk.violations import ViolationCode

# --- G2: rate and duplicates inside one batch -----------------------------------------------


def test_fifty_children_in_one_tick_only_twenty_pass() -> None:
    # Arrange: default limit 20 a minute; 50 parents each release a child in the same tick
    engine = FakeEngine()
    guard = engine.guard()
    children = [engine.new_child(quantity=f"0.00{100 + i}", parent_id=f"p{i}")
                for i in range(50)]
    # Act: checked one by one, then the approved ones are sent (the engine's order)
    verdicts = [engine.check(guard, child) for child in children]
    for child, verdict in zip(children, verdicts, strict=True):
        if verdict is None:
            engine.send(child)
    # Assert
    assert sum(v is None for v in verdicts) == 20
    denied = [v for v in verdicts if v is not None]
    assert all(v.source is RejectionSource.RISK and v.code == "ORDER_RATE" for v in denied)
    assert str(denied[0]) == "RISK ORDER_RATE: orders=20 window=60s limit=20"
    assert guard.usage()["order_rate"]["value"] == 20


def test_the_limit_holds_across_ticks_in_the_rolling_minute() -> None:
    engine = FakeEngine()
    guard = engine.guard()
    sent_times: list[float] = []
    elapsed = 0.0
    for _ in range(12):  # a batch of 5 every 10 s for two minutes
        for _child in range(5):
            child = engine.new_child(quantity="0.001", parent_id="p1")
            if engine.check(guard, child) is None:
                engine.send(child)
                sent_times.append(elapsed)
        engine.tick(guard, 10)
        elapsed += 10
    for end in sent_times:
        assert sum(1 for t in sent_times if 0 <= end - t <= 60) <= 20
    # 0-30 s: 20 pass; 40-60 s: none (t=0 still counts at 60 s, inclusive); 70-100 s: 5 each
    # as a batch 70 s earlier leaves the window; 110 s: none
    assert len(sent_times) == 40
    assert sent_times[20] == 70


def test_ten_identical_sells_from_ten_parents_in_one_tick_one_passes() -> None:
    engine = FakeEngine(positions={"BTCUSDT": "1"})
    guard = engine.guard()
    children = [engine.new_child(side=Side.SELL, quantity="0.01", parent_id=f"p{i}")
                for i in range(10)]
    verdicts = [engine.check(guard, child) for child in children]
    assert verdicts[0] is None
    assert [v.code for v in verdicts[1:] if v is not None] == ["DUPLICATE_ORDER"] * 9
    assert verdicts[1] is not None and verdicts[1].numbers["seen"] == 1


def test_release_takes_an_unsent_child_back_out_of_every_counter() -> None:
    # Arrange: limit 3 a minute, 1000 USDT; three limit buys of one parent approved, each
    # reserving 0.004 * 50000 * 1.005 = 201 USDT; then their commit fails
    engine = FakeEngine(cash="1000", risk=RiskLimits(max_orders_per_minute=3))
    guard = engine.guard()

    def buy(parent: str = "p1") -> ChildOrder:
        return engine.new_child(quantity="0.004", parent_id=parent, order_type=OrderType.LIMIT,
                                limit_price="50000")

    children = [buy() for _ in range(3)]
    assert [engine.check(guard, c) for c in children] == [None, None, None]
    assert engine.check(guard, buy()) is not None  # the rate is full
    # Act
    for child in children:
        guard.release(child)
        engine.close(child, ChildState.REJECTED)
    # Assert: in the same tick, another parent's identical child passes (duplicates back), and
    # then two more (rate back: three in all; cash back: 603 of 1000 reserved)
    verdicts = [engine.check(guard, buy("p2")) for _ in range(3)]
    assert verdicts == [None, None, None]
    guard.release(children[0])  # releasing again changes nothing
    assert guard.pretrade.windows.account_count(engine.clock.now()) == 3


# --- G5: reservation --------------------------------------------------------------------------


def test_sells_of_one_batch_never_take_the_position_below_zero() -> None:
    # Arrange: 0.05 BTC held; one parent asks for ten sells of 0.01 in one tick
    engine = FakeEngine(positions={"BTCUSDT": "0.05"})
    guard = engine.guard()
    children = [engine.new_child(side=Side.SELL, quantity="0.01") for _ in range(10)]
    # Act
    verdicts = [engine.check(guard, child) for child in children]
    # Assert: five fit; the sixth sees the five approved before it in the same batch
    assert sum(v is None for v in verdicts) == 5
    sixth = verdicts[5]
    assert sixth is not None and sixth.code == ViolationCode.INSUFFICIENT_POSITION
    assert str(sixth) == ("RISK INSUFFICIENT_POSITION: symbol=BTCUSDT position=0.05 "
                          "open_sell=0.05 quantity=0.01")


def test_open_sells_of_earlier_ticks_are_reserved_until_they_fill() -> None:
    engine = FakeEngine(positions={"BTCUSDT": "0.05"})
    guard = engine.guard()
    first = engine.new_child(side=Side.SELL, quantity="0.04")
    assert engine.check(guard, first) is None
    engine.send(first)
    engine.tick(guard, 5)
    # Act / Assert: 0.04 still open, 0.01 left
    too_much = engine.new_child(side=Side.SELL, quantity="0.02")
    assert engine.check(guard, too_much) is not None
    engine.fill(first, "0.04", "50000")  # the open sell filled: position 0.01, nothing open
    engine.tick(guard, 5)
    rest = engine.new_child(side=Side.SELL, quantity="0.01")
    assert engine.check(guard, rest) is None
    assert engine.check(guard, engine.new_child(side=Side.SELL, quantity="0.001")) is not None


def test_buys_of_one_batch_never_spend_more_than_the_cash() -> None:
    # Arrange: 1000 USDT; market buys of 0.004 BTC at the ask 50001 reserve
    # 0.004 * 50001 * 1.005 = 201.00402 each (buffer 50 bps), so four fit and a fifth does not
    engine = FakeEngine(cash="1000")
    guard = engine.guard()
    children = [engine.new_child(quantity="0.004") for _ in range(5)]
    # Act
    verdicts = [engine.check(guard, child) for child in children]
    # Assert
    assert [v is None for v in verdicts] == [True] * 4 + [False]
    fifth = verdicts[4]
    assert fifth is not None and fifth.code == ViolationCode.INSUFFICIENT_CASH
    assert fifth.numbers["open_buy_usd"] == D("804.02")


def test_open_buys_of_earlier_ticks_reserve_cash_at_their_limit() -> None:
    engine = FakeEngine(cash="1000")
    guard = engine.guard()
    resting = engine.new_child(quantity="0.018", order_type=OrderType.LIMIT, limit_price="49000")
    assert engine.check(guard, resting) is None  # 882 * 1.005 = 886.41 reserved
    engine.send(resting)
    engine.tick(guard, 5)
    too_much = engine.new_child(quantity="0.003")  # 150.003 * 1.005 = 150.75 > 113.59 left
    small = engine.new_child(quantity="0.002")  # 100.002 * 1.005 = 100.50
    assert engine.check(guard, too_much) is not None
    assert engine.check(guard, small) is None


def test_a_released_buy_frees_its_cash_in_the_same_batch() -> None:
    engine = FakeEngine(cash="1000")
    guard = engine.guard()
    big = engine.new_child(quantity="0.019")  # 955.07 reserved
    assert engine.check(guard, big) is None
    second = engine.new_child(quantity="0.002")
    assert engine.check(guard, second) is not None
    guard.release(big)
    engine.close(big, ChildState.REJECTED)
    third = engine.new_child(quantity="0.0021")
    assert engine.check(guard, third) is None


def test_a_margin_account_skips_the_reservation() -> None:
    engine = FakeEngine(cash="0", risk=RiskLimits(spot=False))
    guard = engine.guard()
    assert engine.check(guard, engine.new_child(side=Side.SELL, quantity="0.01")) is None
    assert engine.check(guard, engine.new_child(quantity="0.02")) is None


def test_children_not_yet_checked_do_not_reserve() -> None:
    # the engine may create every child of the batch before checking: unchecked ones are not open
    engine = FakeEngine(positions={"BTCUSDT": "0.02"})
    guard = engine.guard()
    children = [engine.new_child(side=Side.SELL, quantity="0.01", parent_id="p1")
                for _ in range(3)]
    verdicts = [engine.check(guard, child) for child in children]
    assert [v is None for v in verdicts] == [True, True, False]


def test_cash_reserved_uses_the_configured_buffer() -> None:
    engine = FakeEngine(cash="1000", risk=RiskLimits(buy_reserve_buffer_bps=Decimal(0)))
    guard = engine.guard()
    # 0.01999 * 50001 = 999.52 fits exactly without a buffer (and not with the default 50 bps)
    assert engine.check(guard, engine.new_child(quantity="0.01999")) is None
