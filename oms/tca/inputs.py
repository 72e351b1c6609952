"""TCA inputs: frozen snapshots of what one session executed, independent of the engine.

The engine (or a backtest) builds them from its own objects; ``parent_execution`` does that from
the domain model (ParentOrder, its ChildOrders and Fills) plus the market's window benchmarks.
Every TCA function takes these and nothing else, so TCA is pure and testable alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from oms.errors import FieldError, ValidationError
from oms.model.enums import Side
from oms.model.orders import ChildOrder, Fill, ParentOrder
from oms.tca.intervals import MarketWindow

__all__ = [
    "ChildLatencies",
    "ParentExecution",
    "SessionExecution",
    "TargetPosition",
    "VenueChildren",
    "parent_execution",
    "venue_children",
]

Number = Decimal | float


def _ms(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() * 1000.0


def _require_aware(owner: str, **values: datetime | None) -> None:
    errors = [
        FieldError(f"{owner}.{name}", "must be timezone-aware (UTC)")
        for name, value in values.items()
        if value is not None and value.tzinfo is None
    ]
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True, slots=True)
class ChildLatencies:
    """Child order latencies in milliseconds: submit to venue ack, submit to first fill."""

    ack_ms: tuple[float, ...] = ()
    first_fill_ms: tuple[float, ...] = ()

    @classmethod
    def from_children(cls, children: Sequence[ChildOrder]) -> ChildLatencies:
        """Latencies of the children that were sent (``sent_at``) and then acked / filled."""
        ack = (_ms(c.sent_at, c.acked_at) for c in children)
        fill = (_ms(c.sent_at, c.first_fill_at) for c in children)
        return cls(
            ack_ms=tuple(v for v in ack if v is not None),
            first_fill_ms=tuple(v for v in fill if v is not None),
        )


@dataclass(frozen=True, slots=True)
class VenueChildren:
    """What one parent's children asked of one venue."""

    venue: str
    children: int
    sent_quantity: Decimal
    ack_ms: tuple[float, ...] = ()


def venue_children(children: Sequence[ChildOrder]) -> tuple[VenueChildren, ...]:
    """The children that were sent, grouped by venue (in order of first use)."""
    grouped: dict[str, list[ChildOrder]] = {}
    for child in children:
        if child.sent_at is not None:
            grouped.setdefault(child.venue, []).append(child)
    return tuple(
        VenueChildren(venue, len(sent), sum((c.quantity for c in sent), Decimal(0)),
                      tuple(v for v in (_ms(c.sent_at, c.acked_at) for c in sent)
                            if v is not None))
        for venue, sent in grouped.items())


@dataclass(frozen=True, slots=True)
class ParentExecution:
    """One parent order as executed: its prices, window, fills and the market over its window.

    Prices are mids: ``decision_price`` when the trader submitted, ``arrival_price`` when the
    parent started working, ``end_price`` when it ended. Any of them may be None; TCA then falls
    back (decision -> arrival -> first fill's mid or price; end -> last fill's mid or price ->
    arrival). ``filled_quantity`` None means "the sum of the fills" (the domain invariant); the
    TCA always uses the sum of ``fills``. ``market_*`` cover [start, end) (base-asset volume).

    ``unimpacted_mids`` (empty, or one per fill) is the mid each fill would have seen without our
    own flow, and ``impact_source`` says where it comes from (oms.tca.own_impact): "simulator"
    (the simulated market's unperturbed path), "model" (the venue's impact law replayed over our
    fills) or "none" (not known: our own mid impact then counts as timing).
    """

    parent_id: str
    symbol: str
    side: Side
    algo: str
    quantity: Decimal
    fills: Sequence[Fill] = ()
    algo_reason: str = ""
    filled_quantity: Decimal | None = None
    decision_price: Decimal | None = None
    arrival_price: Decimal | None = None
    end_price: Decimal | None = None
    start: datetime | None = None
    end: datetime | None = None
    decision_time: datetime | None = None
    child_count: int = 0
    child_latencies: ChildLatencies = field(default_factory=ChildLatencies)
    market_vwap: Number | None = None
    market_twap: Number | None = None
    market_volume: Number | None = None
    state: str = ""
    end_reason: str = ""
    unimpacted_mids: Sequence[Decimal | None] = ()
    impact_source: str = "none"
    venue_children: Sequence[VenueChildren] = ()  # the sent children per venue (TCA by venue)

    def __post_init__(self) -> None:
        if self.unimpacted_mids and len(self.unimpacted_mids) != len(self.fills):
            raise ValidationError(FieldError(
                f"parent {self.parent_id}.unimpacted_mids",
                f"must hold one mid per fill ({len(self.fills)}), got {len(self.unimpacted_mids)}"))
        if self.quantity <= 0:
            raise ValidationError(
                FieldError(f"parent {self.parent_id}.quantity", f"must be > 0, got {self.quantity}")
            )
        _require_aware(
            f"parent {self.parent_id}",
            start=self.start,
            end=self.end,
            decision_time=self.decision_time,
        )


class TargetPosition(NamedTuple):
    """One line of the target portfolio: what the trader wants and what was held (USD)."""

    symbol: str
    target_usd: Decimal
    current_usd: Decimal


@dataclass(frozen=True, slots=True)
class SessionExecution:
    """One execution session (a rebalance, a signal or a backtest) and everything it executed.

    ``execution_time_ms`` None means ``ended_at - started_at``.
    """

    session_id: str
    venue: str
    started_at: datetime
    ended_at: datetime
    parents: Sequence[ParentExecution] = ()
    targets: Sequence[TargetPosition] = ()
    risk_violations: Sequence[str] = ()
    breakers_tripped: Sequence[str] = ()
    trading_state: str = "ACTIVE"
    execution_time_ms: float | None = None

    def __post_init__(self) -> None:
        _require_aware(
            f"session {self.session_id}", started_at=self.started_at, ended_at=self.ended_at
        )

    @property
    def duration_ms(self) -> float:
        """The execution time in milliseconds (given, or end minus start)."""
        if self.execution_time_ms is not None:
            return float(self.execution_time_ms)
        return (self.ended_at - self.started_at).total_seconds() * 1000.0


def parent_execution(
    parent: ParentOrder,
    children: Sequence[ChildOrder],
    fills: Sequence[Fill],
    *,
    market: MarketWindow | None = None,
    end: datetime | None = None,
    unimpacted_mids: Sequence[Decimal | None] = (),
    impact_source: str = "none",
) -> ParentExecution:
    """Snapshot a domain ParentOrder with its children and fills for TCA.

    ``market`` holds the window's VWAP/TWAP/volume (``MarketWindow.from_bars(bars)`` or built from
    MarketData.vwap/traded_volume); ``end`` overrides ``parent.ended_at`` (e.g. "now" for a parent
    still working when the report is built); ``unimpacted_mids`` and ``impact_source`` as in
    ParentExecution (oms.tca.own_impact computes them).
    """
    window = market or MarketWindow()
    return ParentExecution(
        parent_id=parent.parent_id,
        symbol=parent.symbol,
        side=parent.side,
        algo=str(parent.algo),
        algo_reason=parent.algo_reason,
        quantity=parent.quantity,
        filled_quantity=parent.filled_quantity,
        decision_price=parent.decision_price,
        arrival_price=parent.arrival_price,
        end_price=parent.end_price,
        start=parent.started_at or parent.created_at,
        end=end or parent.ended_at,
        decision_time=parent.created_at,
        fills=tuple(fills),
        child_count=len(children),
        child_latencies=ChildLatencies.from_children(children),
        venue_children=venue_children(children),
        market_vwap=window.vwap,
        market_twap=window.twap,
        market_volume=window.volume,
        state=str(parent.state),
        end_reason=parent.end_reason or "",
        unimpacted_mids=tuple(unimpacted_mids),
        impact_source=impact_source,
    )
