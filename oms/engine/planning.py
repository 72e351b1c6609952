"""The inputs of a rebalance plan, built from the engine's state (see oms.rebalance)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from oms.config import Settings
from oms.engine.book import BookView
from oms.engine.quotes import QuoteBoard
from oms.model import Account
from oms.rebalance import PlanInputs, PlanLimits
from oms.venues.filters import SymbolFilters

__all__ = ["plan_inputs", "plan_limits"]

_ZERO = Decimal(0)


def plan_limits(settings: Settings) -> PlanLimits:
    """The limits every rebalance parent is held to at submit."""
    risk = settings.risk
    return PlanLimits(max_position_usd=risk.max_position_usd,
                      max_gross_exposure_usd=risk.max_gross_exposure_usd,
                      max_parent_notional_usd=risk.max_target_usd)


def plan_inputs(*, book: BookView, account: Account, quotes: QuoteBoard,
                filters: Callable[[str], SymbolFilters], settings: Settings,
                symbols: Iterable[str]) -> PlanInputs:
    """What a rebalance of ``symbols`` plans against, as of now."""
    traded = list(dict.fromkeys([*symbols, *account.positions]))
    in_flight: dict[str, Decimal] = {}
    for child in book.open_children.values():  # one pass: what open children may still fill
        in_flight[child.symbol] = in_flight.get(child.symbol, _ZERO) \
            + child.remaining * child.side.sign
    working: dict[str, list[str]] = {}
    for parent in book.parents.values():
        if not parent.state.is_terminal:
            working.setdefault(parent.symbol, []).append(parent.parent_id)
    rules = {s: filters(s) for s in traded}
    return PlanInputs(
        positions={s: p.quantity for s, p in account.positions.items() if p.quantity},
        in_flight={s: q for s, q in in_flight.items() if q},
        mids=quotes.mids(), steps={s: r.step_size for s, r in rules.items()},
        min_notional=settings.min_notional, limits=plan_limits(settings),
        working={s: tuple(ids) for s, ids in working.items()}, filters=rules)
