"""PreTradeRisk: every child order runs the full rule set before it may leave the process.

The engine builds one ``RiskContext`` per order (or per tick and symbol) and calls ``approve``:
the first violation, or None after counting the order in the rate and duplicate windows at once,
so the next child of the same batch already sees it. An approved order that never leaves the
process (its commit failed, the halt gate closed, the venue was unreachable) is taken back out
with ``release``; one the venue rejected after it was sent stays counted (the venue counts it).
``check`` is the same verdict without counting (previews); ``check_all`` returns every violation
(diagnostics, tests). Checks run cheapest first and the first violation is returned.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from oms.config import RiskLimits
from oms.market.types import Quote
from oms.model.enums import TradingState
from oms.model.orders import ChildOrder
from oms.risk.checks import (
    check_cash_available,
    check_daily_loss,
    check_duplicate,
    check_exchange_filters,
    check_gross_exposure,
    check_market_price,
    check_max_order_notional,
    check_order_rate,
    check_position_available,
    check_position_limit,
    check_price_collar,
    check_symbol_allowed,
    check_trading_state,
    exposure_qty,
    is_risk_reducing,
    no_market_price,
    order_price,
    reserved_cash,
)
from oms.risk.violations import Violation
from oms.risk.windows import SentOrderWindows
from oms.venues.filters import SymbolFilters

__all__ = ["OpenQty", "PreTradeRisk", "RiskContext"]

_ZERO = Decimal(0)
OpenQty = tuple[Decimal, Decimal]  # (working buy quantity, working sell quantity) of a symbol
_NO_OPEN: OpenQty = (_ZERO, _ZERO)
_RATE_WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the checks see for one order; the engine fills it from its state.

    ``position_qty`` is the signed position in the order's symbol (it wins over
    ``positions[order.symbol]``). ``positions`` and ``mids`` cover every symbol held or worked;
    ``open_orders`` maps a symbol to the unfilled quantity of its working children per side
    (excluding the order being checked; children approved earlier in the same batch included).
    ``daily_pnl`` is realised plus unrealised P&L since 00:00 UTC (negative for a loss).

    Spot reservation (``RiskLimits.spot``): a sell must fit in ``position_qty`` minus the open
    sells. ``cash`` is the free quote balance; with it, a buy's ``reserved_cash`` must fit in
    ``cash - open_buy_reserved``, the quote asset every working buy of the account may still
    spend (each valued with ``reserved_cash``). ``cash=None`` skips the cash rule.
    """

    now: datetime
    trading_state: TradingState
    quote: Quote | None
    filters: SymbolFilters
    position_qty: Decimal
    mids: Mapping[str, Decimal]
    positions: Mapping[str, Decimal]
    daily_pnl: Decimal
    open_orders: Mapping[str, OpenQty] = field(default_factory=dict)
    cash: Decimal | None = None
    open_buy_reserved: Decimal = _ZERO

    def mid(self, symbol: str) -> Decimal | None:
        """The order symbol's mid from the quote, else from ``mids``."""
        if self.quote is not None and self.quote.symbol == symbol:
            return self.quote.mid
        return self.mids.get(symbol)


class PreTradeRisk:
    """The full pre-trade rule set with its rolling windows (one instance per account)."""

    def __init__(self, limits: RiskLimits, allowed_symbols: Iterable[str] | None = None) -> None:
        self.allowed_symbols: frozenset[str] | None = (
            None if allowed_symbols is None else frozenset(s.upper() for s in allowed_symbols)
        )
        self.windows = SentOrderWindows(
            rate_window_s=_RATE_WINDOW_S, duplicate_window_s=limits.duplicate_window_s
        )
        self.limits = limits
        self.update_limits(limits)

    def update_limits(self, limits: RiskLimits) -> None:
        """Use new limits from now on (sent-order windows are kept)."""
        self.limits = limits
        self._max_position = limits.max_position_usd
        self._max_gross = limits.max_gross_exposure_usd
        self._max_daily_loss = limits.max_daily_loss_usd
        self._max_rate = limits.max_orders_per_minute
        self._max_rate_by_symbol = dict(limits.max_orders_per_minute_per_symbol)
        self._max_order_notional = limits.max_order_notional_usd
        self._collar_pct = limits.price_collar_pct
        self._duplicate_window_s = limits.duplicate_window_s
        self._spot = limits.spot
        self._buy_buffer_bps = limits.buy_reserve_buffer_bps
        self.windows.set_duplicate_window(limits.duplicate_window_s)

    def set_allowed_symbols(self, symbols: Collection[str] | None) -> None:
        """Replace the symbol allow-list (``None`` allows every symbol)."""
        self.allowed_symbols = None if symbols is None else frozenset(s.upper() for s in symbols)

    def approve(self, order: ChildOrder, ctx: RiskContext) -> Violation | None:
        """The first violation of ``order``, or None after counting it as sent at ``ctx.now``.

        Call it once per child, in the order the children would be sent; ``release`` the
        order if it is then not sent after all.
        """
        violation = self.check(order, ctx)
        if violation is None:
            self.windows.record(order, ctx.now)
        return violation

    def release(self, order: ChildOrder) -> bool:
        """Take an approved ``order`` that was never sent back out of the rate and duplicate
        windows; False if it was not counted (or has aged out of every window)."""
        return self.windows.release(order.client_order_id)

    def check(self, order: ChildOrder, ctx: RiskContext) -> Violation | None:
        """The first violation of ``order`` under ``ctx``, or None; counts nothing (preview)."""
        symbol = order.symbol
        side = order.side
        quantity = order.quantity
        position = ctx.position_qty
        open_buy, open_sell = ctx.open_orders.get(symbol, _NO_OPEN)
        reducing = is_risk_reducing(side, quantity, position, open_buy, open_sell)
        state = ctx.trading_state
        if state is not TradingState.ACTIVE:
            v = check_trading_state(state, symbol, side, reducing=reducing)
            if v is not None:
                return v
        allowed = self.allowed_symbols
        if allowed is not None and symbol not in allowed:
            return check_symbol_allowed(symbol, allowed)
        quote = ctx.quote
        if quote is not None and quote.symbol == symbol:
            mid = quote.mid
            touch: Decimal | None = quote.touch(side)
        else:
            mid_or_none = ctx.mids.get(symbol)
            if mid_or_none is None or mid_or_none <= 0:
                return no_market_price(symbol)
            mid, touch = mid_or_none, None
        if mid <= 0:
            return no_market_price(symbol)
        now = ctx.now
        windows = self.windows
        sent = windows.account_count(now)
        if sent >= self._max_rate:
            return check_order_rate(sent, self._max_rate, window_s=_RATE_WINDOW_S)
        symbol_limit = self._max_rate_by_symbol.get(symbol)
        if symbol_limit is not None:
            sent = windows.symbol_count(symbol, now)
            if sent >= symbol_limit:
                return check_order_rate(sent, symbol_limit, symbol=symbol, window_s=_RATE_WINDOW_S)
        parents = windows.recent_parents((symbol, side, quantity), now)
        if parents:
            v = check_duplicate(order, parents, self._duplicate_window_s)
            if v is not None:
                return v
        price = order_price(order, mid, touch)
        v = check_max_order_notional(order, price, self._max_order_notional)
        if v is not None:
            return v
        if order.limit_price is not None:
            v = check_price_collar(order, mid, self._collar_pct)
            if v is not None:
                return v
        v = check_exchange_filters(order, ctx.filters, mid)
        if v is not None:
            return v
        if self._spot:
            if side.sign < 0:
                if quantity > position - open_sell:
                    return check_position_available(order, position, open_sell)
            elif ctx.cash is not None:
                v = self._check_cash(order, ctx, price)
                if v is not None:
                    return v
        if not reducing and ctx.daily_pnl < 0:
            v = check_daily_loss(ctx.daily_pnl, self._max_daily_loss, reducing=False, symbol=symbol)
            if v is not None:
                return v
        return self._check_exposure(order, ctx, mid, position, open_buy, open_sell)

    def _check_reservation(
        self,
        order: ChildOrder,
        ctx: RiskContext,
        price: Decimal,
        position: Decimal,
        open_sell: Decimal,
    ) -> Violation | None:
        if order.side.sign < 0:
            return check_position_available(order, position, open_sell)
        return self._check_cash(order, ctx, price)

    def _check_cash(self, order: ChildOrder, ctx: RiskContext, price: Decimal) -> Violation | None:
        cash = ctx.cash
        if cash is None:
            return None
        reserve = reserved_cash(order.quantity, price, self._buy_buffer_bps)
        return check_cash_available(order, reserve, cash, ctx.open_buy_reserved)

    def _check_exposure(
        self,
        order: ChildOrder,
        ctx: RiskContext,
        mid: Decimal,
        position: Decimal,
        open_buy: Decimal,
        open_sell: Decimal,
    ) -> Violation | None:
        before = exposure_qty(position, open_buy, open_sell)
        if order.side.sign > 0:
            after = exposure_qty(position, open_buy + order.quantity, open_sell)
        else:
            after = exposure_qty(position, open_buy, open_sell + order.quantity)
        if after <= before:
            return None  # the order does not enlarge the worst case: size rules cannot deny it
        v = check_position_limit(order.symbol, before, after, mid, self._max_position)
        if v is not None:
            return v
        others = self._gross_other_symbols(order.symbol, ctx)
        if isinstance(others, Violation):
            return others
        return check_gross_exposure(
            others + before * mid, others + after * mid, self._max_gross, symbol=order.symbol
        )

    @staticmethod
    def _gross_other_symbols(symbol: str, ctx: RiskContext) -> Decimal | Violation:
        """Worst-case gross exposure (USD at mid) of every symbol except ``symbol``."""
        total = _ZERO
        open_orders = ctx.open_orders
        mids = ctx.mids
        for other, qty in ctx.positions.items():
            if other == symbol:
                continue
            ob, os_ = open_orders.get(other, _NO_OPEN)
            exposure = exposure_qty(qty, ob, os_)
            if exposure:
                other_mid = mids.get(other)
                if other_mid is None or other_mid <= 0:
                    return no_market_price(other)
                total += exposure * other_mid
        for other, (ob, os_) in open_orders.items():
            if other == symbol or other in ctx.positions:
                continue
            exposure = ob if ob >= os_ else os_
            if exposure:
                other_mid = mids.get(other)
                if other_mid is None or other_mid <= 0:
                    return no_market_price(other)
                total += exposure * other_mid
        return total

    def check_all(self, order: ChildOrder, ctx: RiskContext) -> list[Violation]:
        """Every rule ``order`` breaks under ``ctx`` (slower than ``check``; for diagnostics)."""
        symbol, side, quantity = order.symbol, order.side, order.quantity
        open_buy, open_sell = ctx.open_orders.get(symbol, _NO_OPEN)
        reducing = is_risk_reducing(side, quantity, ctx.position_qty, open_buy, open_sell)
        found: list[Violation | None] = [
            check_trading_state(ctx.trading_state, symbol, side, reducing=reducing),
            check_symbol_allowed(symbol, self.allowed_symbols),
        ]
        mid = ctx.mid(symbol)
        if mid is None or mid <= 0:
            found.append(check_market_price(symbol, mid))
            return [v for v in found if v is not None]
        now = ctx.now
        found.append(check_order_rate(self.windows.account_count(now), self._max_rate))
        symbol_limit = self._max_rate_by_symbol.get(symbol)
        if symbol_limit is not None:
            symbol_sent = self.windows.symbol_count(symbol, now)
            found.append(check_order_rate(symbol_sent, symbol_limit, symbol=symbol))
        parents = self.windows.recent_parents((symbol, side, quantity), now)
        found.append(check_duplicate(order, parents, self._duplicate_window_s))
        quote = ctx.quote
        touch = quote.touch(side) if quote is not None and quote.symbol == symbol else None
        price = order_price(order, mid, touch)
        found.append(check_max_order_notional(order, price, self._max_order_notional))
        found.append(check_price_collar(order, mid, self._collar_pct))
        found.append(check_exchange_filters(order, ctx.filters, mid))
        if self._spot:
            found.append(
                self._check_reservation(order, ctx, price, ctx.position_qty, open_sell)
            )
        found.append(
            check_daily_loss(ctx.daily_pnl, self._max_daily_loss, reducing=reducing, symbol=symbol)
        )
        found.append(self._check_exposure(order, ctx, mid, ctx.position_qty, open_buy, open_sell))
        return [v for v in found if v is not None]

    def record_sent(self, order: ChildOrder, now: datetime) -> None:
        """Count ``order`` as sent at ``now`` without checking it (``approve`` already counts;
        recording an order twice counts it once). For restores and tests."""
        self.windows.record(order, now)
