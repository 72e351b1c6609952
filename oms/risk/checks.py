"""Pre-trade checks: one pure function per rule, each returning a Violation or None.

Conventions shared by every check:

- A limit is breached only when it is *exceeded*: a value exactly at the limit passes.
- Exposure is counted at its worst case: the position plus every working order on the side that
  makes it larger (``exposure_qty``). An order that does not enlarge that worst case is never
  denied for size, so orders that cut risk always pass the size rules.
- An order is *risk-reducing* when it is on the opposite side of the position and, together with
  the working orders on its side, cannot take the position through zero (``is_risk_reducing``).
- Money in reason texts is rounded to cents; configured limits are shown as configured.
- Spot accounts cannot go short or borrow: what the working children may still take is reserved
  (``check_position_available``, ``check_cash_available``; a buy reserves ``reserved_cash``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal

from oms.model.enums import OrderType, Side, TradingState
from oms.model.orders import ChildOrder
from oms.risk.violations import Violation, ViolationCode, usd
from oms.venues.filters import SymbolFilters

__all__ = [
    "check_cash_available",
    "check_daily_loss",
    "check_duplicate",
    "check_exchange_filters",
    "check_gross_exposure",
    "check_market_price",
    "check_max_order_notional",
    "check_order_rate",
    "check_position_available",
    "check_position_limit",
    "check_price_collar",
    "check_symbol_allowed",
    "check_trading_state",
    "exposure_qty",
    "is_risk_reducing",
    "no_market_price",
    "order_price",
    "reserved_cash",
]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_BPS = Decimal(10_000)


def is_risk_reducing(
    side: Side,
    quantity: Decimal,
    position_qty: Decimal,
    open_buy_qty: Decimal = _ZERO,
    open_sell_qty: Decimal = _ZERO,
) -> bool:
    """True if the order shrinks the position and, with its side's working orders, cannot flip."""
    if side is Side.SELL:
        return position_qty > 0 and quantity + open_sell_qty <= position_qty
    return position_qty < 0 and quantity + open_buy_qty <= -position_qty


def exposure_qty(position_qty: Decimal, open_buy_qty: Decimal, open_sell_qty: Decimal) -> Decimal:
    """Worst-case absolute position if every working order on one side filled."""
    long_case = abs(position_qty + open_buy_qty)
    short_case = abs(position_qty - open_sell_qty)
    return long_case if long_case >= short_case else short_case


def check_trading_state(
    state: TradingState, symbol: str, side: Side, *, reducing: bool
) -> Violation | None:
    """HALTED denies every order; REDUCING denies all but risk-reducing orders."""
    if state is TradingState.ACTIVE:
        return None
    if state is TradingState.HALTED:
        return Violation(
            ViolationCode.TRADING_HALTED,
            "trading is halted: nothing but cancels may be sent",
            {"state": state.value, "symbol": symbol, "side": side.value},
        )
    if reducing:
        return None
    return Violation(
        ViolationCode.REDUCE_ONLY,
        "the account is REDUCING: only orders that reduce a position are allowed",
        {"state": state.value, "symbol": symbol, "side": side.value},
    )


def check_symbol_allowed(symbol: str, allowed: Collection[str] | None) -> Violation | None:
    """Deny symbols outside the allow-list (``None`` allows every symbol)."""
    if allowed is None or symbol in allowed:
        return None
    return Violation(
        ViolationCode.SYMBOL_NOT_ALLOWED,
        f"{symbol} is not on the symbol allow-list",
        {"symbol": symbol},
    )


def check_market_price(symbol: str, mid: Decimal | None) -> Violation | None:
    """Deny when there is no usable mid price: risk cannot be measured without one."""
    if mid is not None and mid > 0:
        return None
    return no_market_price(symbol)


def no_market_price(symbol: str) -> Violation:
    """The violation for a symbol that has no usable mid price."""
    return Violation(
        ViolationCode.NO_MARKET_PRICE,
        f"no market price for {symbol}: the order cannot be valued",
        {"symbol": symbol},
    )


def check_order_rate(
    sent_in_window: int, limit: int, *, symbol: str | None = None, window_s: float = 60.0
) -> Violation | None:
    """Deny when ``limit`` orders were already sent in the window (per account or per symbol)."""
    if sent_in_window < limit:
        return None
    window = f"{window_s:g}s"
    if symbol is None:
        return Violation(
            ViolationCode.ORDER_RATE,
            f"account order rate reached: {sent_in_window} orders in the last {window}",
            {"orders": sent_in_window, "window": window, "limit": limit},
        )
    return Violation(
        ViolationCode.SYMBOL_ORDER_RATE,
        f"{symbol} order rate reached: {sent_in_window} orders in the last {window}",
        {"symbol": symbol, "orders": sent_in_window, "window": window, "limit": limit},
    )


def check_duplicate(
    order: ChildOrder, recent_parents: Mapping[str, int], window_s: float
) -> Violation | None:
    """Deny a child equal in symbol, side and quantity to one of another parent in the window.

    ``recent_parents`` counts the same-key orders approved within ``window_s`` per parent;
    repeats from the order's own parent (an algorithm slicing evenly) are allowed.
    """
    own = order.parent_id
    seen = 0
    other_parent = ""
    for parent_id, count in recent_parents.items():
        if parent_id != own:
            seen += count
            other_parent = other_parent or parent_id
    if not seen:
        return None
    return Violation(
        ViolationCode.DUPLICATE_ORDER,
        f"same symbol, side and quantity as {seen} order(s) of other parents (e.g. "
        f"{other_parent}) within {window_s:g}s",
        {
            "symbol": order.symbol,
            "side": order.side.value,
            "quantity": order.quantity,
            "seen": seen,
            "other_parent": other_parent,
            "window_s": f"{window_s:g}",
        },
    )


def check_exchange_filters(
    order: ChildOrder, filters: SymbolFilters, mid: Decimal
) -> Violation | None:
    """Deny what the exchange would reject (tick, step, min/max quantity and notional, % price)."""
    failure = filters.check(order.order_type, order.quantity, order.limit_price, mid,
                            side=order.side)
    if failure is None:
        return None
    return Violation(
        ViolationCode.EXCHANGE_FILTER,
        f"exchange filter {failure.filter} would reject the order ({failure})",
        {
            "symbol": order.symbol,
            "filter": failure.filter,
            "code": failure.code,
            "quantity": order.quantity,
            "price": order.limit_price if order.limit_price is not None else "MARKET",
        },
    )


def order_price(order: ChildOrder, mid: Decimal, touch: Decimal | None) -> Decimal:
    """The price an order is valued at: its limit, else the touch it would meet, else the mid."""
    if order.limit_price is not None:
        return order.limit_price
    return touch if touch is not None else mid


def check_max_order_notional(
    order: ChildOrder, price: Decimal, limit_usd: Decimal
) -> Violation | None:
    """Fat-finger guard: deny an order whose notional (quantity x ``price``) exceeds the limit."""
    notional = order.quantity * price
    if notional <= limit_usd:
        return None
    return Violation(
        ViolationCode.MAX_ORDER_NOTIONAL,
        "order notional above the fat-finger limit",
        {"symbol": order.symbol, "notional_usd": usd(notional), "limit_usd": limit_usd},
    )


def check_price_collar(order: ChildOrder, mid: Decimal, collar_pct: Decimal) -> Violation | None:
    """Deny a limit price further than ``collar_pct`` percent from the mid (market orders pass)."""
    price = order.limit_price
    if price is None or order.order_type is OrderType.MARKET:
        return None
    # compare without dividing: |price - mid| * 100 <= collar * mid
    if abs(price - mid) * _HUNDRED <= collar_pct * mid:
        return None
    deviation = (abs(price - mid) * _HUNDRED / mid).quantize(Decimal("0.01"))
    return Violation(
        ViolationCode.PRICE_COLLAR,
        "limit price too far from the mid",
        {
            "symbol": order.symbol,
            "price": price,
            "mid": mid,
            "deviation_pct": deviation,
            "collar_pct": collar_pct,
        },
    )


def check_daily_loss(
    daily_pnl: Decimal, limit_usd: Decimal, *, reducing: bool, symbol: str = ""
) -> Violation | None:
    """Past the daily loss limit (loss strictly above it) only risk-reducing orders pass."""
    if reducing or -daily_pnl <= limit_usd:
        return None
    return Violation(
        ViolationCode.DAILY_LOSS,
        "daily loss limit passed: only risk-reducing orders are allowed",
        {"symbol": symbol, "daily_pnl_usd": usd(daily_pnl), "limit_usd": limit_usd},
    )


def check_position_limit(
    symbol: str,
    exposure_before_qty: Decimal,
    exposure_after_qty: Decimal,
    mid: Decimal,
    limit_usd: Decimal,
) -> Violation | None:
    """Deny an order enlarging a symbol's worst-case position beyond ``limit_usd`` at the mid."""
    if exposure_after_qty <= exposure_before_qty:
        return None
    position_usd = exposure_after_qty * mid
    if position_usd <= limit_usd:
        return None
    return Violation(
        ViolationCode.POSITION_LIMIT,
        f"{symbol} position after the order would exceed the single-position limit",
        {"symbol": symbol, "position_usd": usd(position_usd), "limit_usd": limit_usd},
    )


def check_gross_exposure(
    gross_before_usd: Decimal, gross_after_usd: Decimal, limit_usd: Decimal, *, symbol: str = ""
) -> Violation | None:
    """Deny an order enlarging gross exposure (sum of |positions| at mid) past the limit."""
    if gross_after_usd <= gross_before_usd or gross_after_usd <= limit_usd:
        return None
    return Violation(
        ViolationCode.GROSS_EXPOSURE,
        "gross exposure after the order would exceed the limit",
        {"symbol": symbol, "gross_usd": usd(gross_after_usd), "limit_usd": limit_usd},
    )


def reserved_cash(quantity: Decimal, price: Decimal, buffer_bps: Decimal) -> Decimal:
    """Quote asset a buy of ``quantity`` at ``price`` may spend: notional plus ``buffer_bps``.

    The buffer covers the fee (paid in the quote asset) and, for a market order valued at the
    touch, walking the book past it.
    """
    return quantity * price * (1 + buffer_bps / _BPS)


def check_position_available(
    order: ChildOrder, position_qty: Decimal, open_sell_qty: Decimal
) -> Violation | None:
    """Spot: deny a sell of more than the position minus what working sells may still take."""
    available = position_qty - open_sell_qty
    if order.quantity <= available:
        return None
    return Violation(
        ViolationCode.INSUFFICIENT_POSITION,
        f"spot account: selling {order.quantity} {order.symbol} would take the position below "
        "zero once the working sells fill",
        {
            "symbol": order.symbol,
            "position": position_qty,
            "open_sell": open_sell_qty,
            "quantity": order.quantity,
        },
    )


def check_cash_available(
    order: ChildOrder, reserve: Decimal, cash: Decimal, open_buy_reserved: Decimal
) -> Violation | None:
    """Spot: deny a buy whose ``reserve`` exceeds the cash left after the working buys' reserve."""
    if reserve <= cash - open_buy_reserved:
        return None
    return Violation(
        ViolationCode.INSUFFICIENT_CASH,
        "spot account: the buy could take cash below zero once the working buys fill",
        {
            "symbol": order.symbol,
            "cash_usd": usd(cash),
            "open_buy_usd": usd(open_buy_reserved),
            "order_usd": usd(reserve),
        },
    )
