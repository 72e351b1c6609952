"""A symbol's exchange trading rules (Binance spot filters) and the check of one order against them.

The rules follow Binance's spot "Filters" documentation: a bound of 0 disables that bound, as
Binance does for PRICE_FILTER; percent-price and market-order notional use the symbol's average
price (GET /api/v3/avgPrice, over ``avg_price_mins``), not the mid. Parsing exchangeInfo into
these rules is the venue's business (``oms.venues.filters``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from oms.model.assets import split_symbol
from oms.model.enums import OrderType, Side

__all__ = ["TRADING", "FilterViolation", "SymbolFilters", "round_to_step"]

_ZERO = Decimal(0)
TRADING = "TRADING"  # the only symbol status in which Binance accepts new orders
_ALL_ORDER_TYPES = frozenset(str(t) for t in OrderType)
_TYPE_NAMES = {OrderType.MARKET: "Market", OrderType.LIMIT: "Limit",
               OrderType.LIMIT_MAKER: "Limit maker"}


@dataclass(frozen=True, slots=True)
class FilterViolation:
    """Why an order fails an exchange filter, with Binance's code and message."""

    filter: str
    code: int
    message: str

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


def _failure(name: str) -> FilterViolation:
    return FilterViolation(name, -1013, f"Filter failure: {name}")


def _outside(value: Decimal, low: Decimal, high: Decimal) -> bool:
    """True when ``value`` is below an enabled ``low`` or above an enabled ``high`` (0: off)."""
    return (low > 0 and value < low) or (high > 0 and value > high)


def round_to_step(quantity: Decimal, step: Decimal | None) -> Decimal:
    """``quantity`` rounded DOWN to a multiple of ``step`` (never up past what was asked); 0 for
    a quantity that is not positive; unchanged when the step is 0 or unknown. The one rounding
    of quantities: the rebalance plan (preview and submit), the schedules and the executor."""
    if quantity <= 0:
        return Decimal(0)
    if not step or step <= 0:
        return quantity
    return (quantity / step).to_integral_value(ROUND_DOWN) * step


def _off_step(value: Decimal, step: Decimal) -> bool:
    return step > 0 and value % step != 0


@dataclass(frozen=True, slots=True)
class SymbolFilters:
    """The trading rules of one symbol (defaults: Binance BTCUSDT spot, 2023 on)."""

    symbol: str
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    min_notional: Decimal = Decimal("5")
    max_notional: Decimal = Decimal("9000000")  # 0: no maximum (MIN_NOTIONAL symbols)
    max_num_orders: int = 200
    base_asset: str = ""  # from exchangeInfo; empty: split the symbol by its quote suffix
    quote_asset: str = "USDT"
    # PERCENT_PRICE_BY_SIDE (PERCENT_PRICE sets both sides alike); 0 disables a bound
    bid_multiplier_up: Decimal = Decimal("5")
    bid_multiplier_down: Decimal = Decimal("0.2")
    ask_multiplier_up: Decimal = Decimal("5")
    ask_multiplier_down: Decimal = Decimal("0.2")
    percent_price_filter: str = "PERCENT_PRICE_BY_SIDE"
    avg_price_mins: int = 5
    # MARKET_LOT_SIZE: applies to MARKET orders on top of LOT_SIZE; 0 disables a bound or step
    market_min_qty: Decimal = _ZERO
    market_max_qty: Decimal = _ZERO
    market_step_size: Decimal = _ZERO
    # NOTIONAL (or the older MIN_NOTIONAL with applyToMarket, which has no maximum; its
    # failures are reported as NOTIONAL, the name Binance has used for all symbols since 2023)
    apply_min_to_market: bool = True
    apply_max_to_market: bool = False
    max_num_algo_orders: int = 5  # stop / take-profit orders: the OMS sends none, so unchecked
    status: str = TRADING  # TRADING, BREAK, HALT, END_OF_DAY, PRE_TRADING, ...
    spot_trading_allowed: bool = True  # isSpotTradingAllowed and SPOT in the permissions
    order_types: frozenset[str] = _ALL_ORDER_TYPES

    def assets(self) -> tuple[str, str]:
        """(base, quote) of the symbol: as exchangeInfo gave them, else by the quote suffix."""
        if self.base_asset:
            return self.base_asset, self.quote_asset
        return split_symbol(self.symbol)

    def tradable(self) -> bool:
        """True when the symbol accepts new spot orders now (status TRADING, spot permitted)."""
        return self.status == TRADING and self.spot_trading_allowed

    def max_quantity(self, order_type: OrderType) -> Decimal:
        """The largest quantity one order of ``order_type`` may have (MARKET_LOT_SIZE too)."""
        if order_type is OrderType.MARKET and self.market_max_qty > 0:
            return min(self.max_qty, self.market_max_qty)
        return self.max_qty

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """Round down to the step size (never up past what was asked): ``round_to_step``."""
        return round_to_step(quantity, self.step_size)

    def round_price(self, price: Decimal, side: Side) -> Decimal:
        """Round to the tick, passively: buys down, sells up."""
        if self.tick_size <= 0:
            return price
        rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
        return (price / self.tick_size).to_integral_value(rounding) * self.tick_size

    def price_band(self, side: Side | None) -> tuple[Decimal, Decimal]:
        """(down, up) multipliers of the average price for ``side``; None: either side's."""
        if side is Side.BUY:
            return self.bid_multiplier_down, self.bid_multiplier_up
        if side is Side.SELL:
            return self.ask_multiplier_down, self.ask_multiplier_up
        ups = (self.bid_multiplier_up, self.ask_multiplier_up)
        return (min(self.bid_multiplier_down, self.ask_multiplier_down),
                _ZERO if _ZERO in ups else max(ups))

    def check(
        self,
        order_type: OrderType,
        quantity: Decimal,
        price: Decimal | None,
        reference: Decimal,
        *,
        side: Side | None = None,
        avg_price: Decimal | None = None,
        open_orders: int | None = None,
    ) -> FilterViolation | None:
        """The first rule a new order breaks, as Binance would answer it, or None.

        ``avg_price`` is Binance's average price (GET /api/v3/avgPrice), the basis of the
        percent-price band and of a MARKET order's notional; when None, ``reference`` (the
        mid) stands in, and when that is not positive either those two checks are skipped.
        ``side`` None allows a price inside either side's band. ``open_orders`` (the symbol's
        working orders) is checked against MAX_NUM_ORDERS when given.
        """
        if self.status != TRADING:
            return FilterViolation("SYMBOL_STATUS", -1013, "Market is closed.")
        if not self.spot_trading_allowed:
            return FilterViolation("PERMISSIONS", -2010,
                                   "This symbol is not permitted for this account.")
        if str(order_type) not in self.order_types:
            return FilterViolation("ORDER_TYPES", -1013, f"{_TYPE_NAMES[order_type]} orders are "
                                   "not supported for this symbol.")
        basis = avg_price if avg_price is not None else reference
        market = order_type is OrderType.MARKET
        violation = (self._lot_size(quantity, market) or self._price(price, side, basis, market)
                     or self._notional(quantity, price, basis, market))
        if violation is None and open_orders is not None and open_orders >= self.max_num_orders:
            violation = _failure("MAX_NUM_ORDERS")
        return violation

    def _lot_size(self, quantity: Decimal, market: bool) -> FilterViolation | None:
        # LOT_SIZE binds every order (Binance reports quote-quantity market orders failing its
        # minimum); MARKET_LOT_SIZE binds MARKET orders besides.
        if quantity <= 0 or _outside(quantity, self.min_qty, self.max_qty) \
                or _off_step(quantity, self.step_size):
            return _failure("LOT_SIZE")
        if market and (_outside(quantity, self.market_min_qty, self.market_max_qty)
                       or _off_step(quantity, self.market_step_size)):
            return _failure("MARKET_LOT_SIZE")
        return None

    def _price(self, price: Decimal | None, side: Side | None, basis: Decimal,
               market: bool) -> FilterViolation | None:
        if market or price is None:  # a MARKET order's price is never sent
            return None
        if price <= 0 or _outside(price, self.min_price, self.max_price) \
                or _off_step(price, self.tick_size):
            return _failure("PRICE_FILTER")
        down, up = self.price_band(side)
        if basis > 0 and _outside(price, basis * down, basis * up):
            return _failure(self.percent_price_filter)
        return None

    def _notional(self, quantity: Decimal, price: Decimal | None, basis: Decimal,
                  market: bool) -> FilterViolation | None:
        unit = basis if market or price is None else price
        if unit <= 0:  # no price known: Binance decides
            return None
        notional = quantity * unit
        check_min = self.apply_min_to_market or not market
        check_max = self.apply_max_to_market or not market
        if (check_min and self.min_notional > 0 and notional < self.min_notional) or (
                check_max and self.max_notional > 0 and notional > self.max_notional):
            return _failure("NOTIONAL")
        return None
