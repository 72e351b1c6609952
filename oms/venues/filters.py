"""Binance exchangeInfo -> SymbolFilters (the rules themselves live in ``oms.model.filters``)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from oms.model.filters import TRADING, FilterViolation, SymbolFilters

__all__ = ["FilterViolation", "SymbolFilters", "filters_from_exchange_info", "load_exchange_info"]

_ZERO = Decimal(0)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _spot_permitted(entry: dict[str, Any]) -> bool:
    """isSpotTradingAllowed, and SPOT among the permissions.

    ``permissions`` (before 2024) is a flat list; ``permissionSets`` is a list of sets that must
    all be met, each by any one of its permissions: a spot account meets a set holding SPOT.
    """
    allowed = bool(entry.get("isSpotTradingAllowed", True))
    permissions = entry.get("permissions") or []
    if permissions:
        allowed = allowed and "SPOT" in permissions
    permission_sets = entry.get("permissionSets") or []
    if permission_sets:
        allowed = allowed and all("SPOT" in group for group in permission_sets)
    return allowed


def _filter_fields(flt: dict[str, Any]) -> dict[str, Any]:
    """SymbolFilters fields from one exchangeInfo filter (unknown kinds give none)."""
    kind = flt.get("filterType")
    fields: dict[str, Any] = {}
    if "avgPriceMins" in flt:
        fields["avg_price_mins"] = int(flt["avgPriceMins"])
    if kind == "PRICE_FILTER":
        fields.update(tick_size=_dec(flt["tickSize"]).normalize(),
                      min_price=_dec(flt["minPrice"]), max_price=_dec(flt["maxPrice"]))
    elif kind == "LOT_SIZE":
        fields.update(step_size=_dec(flt["stepSize"]).normalize(),
                      min_qty=_dec(flt["minQty"]), max_qty=_dec(flt["maxQty"]))
    elif kind == "MARKET_LOT_SIZE":
        fields.update(market_step_size=_dec(flt["stepSize"]).normalize(),
                      market_min_qty=_dec(flt["minQty"]), market_max_qty=_dec(flt["maxQty"]))
    elif kind == "MIN_NOTIONAL":
        fields.update(min_notional=_dec(flt["minNotional"]),
                      max_notional=_ZERO, apply_min_to_market=bool(flt.get("applyToMarket", True)),
                      apply_max_to_market=False)
    elif kind == "NOTIONAL":
        fields.update(min_notional=_dec(flt["minNotional"]),
                      max_notional=_dec(flt.get("maxNotional", 0)),
                      apply_min_to_market=bool(flt.get("applyMinToMarket", True)),
                      apply_max_to_market=bool(flt.get("applyMaxToMarket", False)))
    elif kind == "PERCENT_PRICE":
        up, down = _dec(flt["multiplierUp"]), _dec(flt["multiplierDown"])
        fields.update(percent_price_filter=kind, bid_multiplier_up=up, ask_multiplier_up=up,
                      bid_multiplier_down=down, ask_multiplier_down=down)
    elif kind == "PERCENT_PRICE_BY_SIDE":
        fields.update(percent_price_filter=kind,
                      bid_multiplier_up=_dec(flt["bidMultiplierUp"]),
                      bid_multiplier_down=_dec(flt["bidMultiplierDown"]),
                      ask_multiplier_up=_dec(flt["askMultiplierUp"]),
                      ask_multiplier_down=_dec(flt["askMultiplierDown"]))
    elif kind == "MAX_NUM_ORDERS":
        fields["max_num_orders"] = int(flt.get("maxNumOrders", flt.get("limit", 200)))
    elif kind == "MAX_NUM_ALGO_ORDERS":
        fields["max_num_algo_orders"] = int(flt.get("maxNumAlgoOrders", flt.get("limit", 5)))
    return fields


def filters_from_exchange_info(info: dict[str, Any], symbol: str) -> SymbolFilters:
    """Build SymbolFilters for ``symbol`` from an /api/v3/exchangeInfo response.

    A filter the symbol does not list is not enforced (no notional or percent-price bounds);
    the status, spot permission and order types come along, so an hourly refresh shows a BREAK.
    """
    for entry in info.get("symbols", []):
        if entry.get("symbol") == symbol:
            break
    else:
        raise KeyError(f"symbol {symbol} not in exchangeInfo")
    kwargs: dict[str, Any] = {
        "symbol": symbol,
        "base_asset": entry.get("baseAsset", ""),
        "quote_asset": entry.get("quoteAsset", "USDT"),
        "status": str(entry.get("status", TRADING)),
        "spot_trading_allowed": _spot_permitted(entry),
        "min_notional": _ZERO, "max_notional": _ZERO,
        "bid_multiplier_up": _ZERO, "bid_multiplier_down": _ZERO,
        "ask_multiplier_up": _ZERO, "ask_multiplier_down": _ZERO,
    }
    if "orderTypes" in entry:
        kwargs["order_types"] = frozenset(str(t) for t in entry["orderTypes"])
    for flt in entry.get("filters", []):
        kwargs.update(_filter_fields(flt))
    return SymbolFilters(**kwargs)


def load_exchange_info(path: Path) -> dict[str, Any]:
    """Read an exchangeInfo JSON file."""
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data
