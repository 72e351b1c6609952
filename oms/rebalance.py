"""Targets in, parent orders out: parsing and validating targets, and the portfolio diff."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from oms.errors import FieldError, ValidationError
from oms.model.enums import Side
from oms.model.filters import SymbolFilters, round_to_step

__all__ = ["ON_LIMIT", "PlanInputs", "PlanLimits", "PlannedParent", "RebalancePlan",
           "parse_targets_text", "plan_rebalance", "validate_targets"]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")
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
    clipped_from_usd: Decimal | None = None  # the asked target, when a limit clipped it


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """The limits a parent must respect at submit (from RiskLimits)."""

    max_position_usd: Decimal
    max_gross_exposure_usd: Decimal
    max_parent_notional_usd: Decimal


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything a rebalance plan depends on; the preview and the submit build it from the
    same engine state (the snapshot, or the engine itself), so they plan the same orders.

    ``positions`` are filled positions; ``in_flight`` the signed quantity that open children may
    still fill (buys positive) once the working parents of the targeted symbols are canceled;
    ``working`` the working parent ids per symbol that a new target supersedes.
    """

    positions: Mapping[str, Decimal]
    in_flight: Mapping[str, Decimal]
    mids: Mapping[str, Decimal]
    steps: Mapping[str, Decimal]
    min_notional: Decimal
    limits: PlanLimits
    working: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # the venue's rules per symbol: the preview's estimate slices and formats by them
    filters: Mapping[str, SymbolFilters] = field(default_factory=dict)

    def round_quantity(self, symbol: str, quantity: Decimal) -> Decimal:
        """``quantity`` rounded down by the venue's rules for ``symbol`` (the submit's rounding:
        both plan through ``plan_rebalance``, which calls this)."""
        rules = self.filters.get(symbol)
        if rules is not None:
            return rules.round_quantity(quantity)
        return round_to_step(quantity, self.steps.get(symbol))

    def held(self, symbol: str) -> Decimal:
        """What ``symbol`` holds once its open children are done: position plus in flight."""
        return self.positions.get(symbol, _ZERO) + self.in_flight.get(symbol, _ZERO)


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    """The parents to create, the symbols skipped with the reason, the working parents the
    plan supersedes, and the limit breaches that refuse it (empty when it may be sent)."""

    parents: list[PlannedParent]
    skipped: list[tuple[str, str]]
    superseded: list[str] = field(default_factory=list)
    breaches: list[FieldError] = field(default_factory=list)


ON_LIMIT = ("reject", "clip")


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
        raise ValidationError(FieldError(
            "targets", "no targets given: type one 'SYMBOL USD' line per symbol, "
                       "e.g. BTCUSDT 3000 (the grey text in an empty box is only an example)"))
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


def _usd(value: Decimal) -> Decimal:
    return value.quantize(_CENT)


def plan_rebalance(targets: Mapping[str, Decimal], inputs: PlanInputs, *,
                   on_limit: str = "reject") -> RebalancePlan:
    """One parent per symbol whose target differs from the position (plus what its open
    children may still fill) by at least ``min_notional``; quantities rounded down to the step.

    A target above the position limit, a parent above the parent notional limit, or targets
    whose gross exposure exceeds the exposure limit are breaches: with ``on_limit="reject"``
    the plan carries them (field errors with the numbers) and must not be sent; with ``"clip"``
    the targets are lowered to what the limits allow.
    """
    limits = inputs.limits
    clip = on_limit == "clip"
    breaches: list[FieldError] = []
    skipped: list[tuple[str, str]] = []
    effective: dict[str, tuple[Decimal, Decimal, Decimal]] = {}  # symbol -> (mid, current, target)
    asked: dict[str, Decimal] = {}
    for symbol, target in targets.items():
        mid = inputs.mids.get(symbol)
        if mid is None or mid <= 0:
            skipped.append((symbol, "no market price (market closed)"))
            continue
        current = inputs.held(symbol) * mid
        allowed = target
        if target > limits.max_position_usd:
            if clip:
                allowed = limits.max_position_usd
            else:
                breaches.append(FieldError(f"targets.{symbol}", (
                    f"POSITION_LIMIT: target {_usd(target)} USD exceeds the position limit "
                    f"{limits.max_position_usd} USD")))
        change = abs(allowed - current)
        if change > limits.max_parent_notional_usd:
            if clip:
                step = limits.max_parent_notional_usd
                allowed = current + step if allowed > current else current - step
            else:
                breaches.append(FieldError(f"targets.{symbol}", (
                    f"FAT_FINGER: the order of {_usd(change)} USD exceeds the parent notional "
                    f"limit {limits.max_parent_notional_usd} USD")))
        asked[symbol] = target
        effective[symbol] = (mid, current, allowed)
    gross = _gross_after(effective, inputs)
    if gross > limits.max_gross_exposure_usd:
        if clip:
            _clip_gross(effective, gross - limits.max_gross_exposure_usd)
        else:
            breaches.append(FieldError("targets", (
                f"GROSS_EXPOSURE: the targets make a gross exposure of {_usd(gross)} USD, over "
                f"the limit {limits.max_gross_exposure_usd} USD")))
    parents: list[PlannedParent] = []
    for symbol, (mid, current, target) in effective.items():
        diff = target - current
        if abs(diff) < inputs.min_notional:
            skipped.append((symbol, f"difference {abs(diff):.2f} USD is under the minimum notional "
                                    f"{inputs.min_notional} USD"))
            continue
        quantity = inputs.round_quantity(symbol, abs(diff) / mid)
        if quantity * mid < inputs.min_notional:
            skipped.append((symbol, "quantity rounds below the minimum notional"))
            continue
        clipped = asked[symbol] if target != asked[symbol] else None
        parents.append(PlannedParent(symbol, Side.BUY if diff > 0 else Side.SELL, quantity,
                                     _usd(quantity * mid), mid, _usd(current), target, clipped))
    superseded = [pid for symbol in targets for pid in inputs.working.get(symbol, ())]
    return RebalancePlan(parents, skipped, superseded, breaches)


def _gross_after(effective: Mapping[str, tuple[Decimal, Decimal, Decimal]],
                 inputs: PlanInputs) -> Decimal:
    """Gross exposure once the plan completes: targeted symbols at their target, the others at
    their position plus what their open children may fill."""
    gross = sum((abs(target) for _, _, target in effective.values()), _ZERO)
    held = set(inputs.positions) | set(inputs.in_flight)
    for symbol in held - set(effective):
        mid = inputs.mids.get(symbol)
        if mid is not None:
            gross += abs(inputs.held(symbol) * mid)
    return gross


def _clip_gross(effective: dict[str, tuple[Decimal, Decimal, Decimal]], excess: Decimal) -> None:
    """Lower the increasing targets (in the order given) until ``excess`` is gone."""
    for symbol, (mid, current, target) in list(effective.items()):
        if excess <= 0:
            return
        increase = target - max(current, _ZERO)
        if increase <= 0:
            continue
        cut = min(increase, excess)
        effective[symbol] = (mid, current, target - cut)
        excess -= cut
