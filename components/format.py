"""Number and time formatting for the dashboard: prices, quantities, USD, bps, percentages."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

__all__ = ["fmt_bps", "fmt_datetime", "fmt_pct", "fmt_price", "fmt_qty", "fmt_time", "fmt_usd",
           "to_float"]

Number = Decimal | float | int | str | None


def to_float(value: Number) -> float | None:
    """``value`` as a finite float, or None (None, text that is not a number, NaN, infinity)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_usd(value: Number, *, signed: bool = False, decimals: int = 2) -> str:
    """``12,345.67`` (``+12.30`` when ``signed``); an em dash when unknown."""
    number = to_float(value)
    if number is None:
        return "—"
    sign = "+" if signed and number > 0 else ""
    return f"{sign}{number:,.{decimals}f}"


def fmt_price(value: Number) -> str:
    """A price with precision that suits its size (60,123.45 / 3,201.57 / 0.123456)."""
    number = to_float(value)
    if number is None:
        return "—"
    size = abs(number)
    decimals = 2 if size >= 1_000 else 3 if size >= 10 else 4 if size >= 1 else 6
    return f"{number:,.{decimals}f}"


def fmt_qty(value: Number) -> str:
    """A base-asset quantity: up to 6 decimals, trailing zeros removed."""
    number = to_float(value)
    if number is None:
        return "—"
    text = f"{number:,.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def fmt_bps(value: Number) -> str:
    """``+3.2 bps`` (positive = cost); an em dash when unknown."""
    number = to_float(value)
    if number is None:
        return "—"
    if abs(number) < 0.05:
        return "0.0 bps"
    return f"{number:+,.1f} bps"


def fmt_pct(value: Number, *, decimals: int = 0) -> str:
    """A fraction in [0, 1] as a percentage: ``0.42`` -> ``42%``."""
    number = to_float(value)
    if number is None:
        return "—"
    return f"{number * 100:.{decimals}f}%"


def _utc(value: datetime | str) -> datetime | str:
    """``value`` as an aware UTC datetime (naive means UTC here), or the text it was."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def fmt_time(value: datetime | str | None, *, seconds: bool = True) -> str:
    """UTC wall time ``HH:MM:SS`` of a datetime or ISO string; an em dash when unknown."""
    if value is None or value == "":
        return "—"
    utc = _utc(value)
    return utc if isinstance(utc, str) else utc.strftime("%H:%M:%S" if seconds else "%H:%M")


def fmt_datetime(value: datetime | str | None) -> str:
    """``2024-03-04 14:05:09 UTC``: date, time and zone, where a row may be days old (the
    blotters, the parent detail); an em dash when unknown."""
    if value is None or value == "":
        return "—"
    utc = _utc(value)
    return utc if isinstance(utc, str) else utc.strftime("%Y-%m-%d %H:%M:%S UTC")
