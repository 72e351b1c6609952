"""Targets in, parent orders out: parsing and validating targets, and the portfolio diff."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from oms.errors import FieldError, ValidationError
from oms.model.enums import Side

__all__ = ["PlannedParent", "RebalancePlan", "parse_targets_text", "plan_rebalance",
           "validate_targets"]

_SYMBOL = re.compile(r"^[A-Z0-9]{5,20}$")


@dataclass(frozen=True, slots=True)
class PlannedParent:
    """One parent order a rebalance will create."""

    symbol: str
    side: Side
    quantity: Decimal
    notional_usd: Decimal
    mid: Decimal
    current_usd: Decimal
    target_usd: Decimal


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    """The parents to create, and the symbols skipped with the reason."""

    parents: list[PlannedParent]
    skipped: list[tuple[str, str]]


def parse_targets_text(text: str) -> dict[str, object]:
    """Parse ``SYMBOL TARGET_USD`` lines (spaces, tabs, commas or semicolons between).

    Raises ValidationError naming each bad line; blank lines and ``#`` comments are ignored.
    """
    errors: list[FieldError] = []
    targets: dict[str, object] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p for p in re.split(r"[\s,;]+", line) if p]
        if len(parts) != 2:
            errors.append(FieldError(f"line {number}",
                                     f"expected 'SYMBOL TARGET_USD', got {raw!r}"))
            continue
        symbol, value = parts
        if symbol in targets:
            errors.append(FieldError(f"line {number}", f"duplicate symbol {symbol}"))
            continue
        targets[symbol] = value.replace("$", "").replace("_", "")
    if errors:
        raise ValidationError(errors)
    return targets


def validate_targets(targets: Mapping[str, object], allowed_symbols: Iterable[str],
                     max_target_usd: Decimal) -> dict[str, Decimal]:
    """Check symbols and values; return Decimal USD targets or raise ValidationError (all lines)."""
    allowed = set(allowed_symbols)
    errors: list[FieldError] = []
    clean: dict[str, Decimal] = {}
    if not targets:
        raise ValidationError(FieldError("targets", "no targets given"))
    for symbol, raw in targets.items():
        field = f"targets.{symbol}"
        if not isinstance(symbol, str) or not _SYMBOL.match(symbol):
            errors.append(FieldError(field,
                                     f"{symbol!r} is not a symbol (upper-case, e.g. BTCUSDT)"))
            continue
        if symbol not in allowed:
            errors.append(FieldError(field, f"unknown symbol {symbol}; allowed: "
                                            f"{', '.join(sorted(allowed))}"))
            continue
        if isinstance(raw, bool) or raw is None:
            errors.append(FieldError(field, f"target must be a number, got {raw!r}"))
            continue
        try:
            value = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            errors.append(FieldError(field, f"target must be a number, got {raw!r}"))
            continue
        if not value.is_finite():
            errors.append(FieldError(field, f"target must be finite, got {raw!r}"))
        elif value < 0:
            errors.append(FieldError(field, f"target must not be negative, got {value}"))
        elif value > max_target_usd:
            errors.append(FieldError(field, f"target {value} USD exceeds the maximum "
                                            f"{max_target_usd} USD"))
        else:
            clean[symbol] = value
    if errors:
        raise ValidationError(errors)
    return clean


def plan_rebalance(targets: Mapping[str, Decimal], positions: Mapping[str, Decimal],
                   mids: Mapping[str, Decimal], min_notional: Decimal,
                   step_sizes: Mapping[str, Decimal] | None = None) -> RebalancePlan:
    """One parent per symbol whose target differs from the position by at least ``min_notional``."""
    parents: list[PlannedParent] = []
    skipped: list[tuple[str, str]] = []
    for symbol, target in targets.items():
        mid = mids.get(symbol)
        if mid is None or mid <= 0:
            skipped.append((symbol, "no market price (market closed)"))
            continue
        current = positions.get(symbol, Decimal(0)) * mid
        diff = target - current
        if abs(diff) < min_notional:
            skipped.append((symbol, f"difference {abs(diff):.2f} USD is under the minimum notional "
                                    f"{min_notional} USD"))
            continue
        quantity = abs(diff) / mid
        step = (step_sizes or {}).get(symbol)
        if step:
            quantity = (quantity / step).to_integral_value(ROUND_DOWN) * step
        if quantity * mid < min_notional:
            skipped.append((symbol, "quantity rounds below the minimum notional"))
            continue
        parents.append(PlannedParent(symbol, Side.BUY if diff > 0 else Side.SELL, quantity,
                                     (quantity * mid).quantize(Decimal("0.01")), mid,
                                     current.quantize(Decimal("0.01")), target))
    return RebalancePlan(parents, skipped)
