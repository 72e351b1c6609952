"""Property: random orders, fills, cancels, releases, price moves, cash, limit and state changes
never let an order pass that a rule should have denied (checked against a small reference model
written naively with exact fractions and list scans), and never deny an order that breaks no
rule. Orders go through ``approve`` (counted as they pass), often several at the same instant."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from risk_helpers import T0

from oms.config import RiskLimits
from oms.market.types import Quote
from oms.model.enums import OrderType, Side, TradingState
from oms.model.orders import ChildOrder
from oms.risk.checks import reserved_cash
from oms.risk.pretrade import PreTradeRisk, RiskContext
from oms.risk.violations import ViolationCode as C
from oms.venues.filters import SymbolFilters

ALLOWED = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
ALL_SYMBOLS = (*ALLOWED, "DOGEUSDT")
STEP = {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.01"), "SOLUSDT": Decimal("0.1"),
        "DOGEUSDT": Decimal(10)}
FILTERS = {
    s: SymbolFilters(s, tick_size=Decimal("0.01"), step_size=STEP[s], min_qty=STEP[s],
                     min_notional=Decimal(20))
    for s in ALL_SYMBOLS
}
START_MID = {"BTCUSDT": Decimal(50000), "ETHUSDT": Decimal(3000), "SOLUSDT": Decimal(100),
             "DOGEUSDT": Decimal("0.1")}
START_POSITION = {"BTCUSDT": Decimal("0.05"), "ETHUSDT": Decimal(1), "SOLUSDT": Decimal(20),
                  "DOGEUSDT": Decimal(0)}
HALF_SPREAD = Decimal("0.5")
BUFFER_BPS = Decimal(50)


@dataclass
class Sent:
    """One order the risk let through, as the reference model remembers it."""

    at_s: float
    symbol: str
    side: Side
    quantity: Decimal
    parent: str
    remaining: Decimal
    order: ChildOrder
    price: Decimal  # its limit, else the touch when it was approved (reserve and fill price)


@dataclass
class World:
    """The reference model's view of the account."""

    now_s: float = 0.0
    state: TradingState = TradingState.ACTIVE
    limits: RiskLimits = field(default_factory=RiskLimits)
    mids: dict[str, Decimal | None] = field(default_factory=lambda: dict(START_MID))
    positions: dict[str, Decimal] = field(default_factory=lambda: dict(START_POSITION))
    daily_pnl: Decimal = Decimal(0)
    cash: Decimal | None = Decimal(20_000)
    sent: list[Sent] = field(default_factory=list)


def _worst(pos: Fraction, buys: Fraction, sells: Fraction) -> Fraction:
    return max(abs(pos + buys), abs(pos - sells))


def reference_violations(w: World, order: ChildOrder) -> set[str]:
    """Every rule ``order`` breaks, computed from scratch."""
    F = Fraction
    out: set[str] = set()
    sym, side, qty = order.symbol, order.side, F(order.quantity)
    working = [s for s in w.sent if s.remaining > 0]
    buys = {x: sum((F(s.remaining) for s in working if s.symbol == x and s.side is Side.BUY),
                   F(0)) for x in ALL_SYMBOLS}
    sells = {x: sum((F(s.remaining) for s in working if s.symbol == x and s.side is Side.SELL),
                    F(0)) for x in ALL_SYMBOLS}
    pos = F(w.positions[sym])
    if side is Side.SELL:
        reducing = pos > 0 and qty + sells[sym] <= pos
    else:
        reducing = pos < 0 and qty + buys[sym] <= -pos
    if w.state is TradingState.HALTED:
        out.add(C.TRADING_HALTED)
    if w.state is TradingState.REDUCING and not reducing:
        out.add(C.REDUCE_ONLY)
    if sym not in ALLOWED:
        out.add(C.SYMBOL_NOT_ALLOWED)
    mid_d = w.mids[sym]
    if mid_d is None:
        out.add(C.NO_MARKET_PRICE)
        return out
    mid = F(mid_d)
    lim = w.limits
    recent = [s for s in w.sent if w.now_s - s.at_s <= 60]
    if len(recent) >= lim.max_orders_per_minute:
        out.add(C.ORDER_RATE)
    per_symbol = lim.max_orders_per_minute_per_symbol.get(sym)
    if per_symbol is not None and len([s for s in recent if s.symbol == sym]) >= per_symbol:
        out.add(C.SYMBOL_ORDER_RATE)
    if any(
        s.symbol == sym and s.side is side and s.quantity == order.quantity
        and s.parent != order.parent_id and w.now_s - s.at_s <= lim.duplicate_window_s
        for s in w.sent
    ):
        out.add(C.DUPLICATE_ORDER)
    if order.limit_price is not None:
        price = F(order.limit_price)
    else:
        price = mid + F(HALF_SPREAD) * side.sign
    if qty * price > F(lim.max_order_notional_usd):
        out.add(C.MAX_ORDER_NOTIONAL)
    if order.limit_price is not None and abs(price - mid) / mid * 100 > F(lim.price_collar_pct):
        out.add(C.PRICE_COLLAR)
    if FILTERS[sym].check(order.order_type, order.quantity, order.limit_price, mid_d) is not None:
        out.add(C.EXCHANGE_FILTER)
    if lim.spot and side is Side.SELL and pos - sells[sym] - qty < 0:
        out.add(C.INSUFFICIENT_POSITION)
    if lim.spot and side is Side.BUY and w.cash is not None:
        buffer = 1 + F(BUFFER_BPS) / 10_000
        reserved = sum((F(s.remaining) * F(s.price) * buffer for s in working
                        if s.side is Side.BUY), F(0))
        if F(w.cash) - reserved - qty * price * buffer < 0:
            out.add(C.INSUFFICIENT_CASH)
    if -F(w.daily_pnl) > F(lim.max_daily_loss_usd) and not reducing:
        out.add(C.DAILY_LOSS)
    before = _worst(pos, buys[sym], sells[sym])
    after = (_worst(pos, buys[sym] + qty, sells[sym]) if side is Side.BUY
             else _worst(pos, buys[sym], sells[sym] + qty))
    if after > before:
        if after * mid > F(lim.max_position_usd):
            out.add(C.POSITION_LIMIT)
        gross_other = F(0)
        for x in ALL_SYMBOLS:
            if x == sym:
                continue
            exposure = _worst(F(w.positions[x]), buys[x], sells[x])
            if exposure:
                if w.mids[x] is None:
                    out.add(C.NO_MARKET_PRICE)
                    break
                gross_other += exposure * F(w.mids[x] or 0)
        else:
            if gross_other + after * mid > F(lim.max_gross_exposure_usd):
                out.add(C.GROSS_EXPOSURE)
    return out


def context(w: World, symbol: str) -> RiskContext:
    """The RiskContext the engine would build from the reference world."""
    mid = w.mids[symbol]
    quote = None
    if mid is not None:
        quote = Quote(symbol, T0, mid - HALF_SPREAD, mid + HALF_SPREAD, Decimal(1), Decimal(1))
    open_orders: dict[str, tuple[Decimal, Decimal]] = {}
    reserved = Decimal(0)
    for s in w.sent:
        if s.remaining > 0:
            b, se = open_orders.get(s.symbol, (Decimal(0), Decimal(0)))
            open_orders[s.symbol] = (b + s.remaining, se) if s.side is Side.BUY else (b, se
                                                                                     + s.remaining)
            if s.side is Side.BUY:
                reserved += reserved_cash(s.remaining, s.price, BUFFER_BPS)
    return RiskContext(
        now=T0 + timedelta(seconds=w.now_s),
        trading_state=w.state,
        quote=quote,
        filters=FILTERS[symbol],
        position_qty=w.positions[symbol],
        mids={k: v for k, v in w.mids.items() if v is not None},
        positions={k: v for k, v in w.positions.items() if v},
        daily_pnl=w.daily_pnl,
        open_orders=open_orders,
        cash=w.cash,
        open_buy_reserved=reserved,
    )


order_op = st.tuples(
    st.just("order"),
    st.sampled_from([*ALLOWED, *ALLOWED, *ALLOWED, "DOGEUSDT"]),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.one_of(  # quantity in steps: often repeated small sizes (duplicates), sometimes huge
        st.sampled_from([1, 5, 10, 20]), st.integers(1, 60), st.integers(1, 400)
    ),
    st.one_of(st.none(), st.integers(min_value=-800, max_value=800)),  # limit offset, 1/100 %
    st.sampled_from(["p1", "p2", "p3"]),
)
fill_op = st.tuples(st.just("fill"), st.integers(0, 50), st.sampled_from([1, 2, 4]))
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 50))
# dyadic steps add up exactly, so orders land precisely on the window edges (1 s, 60 s)
time_op = st.tuples(st.just("time"), st.sampled_from([0.25, 0.5, 1.0, 1.5, 10.0, 30.0, 60.0]))
edge_op = st.tuples(st.just("edge"), st.integers(0, 50), st.booleans())  # to a window's edge
echo_op = st.tuples(st.just("echo"), st.sampled_from(["p1", "p2", "p3"]))  # resend as another
pnl_op = st.tuples(st.just("pnl"), st.integers(-400, 300))
release_op = st.tuples(st.just("release"), st.integers(0, 5))  # an approved order not sent
cash_op = st.tuples(st.just("cash"), st.one_of(st.none(), st.integers(0, 40_000)))
mid_op = st.tuples(
    st.just("mid"),
    st.sampled_from(ALL_SYMBOLS),
    st.one_of(st.integers(-500, 500), st.integers(-500, 500), st.none()),  # None: no price
)
state_op = st.tuples(
    st.just("state"),
    st.sampled_from([TradingState.ACTIVE] * 3 + [TradingState.REDUCING, TradingState.HALTED]),
)
limits_op = st.tuples(
    st.just("limits"),
    st.one_of(st.integers(500, 20_000), st.just(10**9)),  # max position (10**9: rule off)
    st.one_of(st.integers(1_000, 40_000), st.just(10**9)),  # gross
    st.integers(50, 1_000),  # daily loss
    st.one_of(st.integers(1, 3), st.integers(1, 25)),  # orders per minute
    st.one_of(st.none(), st.integers(1, 6)),  # per-symbol rate for BTCUSDT
    st.integers(200, 8_000),  # fat finger
    st.integers(1, 8),  # collar %
    st.sampled_from([0.5, 1.0, 2.0]),  # duplicate window
    st.booleans(),  # spot (reservation rules on)
)
ops = st.lists(
    st.one_of(order_op, order_op, order_op, order_op, echo_op, fill_op, fill_op, cancel_op,
              time_op, time_op, edge_op, pnl_op, mid_op, state_op, limits_op, release_op,
              cash_op),
    min_size=30,
    max_size=120,
)


def _apply(w: World, risk: PreTradeRisk, op: tuple[object, ...], counter: list[int]) -> None:
    kind = op[0]
    if kind == "echo":  # the last sent order again, from the given parent: a duplicate candidate
        if not w.sent:
            return
        last = w.sent[-1]
        echo_steps = int(last.quantity / STEP[last.symbol])
        op = ("order", last.symbol, last.side, echo_steps, None, op[1])
        kind = "order"
    if kind == "order":
        _, symbol, side, steps, offset, parent = op
        assert isinstance(symbol, str) and isinstance(side, Side) and isinstance(steps, int)
        assert isinstance(parent, str)
        qty = STEP[symbol] * steps
        mid = w.mids[symbol] or START_MID[symbol]
        limit = None
        if isinstance(offset, int):
            limit = (mid * (1 + Decimal(offset) / 10_000)).quantize(Decimal("0.01"))
        counter[0] += 1
        order = ChildOrder(f"c{counter[0]}", parent, symbol, side, qty,
                           OrderType.MARKET if limit is None else OrderType.LIMIT, T0, "paper",
                           limit_price=limit)
        ctx = context(w, symbol)
        expected = reference_violations(w, order)
        previewed = risk.check(order, ctx)
        got = risk.approve(order, ctx)
        assert got == previewed  # check counts nothing: the verdict is the same
        if got is None:
            assert not expected, f"{order} passed but breaks {expected}"
            quote = ctx.quote
            assert quote is not None
            price = limit if limit is not None else quote.touch(side)
            w.sent.append(Sent(w.now_s, symbol, side, qty, parent, qty, order, price))
        else:
            assert expected, f"{order} denied by {got} but breaks no rule"
            assert got.code in expected, f"{got} not among {expected}"
    elif kind == "fill":
        working = [s for s in w.sent if s.remaining > 0]
        if working:
            index, divisor = op[1], op[2]
            assert isinstance(index, int) and isinstance(divisor, int)
            s = working[index % len(working)]
            part = (s.remaining / divisor).quantize(STEP[s.symbol]) or s.remaining
            s.remaining -= part
            w.positions[s.symbol] += part * s.side.sign
            if w.cash is not None:
                w.cash -= part * s.price * s.side.sign
    elif kind == "cancel":
        working = [s for s in w.sent if s.remaining > 0]
        if working:
            index = op[1]
            assert isinstance(index, int)
            working[index % len(working)].remaining = Decimal(0)
    elif kind == "edge":  # jump to exactly when a sent order reaches the rate or duplicate edge
        index, rate_edge = op[1], op[2]
        assert isinstance(index, int)
        if w.sent:
            sent = w.sent[-1 - index % len(w.sent)]
            edge = sent.at_s + (60.0 if rate_edge else w.limits.duplicate_window_s)
            w.now_s = max(w.now_s, edge)
    elif kind == "time":
        assert isinstance(op[1], float)
        w.now_s += op[1]
    elif kind == "pnl":
        assert isinstance(op[1], int)
        w.daily_pnl += Decimal(op[1])
    elif kind == "release":  # one of the newest approved orders was not sent after all
        unfilled = [s for s in w.sent[-6:] if s.remaining == s.quantity]
        if unfilled:
            index = op[1]
            assert isinstance(index, int)
            s = unfilled[index % len(unfilled)]
            risk.release(s.order)
            w.sent.remove(s)
    elif kind == "cash":
        cash = op[1]
        assert cash is None or isinstance(cash, int)
        w.cash = None if cash is None else Decimal(cash)
    elif kind == "mid":
        symbol, move = op[1], op[2]
        assert isinstance(symbol, str) and (move is None or isinstance(move, int))
        w.mids[symbol] = None if move is None else (
            START_MID[symbol] * (1 + Decimal(move) / 10_000)).quantize(Decimal("0.01"))
    elif kind == "state":
        assert isinstance(op[1], TradingState)
        w.state = op[1]
    elif kind == "limits":
        _, pos, gross, loss, rate, btc_rate, fat, collar, dup, spot = op
        assert isinstance(spot, bool)
        w.limits = RiskLimits(
            max_position_usd=Decimal(str(pos)), max_gross_exposure_usd=Decimal(str(gross)),
            max_daily_loss_usd=Decimal(str(loss)), max_orders_per_minute=rate,
            max_orders_per_minute_per_symbol={} if btc_rate is None else {"BTCUSDT": btc_rate},
            max_order_notional_usd=Decimal(str(fat)), price_collar_pct=Decimal(str(collar)),
            duplicate_window_s=dup, spot=spot, buy_reserve_buffer_bps=BUFFER_BPS,
        )
        risk.update_limits(w.limits)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=True)
@given(limits_op, ops)
def test_no_order_passes_that_a_rule_denies(
    first_limits: tuple[object, ...], sequence: list[tuple[object, ...]]
) -> None:
    # Arrange: start from random (often tight) limits
    world = World()
    risk = PreTradeRisk(world.limits, ALLOWED)
    counter = [0]
    _apply(world, risk, first_limits, counter)
    # Act / Assert: each order's verdict is compared with the reference inside _apply
    for op in sequence:
        _apply(world, risk, op, counter)
