"""Exchange symbol filters (Binance exchangeInfo): rounding and validation of child orders."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

from oms.model.assets import split_symbol
from oms.model.enums import OrderType, Side

__all__ = ["FilterViolation", "SymbolFilters", "filters_from_exchange_info", "load_exchange_info"]


@dataclass(frozen=True, slots=True)
class FilterViolation:
    """Why an order fails an exchange filter, with Binance's code and message."""

    filter: str
    code: int
    message: str

    def __str__(self) -> str:
        return f"{self.code} {self.message}"


@dataclass(frozen=True, slots=True)
class SymbolFilters:
    """The trading rules of one symbol."""

    symbol: str
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    min_notional: Decimal = Decimal("5")
    max_notional: Decimal = Decimal("9000000")
    percent_up: Decimal = Decimal("5")
    percent_down: Decimal = Decimal("0.2")
    max_num_orders: int = 200
    base_asset: str = ""  # from exchangeInfo; empty: split the symbol by its quote suffix
    quote_asset: str = "USDT"

    def assets(self) -> tuple[str, str]:
        """(base, quote) of the symbol: as exchangeInfo gave them, else by the quote suffix."""
        if self.base_asset:
            return self.base_asset, self.quote_asset
        return split_symbol(self.symbol)

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """Round down to the step size (never up past what was asked)."""
        if quantity <= 0:
            return Decimal(0)
        return (quantity / self.step_size).to_integral_value(ROUND_DOWN) * self.step_size

    def round_price(self, price: Decimal, side: Side) -> Decimal:
        """Round to the tick, passively: buys down, sells up."""
        rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
        return (price / self.tick_size).to_integral_value(rounding) * self.tick_size

    def check(
        self, order_type: OrderType, quantity: Decimal, price: Decimal | None, reference: Decimal
    ) -> FilterViolation | None:
        """Validate an order; ``reference`` is the mid for the notional and percent-price checks."""
        if quantity < self.min_qty or quantity > self.max_qty:
            return FilterViolation("LOT_SIZE", -1013, "Filter failure: LOT_SIZE")
        if (quantity % self.step_size) != 0:
            return FilterViolation("LOT_SIZE", -1013, "Filter failure: LOT_SIZE")
        if price is not None:
            if price < self.min_price or price > self.max_price or price % self.tick_size != 0:
                return FilterViolation("PRICE_FILTER", -1013, "Filter failure: PRICE_FILTER")
            if reference > 0 and (
                price > reference * self.percent_up or price < reference * self.percent_down
            ):
                return FilterViolation(
                    "PERCENT_PRICE_BY_SIDE", -1013, "Filter failure: PERCENT_PRICE_BY_SIDE"
                )
        notional = quantity * (price if price is not None else reference)
        if notional < self.min_notional:
            return FilterViolation("NOTIONAL", -1013, "Filter failure: NOTIONAL")
        if notional > self.max_notional:
            return FilterViolation("NOTIONAL", -1013, "Filter failure: NOTIONAL")
        return None


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def filters_from_exchange_info(info: dict[str, Any], symbol: str) -> SymbolFilters:
    """Build SymbolFilters for ``symbol`` from an /api/v3/exchangeInfo response."""
    for entry in info.get("symbols", []):
        if entry.get("symbol") == symbol:
            break
    else:
        raise KeyError(f"symbol {symbol} not in exchangeInfo")
    kwargs: dict[str, Any] = {
        "symbol": symbol,
        "base_asset": entry.get("baseAsset", ""),
        "quote_asset": entry.get("quoteAsset", "USDT"),
    }
    for flt in entry.get("filters", []):
        kind = flt.get("filterType")
        if kind == "PRICE_FILTER":
            kwargs.update(tick_size=_dec(flt["tickSize"]).normalize(),
                          min_price=_dec(flt["minPrice"]), max_price=_dec(flt["maxPrice"]))
        elif kind == "LOT_SIZE":
            kwargs.update(step_size=_dec(flt["stepSize"]).normalize(),
                          min_qty=_dec(flt["minQty"]), max_qty=_dec(flt["maxQty"]))
        elif kind == "MIN_NOTIONAL":
            kwargs["min_notional"] = _dec(flt["minNotional"])
        elif kind == "NOTIONAL":
            kwargs["min_notional"] = _dec(flt["minNotional"])
            if "maxNotional" in flt:
                kwargs["max_notional"] = _dec(flt["maxNotional"])
        elif kind == "PERCENT_PRICE":
            kwargs.update(percent_up=_dec(flt["multiplierUp"]),
                          percent_down=_dec(flt["multiplierDown"]))
        elif kind == "PERCENT_PRICE_BY_SIDE":
            kwargs.update(percent_up=_dec(flt["bidMultiplierUp"]),
                          percent_down=_dec(flt["askMultiplierDown"]))
        elif kind == "MAX_NUM_ORDERS":
            kwargs["max_num_orders"] = int(flt.get("maxNumOrders", flt.get("limit", 200)))
    return SymbolFilters(**kwargs)


def load_exchange_info(path: Path) -> dict[str, Any]:
    """Read an exchangeInfo JSON file."""
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data
