"""SmartOrderRouter: venue choice by fees, depth and latency; the split; headroom, health, fixed
mode, passive choice, min-notional merge, step rounding; invariants over random books."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.errors import ValidationError
from oms.model.enums import Side
from oms.routing import (
    Ineligible,
    RouteOutcome,
    RouteRequest,
    RoutingDecision,
    SmartOrderRouter,
    VenueState,
)
from oms.routing_allocate import allocation_cost, merge_small, place_beyond_depth, round_to_steps
from oms.routing_costs import price_venue
from oms.routing_split import water_fill

MID = 100.0


def book(*, half_spread: float = 0.01, tick: float = 0.01, size: float = 1.0,
         levels: int = 10) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(asks, bids): ``levels`` equal levels ``tick`` apart from ``MID +- half_spread``."""
    asks = [(MID + half_spread + j * tick, size) for j in range(levels)]
    bids = [(MID - half_spread - j * tick, size) for j in range(levels)]
    return asks, bids


def venue(name: str, *, taker: float = 5.0, maker: float = 1.0, latency_ms: float = 50.0,
          asks: Sequence[tuple[float, float]] | None = None,
          bids: Sequence[tuple[float, float]] | None = None, **extra: object) -> VenueState:
    default_asks, default_bids = book()
    asks = default_asks if asks is None else asks
    bids = default_bids if bids is None else bids
    bid = bids[0][0] if bids else math.nan
    ask = asks[0][0] if asks else math.nan
    return VenueState(name, bid, ask, asks, bids, maker_fee_bps=maker, taker_fee_bps=taker,
                      latency_ms=latency_ms, **extra)  # type: ignore[arg-type]


def market(quantity: float, side: Side = Side.BUY, *, sigma: float = 0.0,
           limit: float | None = None) -> RouteRequest:
    return RouteRequest(side, quantity, True, MID, sigma, limit)


def passive(quantity: float, side: Side = Side.BUY, *, limit: float | None = None,
            sigma: float = 0.0) -> RouteRequest:
    return RouteRequest(side, quantity, False, MID, sigma, limit)


def allocated(decision: RoutingDecision) -> dict[str, float]:
    return dict(decision.allocations)


def check_invariants(decision: RoutingDecision, request: RouteRequest) -> None:
    eligible = {c.venue for c in decision.considered if c.eligible}
    total = math.fsum(q for _, q in decision.allocations)
    assert total <= request.quantity
    for name, quantity in decision.allocations:
        assert name in eligible
        assert math.isfinite(quantity) and quantity > 0
    assert len({name for name, _ in decision.allocations}) == len(decision.allocations)
    json.dumps(decision.as_dict(), allow_nan=False)


# -- choice of one venue -----------------------------------------------------------------------

def test_picks_the_cheaper_venue_on_fees_alone() -> None:
    request = market(0.5)
    decision = SmartOrderRouter().route(request, [venue("a", taker=10.0), venue("b", taker=5.0)])
    assert allocated(decision) == {"b": 0.5}
    a, b = decision.considered
    assert a.total_bps - b.total_bps == pytest.approx(5.0)
    assert decision.expected_cost_bps == pytest.approx(b.total_bps)
    assert decision.outcome is RouteOutcome.SINGLE


def test_picks_the_cheaper_venue_on_depth_alone() -> None:
    thin_asks, thin_bids = book(size=0.1)
    venues = [venue("thin", asks=thin_asks, bids=thin_bids), venue("deep")]
    request = market(0.8)
    decision = SmartOrderRouter().route(request, venues)
    assert allocated(decision) == {"deep": 0.8}
    thin, deep = decision.considered
    assert thin.price_bps > deep.price_bps  # the thin book walks 8 levels for the same fees


def test_picks_the_cheaper_venue_on_latency_alone() -> None:
    venues = [venue("slow", latency_ms=400.0), venue("fast", latency_ms=10.0)]
    decision = SmartOrderRouter().route(market(0.5, sigma=2e-4), venues)
    assert allocated(decision) == {"fast": 0.5}
    slow, fast = decision.considered
    assert slow.latency_bps == pytest.approx(2e-4 * math.sqrt(0.4) * 1e4)
    assert fast.latency_bps < slow.latency_bps


def test_latency_is_free_without_volatility_and_ties_go_to_the_first_venue() -> None:
    venues = [venue("slow", latency_ms=400.0), venue("fast", latency_ms=10.0)]
    decision = SmartOrderRouter().route(market(0.5), venues)
    assert allocated(decision) == {"slow": 0.5}


def test_sell_walks_the_bids_and_a_price_below_mid_is_a_cost() -> None:
    asks, bids = book(half_spread=0.05, size=0.2)
    decision = SmartOrderRouter().route(market(0.3, Side.SELL),
                                        [venue("a", asks=asks, bids=bids, taker=0.0)])
    (cost,) = decision.considered
    # 0.2 at 99.95 and 0.1 at 99.94: average 99.94667, 5.333 bps below the mid
    assert cost.price_bps == pytest.approx((MID - (0.2 * 99.95 + 0.1 * 99.94) / 0.3) / MID * 1e4)
    assert cost.price_bps > 0


# -- the split ---------------------------------------------------------------------------------

def test_splits_when_depth_demands_and_the_split_is_cheaper_than_each_venue_alone() -> None:
    asks, bids = book(size=0.1, tick=0.05)
    venues = [venue("okx", asks=asks, bids=bids), venue("binance", asks=asks, bids=bids,
                                                          taker=12.0)]
    request = market(1.0)
    decision = SmartOrderRouter().route(request, venues)
    assert decision.outcome is RouteOutcome.SPLIT
    assert set(allocated(decision)) == {"okx", "binance"}
    assert math.fsum(allocated(decision).values()) == pytest.approx(1.0, abs=1e-12)
    assert allocated(decision)["okx"] > allocated(decision)["binance"]  # binance: 7 bps more fee
    for single in decision.considered:
        assert decision.expected_cost_bps < single.total_bps
    assert decision.reason.startswith("split okx")
    check_invariants(decision, request)


def test_max_venues_bounds_the_split() -> None:
    asks, bids = book(size=0.1, tick=0.05)
    venues = [venue(name, asks=asks, bids=bids) for name in ("a", "b", "c")]
    decision = SmartOrderRouter(max_venues=2).route(market(1.5), venues)
    assert set(allocated(decision)) == {"a", "b"}
    assert math.fsum(allocated(decision).values()) == pytest.approx(1.5, abs=1e-12)


def test_a_request_no_book_holds_goes_beyond_depth_to_the_best_touch() -> None:
    """Rule: each book's visible depth first (water-filled), the rest to the venue with the best
    all-in touch (priced at its deepest visible level)."""
    wide_asks, wide_bids = book(size=0.1, levels=3, half_spread=0.02, tick=0.005)
    tight_asks, tight_bids = book(size=0.1, levels=3)
    venues = [venue("a", asks=wide_asks, bids=wide_bids),
              venue("b", asks=tight_asks, bids=tight_bids)]
    request = market(2.0)
    decision = SmartOrderRouter().route(request, venues)
    quantities = allocated(decision)
    assert math.fsum(quantities.values()) == pytest.approx(2.0, abs=1e-12)
    assert quantities["a"] == pytest.approx(0.3)  # its book only
    assert quantities["b"] == pytest.approx(1.7)  # its book and everything beyond
    assert decision.considered[1].reason.startswith("fills 0.3 of 2")
    check_invariants(decision, request)


def test_a_limit_excludes_the_levels_beyond_it() -> None:
    request = market(5.0, limit=MID + 0.035)  # the first three ask levels: 100.01..100.03
    decision = SmartOrderRouter().route(request, [venue("a")])
    (cost,) = decision.considered
    assert cost.fillable == pytest.approx(3.0)
    assert "within limit" in cost.reason
    # the 2.0 beyond the visible depth is priced at the limit, the worst it may pay
    expected = (100.01 + 100.02 + 100.03 + 2 * (MID + 0.035)) / 5.0
    assert cost.price_bps == pytest.approx((expected - MID) / MID * 1e4)


# -- limits and health -------------------------------------------------------------------------

def test_avoids_the_part_of_a_venue_over_its_headroom() -> None:
    venues = [venue("cheap", taker=1.0, headroom_usd=30.0), venue("dear", taker=8.0)]
    request = market(1.0)
    decision = SmartOrderRouter().route(request, venues)
    quantities = allocated(decision)
    assert quantities["cheap"] * MID <= 30.0 + 1e-9
    assert quantities["dear"] == pytest.approx(1.0 - quantities["cheap"])
    assert decision.considered[0].fillable == pytest.approx(0.3)


def test_headroom_below_min_notional_excludes_the_venue() -> None:
    venues = [venue("cheap", taker=1.0, headroom_usd=5.0, min_notional=10.0), venue("dear")]
    decision = SmartOrderRouter().route(market(1.0), venues)
    assert allocated(decision) == {"dear": 1.0}
    assert decision.considered[0].code is Ineligible.NO_HEADROOM


def test_unhealthy_venue_is_excluded_with_its_reason() -> None:
    venues = [venue("cheap", taker=0.0, healthy=False, health_reason="ws stale 12 s"),
              venue("dear")]
    decision = SmartOrderRouter().route(market(1.0), venues)
    assert allocated(decision) == {"dear": 1.0}
    cheap = decision.considered[0]
    assert (cheap.eligible, cheap.reason, cheap.code) == (False, "ws stale 12 s",
                                                          Ineligible.UNHEALTHY)


def test_headroom_exhausted_everywhere_leaves_the_rest_unallocated_and_says_so() -> None:
    venues = [venue("a", headroom_usd=20.0), venue("b", headroom_usd=30.0)]
    decision = SmartOrderRouter().route(market(1.0), venues)
    assert math.fsum(allocated(decision).values()) == pytest.approx(0.5)
    assert decision.unallocated == pytest.approx(0.5)
    assert "unallocated" in decision.reason


def test_no_eligible_venue_allocates_nothing() -> None:
    venues = [venue("a", healthy=False, health_reason="maintenance")]
    decision = SmartOrderRouter().route(market(1.0), venues)
    assert decision.allocations == ()
    assert decision.outcome is RouteOutcome.NO_ELIGIBLE_VENUE
    assert "maintenance" in decision.reason
    json.dumps(decision.as_dict(), allow_nan=False)


# -- fixed mode --------------------------------------------------------------------------------

def test_fixed_sends_everything_to_that_venue_and_still_lists_the_others() -> None:
    asks, bids = book(size=0.1, tick=0.05)
    venues = [venue("binance", taker=1.0), venue("okx", asks=asks, bids=bids)]
    decision = SmartOrderRouter(fixed="okx").route(market(1.0), venues)
    assert allocated(decision) == {"okx": 1.0}
    assert decision.outcome is RouteOutcome.FIXED
    assert [c.venue for c in decision.considered] == ["binance", "okx"]
    assert decision.considered[0].total_bps < decision.considered[1].total_bps
    assert "binance" in decision.reason


def test_fixed_venue_ineligible_allocates_nothing_and_says_why() -> None:
    venues = [venue("binance"), venue("okx", healthy=False, health_reason="rate limited")]
    decision = SmartOrderRouter(fixed="okx").route(market(1.0), venues)
    assert decision.allocations == ()
    assert decision.outcome is RouteOutcome.FIXED_INELIGIBLE
    assert "rate limited" in decision.reason


def test_fixed_venue_not_offered_allocates_nothing() -> None:
    decision = SmartOrderRouter(fixed="okx").route(market(1.0), [venue("binance")])
    assert decision.allocations == ()
    assert "okx" in decision.reason


# -- passive -----------------------------------------------------------------------------------

def test_passive_choice_uses_the_maker_fee() -> None:
    venues = [venue("a", maker=2.0, taker=5.0), venue("b", maker=-1.0, taker=5.0)]
    decision = SmartOrderRouter().route(passive(3.0), venues)  # more than any touch: not split
    assert allocated(decision) == {"b": 3.0}
    assert decision.outcome is RouteOutcome.PASSIVE
    a, b = decision.considered
    assert (a.fee_bps, b.fee_bps) == (2.0, -1.0)
    assert b.price_bps == pytest.approx(-1.0)  # the bid 100.00 - 0.01 earns 1 bps


def test_passive_choice_uses_the_fill_probability() -> None:
    venues = [venue("unlikely", passive_fill_probability=0.3),
              venue("likely", passive_fill_probability=0.9)]
    decision = SmartOrderRouter().route(passive(1.0), venues)
    assert allocated(decision) == {"likely": 1.0}
    unlikely, likely = decision.considered
    # (1 - p) x (half spread 1 bps + taker 5 - maker 1)
    assert unlikely.nonfill_bps == pytest.approx(0.7 * 5.0)
    assert likely.nonfill_bps == pytest.approx(0.1 * 5.0)
    assert likely.total_bps == pytest.approx(-1.0 + 1.0 + 0.0 + 0.5)


def test_passive_limit_behind_the_touch_earns_more() -> None:
    decision = SmartOrderRouter().route(passive(1.0, Side.SELL, limit=MID + 0.05), [venue("a")])
    assert decision.considered[0].price_bps == pytest.approx(-5.0)


# -- min notional and steps --------------------------------------------------------------------

def _merge_venues(min_notional: float) -> list[VenueState]:
    deep = [(100.01, 0.95), (100.51, 10.0)]
    small = [(100.01, 0.05), (101.0, 10.0)]
    return [venue("deep", asks=deep, bids=book()[1]),
            venue("small", asks=small, bids=book()[1], min_notional=min_notional)]


def test_a_piece_below_min_notional_merges_into_the_largest() -> None:
    request = market(1.0)
    unconstrained = SmartOrderRouter().route(request, _merge_venues(0.0))
    assert 0 < allocated(unconstrained)["small"] * MID < 10.0  # the split wants a small piece
    decision = SmartOrderRouter().route(request, _merge_venues(10.0))
    assert allocated(decision) == {"deep": 1.0}


def test_step_rounding_keeps_the_sum_exact() -> None:
    asks, bids = book(size=0.1, tick=0.05)
    venues = [venue("a", asks=asks, bids=bids, step_size=0.001),
              venue("b", asks=asks, bids=bids, step_size=0.01, taker=5.5),
              venue("c", asks=asks, bids=bids, step_size=0.1, taker=6.0)]
    request = market(1.2345)
    decision = SmartOrderRouter().route(request, venues)
    quantities = allocated(decision)
    assert len(quantities) == 3
    assert math.fsum(quantities.values()) == pytest.approx(1.2345, rel=0, abs=1e-12)
    assert math.fsum(quantities.values()) <= 1.2345
    largest = max(quantities, key=lambda n: quantities[n])
    steps = {"a": 0.001, "b": 0.01, "c": 0.1}
    for name, quantity in quantities.items():
        if name != largest:
            assert quantity / steps[name] == pytest.approx(round(quantity / steps[name]))


# -- the decision as data, and bad input -------------------------------------------------------

def test_as_dict_is_json_serializable() -> None:
    venues = [venue("a"), venue("b", healthy=False, health_reason="down"),
              venue("c", asks=[], bids=[])]
    decision = SmartOrderRouter().route(market(1.0, sigma=1e-4), venues)
    data = json.loads(json.dumps(decision.as_dict(), allow_nan=False))
    assert data["allocations"] == [{"venue": "a", "quantity": 1.0}]
    assert [c["venue"] for c in data["considered"]] == ["a", "b", "c"]
    assert data["considered"][2]["total_bps"] is None  # no price at all: no figure, not NaN
    assert data["considered"][1]["code"] == "UNHEALTHY"


@pytest.mark.parametrize(("request_", "venues", "field"), [
    (market(0.0), [venue("a")], "quantity"),
    (market(-1.0), [venue("a")], "quantity"),
    (market(math.nan), [venue("a")], "quantity"),
    (RouteRequest(Side.BUY, 1.0, True, math.nan, 0.0), [venue("a")], "reference_mid"),
    (RouteRequest(Side.BUY, 1.0, True, math.inf, 0.0), [venue("a")], "reference_mid"),
    (market(1.0), [], "venues"),
    (market(1.0), [venue("a"), venue("a")], "venues"),
    (market(1.0, limit=math.nan), [venue("a")], "limit_price"),
    (market(1.0, sigma=-1e-4), [venue("a")], "sigma_per_sqrt_s"),
])
def test_invalid_input_raises_naming_the_field(request_: RouteRequest,
                                               venues: list[VenueState], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SmartOrderRouter().route(request_, venues)
    assert [e.field for e in caught.value.errors] == [field]


@pytest.mark.parametrize(("options", "field"), [
    ({"max_venues": 0}, "max_venues"), ({"chunks": 0}, "chunks"),
    ({"latency_risk_k": -1.0}, "latency_risk_k"),
])
def test_invalid_router_options_raise_naming_the_field(options: dict[str, Any],
                                                       field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SmartOrderRouter(**options)
    assert [e.field for e in caught.value.errors] == [field]


def test_a_malformed_snapshot_makes_the_venue_ineligible_not_the_request_invalid() -> None:
    venues = [venue("nan-fee", taker=math.nan), venue("ok")]
    decision = SmartOrderRouter().route(market(1.0), venues)
    assert allocated(decision) == {"ok": 1.0}
    assert decision.considered[0].code is Ineligible.BAD_SNAPSHOT
    json.dumps(decision.as_dict(), allow_nan=False)


def test_decisions_are_deterministic() -> None:
    asks, bids = book(size=0.1, tick=0.05)
    venues = [venue(name, asks=asks, bids=bids) for name in ("a", "b", "c")]
    router = SmartOrderRouter()
    assert router.route(market(1.3), venues) == router.route(market(1.3), venues)


# -- random books ------------------------------------------------------------------------------

@st.composite
def random_venue(draw: st.DrawFn, name: str, *, constrained: bool) -> VenueState:
    half_spread = draw(st.floats(0.0005, 0.2))
    gaps = draw(st.lists(st.floats(0.0, 0.3), min_size=1, max_size=10))
    sizes = draw(st.lists(st.floats(0.01, 3.0), min_size=len(gaps), max_size=len(gaps)))
    asks, bids, offset = [], [], half_spread
    for gap, size in zip(gaps, sizes, strict=True):
        offset += gap
        asks.append((MID + offset, size))
        bids.append((MID - offset, size))
    extra: dict[str, object] = {}
    if constrained:
        extra = {"headroom_usd": draw(st.sampled_from([math.inf, 0.0, 20.0, 150.0])),
                 "min_notional": draw(st.sampled_from([0.0, 5.0, 40.0])),
                 "step_size": draw(st.sampled_from([0.0, 0.001, 0.01, 0.1])),
                 "healthy": draw(st.booleans())}
    return venue(name, taker=draw(st.floats(-1.0, 10.0)), maker=draw(st.floats(-1.0, 5.0)),
                 latency_ms=draw(st.floats(0.0, 500.0)), asks=asks, bids=bids,
                 passive_fill_probability=draw(st.floats(0.0, 1.0)), **extra)


def random_venues(*, constrained: bool) -> st.SearchStrategy[list[VenueState]]:
    return st.integers(1, 3).flatmap(lambda n: st.tuples(
        *(random_venue(f"v{i}", constrained=constrained) for i in range(n))).map(list))


@settings(max_examples=200, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(venues=random_venues(constrained=False), quantity=st.floats(0.01, 12.0),
       side=st.sampled_from(Side), sigma=st.floats(0.0, 5e-4))
def test_split_is_never_worse_than_the_best_single_venue(
        venues: list[VenueState], quantity: float, side: Side, sigma: float) -> None:
    request = market(quantity, side, sigma=sigma)
    decision = SmartOrderRouter().route(request, venues)
    check_invariants(decision, request)
    assert math.fsum(q for _, q in decision.allocations) == pytest.approx(quantity, abs=1e-9)
    best_single = min(c.total_bps for c in decision.considered)
    assert decision.expected_cost_bps <= best_single + 0.1


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(venues=random_venues(constrained=True), quantity=st.floats(0.001, 12.0),
       side=st.sampled_from(Side), marketable=st.booleans(),
       fixed=st.sampled_from([None, "v0"]), limit_offset=st.none() | st.floats(-0.5, 0.5))
def test_decisions_never_exceed_the_request_or_use_an_ineligible_venue(
        venues: list[VenueState], quantity: float, side: Side, marketable: bool,
        fixed: str | None, limit_offset: float | None) -> None:
    limit = None if limit_offset is None else MID + limit_offset
    request = RouteRequest(side, quantity, marketable, MID, 1e-4, limit)
    decision = SmartOrderRouter(fixed=fixed).route(request, venues)
    check_invariants(decision, request)
    if not marketable or fixed is not None:
        assert len(decision.allocations) <= 1
    total = math.fsum(q for _, q in decision.allocations)
    assert total + decision.unallocated == pytest.approx(quantity, abs=1e-9) or (
        decision.allocations == () and decision.outcome in (
            RouteOutcome.NO_ELIGIBLE_VENUE, RouteOutcome.FIXED_INELIGIBLE))
    for name, allocation in decision.allocations:
        state = next(v for v in venues if v.name == name)
        assert allocation * MID <= state.headroom_usd * (1 + 1e-9)


@settings(max_examples=200, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(venues=random_venues(constrained=False), quantity=st.floats(0.01, 12.0),
       side=st.sampled_from(Side), sigma=st.floats(0.0, 5e-4))
def test_a_single_venue_decision_is_never_beaten_by_the_water_fill(
        venues: list[VenueState], quantity: float, side: Side, sigma: float) -> None:
    """The router skips the fill when the chosen venue's last unit costs no more than any other
    venue's first; the fill, run anyway, must then find nothing strictly cheaper."""
    request = market(quantity, side, sigma=sigma)
    decision = SmartOrderRouter().route(request, venues)
    if decision.outcome is not RouteOutcome.SINGLE:
        return
    priced = [price_venue(i, v, request, 1.0) for i, v in enumerate(venues)]
    split = water_fill(quantity, priced, chunks=16, max_venues=3)
    split = place_beyond_depth(quantity, split, priced, 3)
    split = round_to_steps(merge_small(split, priced, MID), priced)
    assert allocation_cost(split, priced) >= decision.expected_cost_bps - 1e-6
