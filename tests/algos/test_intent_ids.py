"""Each child answers one intent, by id: an algorithm knows which of its requests a child is."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from algo_fakes import BTC, T0, FakeMarket, execute, make_parent, scripted

from oms.algos.base import AlgoContext, CancelIntent, ChildIntent, Intent
from oms.algos.executor import TargetExecutor
from oms.algos.market import MarketAlgo
from oms.algos.vwap import VwapAlgo
from oms.model.enums import AlgoName, ChildState, Side
from oms.model.orders import ChildOrder

_REJECTED = "VENUE -2010: New order rejected."
_ids = itertools.count(1)


def _context(market: FakeMarket, algo: TargetExecutor, now: datetime,
             working: list[ChildOrder] | None = None) -> AlgoContext:
    market.advance_to(now)
    return AlgoContext(now, algo.parent, market.quote("BTCUSDT"), BTC, market,
                       working_children=working or [])


def _child(intent: ChildIntent, now: datetime) -> ChildOrder:
    """What the engine makes of an intent: a child that keeps the intent's id."""
    return ChildOrder(client_order_id=f"c-{next(_ids)}", parent_id="p1", symbol="BTCUSDT",
                      side=Side.BUY, quantity=intent.quantity, order_type=intent.order_type,
                      created_at=now, venue="scripted", limit_price=intent.limit_price,
                      time_in_force=intent.time_in_force, intent_id=intent.intent_id)


def _only_child_intents(intents: list[Intent]) -> list[ChildIntent]:
    return [i for i in intents if isinstance(i, ChildIntent)]


def test_intent_ids_are_deterministic_and_unique_within_the_parent() -> None:
    def ids() -> list[str]:
        market = FakeMarket()
        algo = MarketAlgo(make_parent("0.3", algo=AlgoName.MARKET), seed=1, filters=BTC,
                          max_child_notional=5_000)
        ctx = _context(market, algo, T0)
        return [i.intent_id for i in _only_child_intents(
            algo.on_start(ctx) + algo.on_timer(ctx) + algo.on_timer(ctx))]

    first = ids()

    assert first == ["market-1", "market-2", "market-3"]
    assert ids() == first


def test_two_children_of_the_same_size_in_one_tick_one_rejected_are_told_apart() -> None:
    # on_start and the first on_timer of one tick ask for two 0.1 BTC children (5,000 USD cap)
    market = FakeMarket()
    algo = MarketAlgo(make_parent("0.3", algo=AlgoName.MARKET), seed=1, filters=BTC,
                      max_child_notional=5_000)
    ctx = _context(market, algo, T0)
    first, second = _only_child_intents(algo.on_start(ctx) + algo.on_timer(ctx))
    assert first.quantity == second.quantity == Decimal("0.1")
    a, b = _child(first, T0), _child(second, T0)

    b.transition(ChildState.REJECTED, T0, _REJECTED)  # the second one is refused
    algo.on_reject(_context(market, algo, T0, [a]), b, _REJECTED)

    assert algo.child_for(second.intent_id) == b.client_order_id
    assert algo.child_for(first.intent_id) is None  # a is not seen yet: still a request
    assert algo.on_timer(_context(market, algo, T0, [a])) == []  # 0.1 working, 0.1 backs off
    assert algo.child_for(first.intent_id) == a.client_order_id
    retry = _only_child_intents(algo.on_timer(_context(market, algo, T0 + timedelta(seconds=2),
                                                       [a])))
    assert [(i.quantity, i.intent_id) for i in retry] == [(Decimal("0.1"), "market-3")]


def test_a_passive_child_crosses_at_its_own_deadline_not_at_its_siblings() -> None:
    # VWAP children rest up to 8 minutes, and a 6 USD cap makes every request 0.00012 BTC; the
    # first request is answered only in the tick that answers (and rejects) the second one:
    # its child must cross at the first request's deadline, not at the second's
    market = FakeMarket(volume_per_minute=10.0)
    algo = VwapAlgo(make_parent("1", algo=AlgoName.VWAP, duration=60), seed=1, filters=BTC,
                    max_child_notional=6)
    algo.on_start(_context(market, algo, T0))
    asked: list[tuple[datetime, ChildIntent]] = []
    now = T0
    while len(asked) < 2:
        now += timedelta(seconds=1)
        asked += [(now, i) for i in _only_child_intents(algo.on_timer(_context(market, algo,
                                                                               now)))]
    (first_at, first), (second_at, second) = asked
    assert first.quantity == second.quantity == Decimal("0.00012")
    assert second_at - first_at >= timedelta(seconds=120)
    a, b = _child(first, second_at), _child(second, second_at)
    b.transition(ChildState.REJECTED, second_at, _REJECTED)
    algo.on_reject(_context(market, algo, second_at, [a]), b, _REJECTED)

    crossed_at = None
    while crossed_at is None and now < T0 + timedelta(minutes=60):
        now += timedelta(seconds=1)
        intents = algo.on_timer(_context(market, algo, now, [a]))
        if CancelIntent(a.client_order_id, "cross") in intents:
            crossed_at = now

    # passive window 480 s, cross margin 30 s: 450 s after the first request, not the second
    assert crossed_at == first_at + timedelta(seconds=450)


def test_a_child_that_is_not_ours_moves_nothing() -> None:
    market = FakeMarket()
    algo = MarketAlgo(make_parent("0.3", algo=AlgoName.MARKET), seed=1, filters=BTC,
                      max_rejects=1)
    ctx = _context(market, algo, T0)
    (request,) = _only_child_intents(algo.on_start(ctx))
    strangers = [ChildOrder(client_order_id=f"x-{n}", parent_id="p1", symbol="BTCUSDT",
                            side=Side.BUY, quantity=Decimal("0.3"),
                            order_type=request.order_type, created_at=T0, venue="scripted",
                            intent_id=intent_id)
                 for n, intent_id in enumerate((None, "other-1"))]

    for stranger in strangers:
        stranger.transition(ChildState.REJECTED, T0, _REJECTED)
        assert algo.on_reject(ctx, stranger, _REJECTED) == []

    assert not any(algo.owns(s) for s in strangers)
    assert algo.stop_reason is None  # one rejection of ours would stop it (max_rejects=1)
    assert algo.child_for(request.intent_id) is None
    assert algo.on_timer(_context(market, algo, T0 + timedelta(seconds=5))) == []  # no resend
    ours = _child(request, T0)
    ours.transition(ChildState.REJECTED, T0, _REJECTED)
    algo.on_reject(ctx, ours, _REJECTED)
    assert algo.stop_reason is not None and "1 consecutive" in algo.stop_reason


def test_the_engine_gives_each_child_the_id_of_its_intent() -> None:
    # through the real engine: two 0.1 BTC children leave in the first tick and the venue
    # refuses the second; the algorithm re-sends exactly that one after its back-off (if the
    # children came back without their intent ids, it would wait for them until the window end)
    seen = itertools.count(1)
    venue = scripted(reject=lambda c: (-2010, "New order rejected.") if next(seen) == 2 else None)

    result = execute(AlgoName.MARKET, "0.2", market=FakeMarket(), venue=venue, duration=0,
                     options={"max_child_notional": 5_000})

    assert [c.state for c in result.children] == [
        ChildState.FILLED, ChildState.REJECTED, ChildState.FILLED]
    assert result.children[0].created_at == result.children[1].created_at == T0
    assert result.children[2].created_at >= T0 + timedelta(seconds=2)
    assert result.parent.filled_quantity == Decimal("0.2") and result.end_reason == "filled"
