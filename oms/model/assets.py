"""Spot symbols as two assets: the base (what is bought) and the quote (what pays for it)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from oms.model.portfolio import Account

__all__ = ["QUOTE_ASSETS", "account_balances", "split_symbol"]

# Binance spot quote assets, longest first where one is the tail of another ("FDUSD" before
# "USD..."-like tails); the split is by suffix when exchangeInfo did not say.
QUOTE_ASSETS: tuple[str, ...] = (
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "EUR", "TRY", "BRL", "JPY", "DAI",
    "BTC", "ETH", "BNB",
)


def split_symbol(symbol: str) -> tuple[str, str]:
    """(base, quote) of a spot symbol by its quote suffix: ``"ETHBTC"`` -> ``("ETH", "BTC")``.

    Raises ValueError for a symbol that ends in no known quote asset.
    """
    upper = symbol.upper()
    for quote in QUOTE_ASSETS:
        if upper.endswith(quote) and len(upper) > len(quote):
            return upper[: -len(quote)], quote
    raise ValueError(f"{symbol}: no known quote asset ({', '.join(QUOTE_ASSETS)})")


def account_balances(
    account: Account,
    quote_asset: str,
    assets_of: Callable[[str], tuple[str, str]] = split_symbol,
) -> dict[str, Decimal]:
    """Per-asset totals an Account implies: its cash in ``quote_asset``, each position in its
    base asset (``assets_of(symbol)`` -> (base, quote), e.g. ``venue.filters(s).assets``)."""
    totals: dict[str, Decimal] = {quote_asset: account.cash}
    for symbol, position in account.positions.items():
        base, _quote = assets_of(symbol)
        totals[base] = totals.get(base, Decimal(0)) + position.quantity
    return totals
