"""Parent orders, child orders and fills: the mutable domain objects owned by the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from oms.errors import InvalidTransition
from oms.model.enums import (
    AlgoName,
    ChildState,
    Liquidity,
    OrderType,
    ParentState,
    Side,
    TimeInForce,
)
from oms.model.transitions import check_child, check_parent

__all__ = ["ZERO", "ChildOrder", "FeePaidIn", "Fill", "ParentOrder"]

ZERO = Decimal(0)


class FeePaidIn(StrEnum):
    """Which of its assets a fill's commission was taken from; decides what the fee moves."""

    QUOTE = "quote"  # the quote asset (USDT of BTCUSDT): charged to cash
    BASE = "base"  # the base asset (BTC of BTCUSDT): the position moves by less, cash untouched
    OTHER = "other"  # a third asset (BNB): neither cash nor the position; its value is a cost


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of (part of) a child order, as reported by the venue.

    ``fee`` is the commission valued in the quote asset (what TCA and P&L count). The venue's
    own record of it is ``fee_quantity`` of ``fee_asset`` (None on the paper venue: quote asset),
    valued at ``fee_price`` quote per unit (1 for the quote asset, the fill price for the base
    asset, the fee asset's market price at the fill time for BNB). A commission in a third asset
    whose price could not be found has ``fee`` 0 and ``fee_price`` None: ``fee_valued`` is False.
    """

    fill_id: str
    client_order_id: str
    parent_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal  # valued in the quote asset (0 when not valued: see fee_valued)
    liquidity: Liquidity
    ts: datetime
    venue: str
    mid_price: Decimal | None = None  # market mid when the fill happened (for TCA)
    half_spread: Decimal | None = None  # (ask - bid) / 2 when the fill happened (for TCA)
    submitted_at: datetime | None = None  # when its child order was sent (latency measures)
    fee_asset: str | None = None  # the asset the commission was paid in (None: quote asset)
    fee_quantity: Decimal | None = None  # the commission in fee_asset, as the venue reported it
    fee_price: Decimal | None = None  # quote per unit of fee_asset behind ``fee`` (None: unvalued)
    fee_paid_in: FeePaidIn = FeePaidIn.QUOTE

    @property
    def notional(self) -> Decimal:
        """price * quantity in the quote asset."""
        return self.price * self.quantity

    @property
    def base_fee(self) -> Decimal:
        """The commission taken from the base asset (0 unless ``fee_paid_in`` is BASE)."""
        if self.fee_paid_in is FeePaidIn.BASE and self.fee_quantity is not None:
            return self.fee_quantity
        return ZERO

    @property
    def fee_valued(self) -> bool:
        """False for a commission in a third asset that could not be priced (``fee`` is 0 then,
        an understatement the dashboard and audit should show)."""
        return not (self.fee_paid_in is FeePaidIn.OTHER and self.fee_price is None
                    and bool(self.fee_quantity))


class _Filled:
    """What an order with ``quantity``, ``filled_quantity`` and ``filled_notional`` derives."""

    __slots__ = ()
    quantity: Decimal
    filled_quantity: Decimal
    filled_notional: Decimal

    @property
    def remaining(self) -> Decimal:
        """Quantity not yet filled."""
        return self.quantity - self.filled_quantity

    @property
    def avg_price(self) -> Decimal | None:
        """Average fill price, or None before any fill."""
        return self.filled_notional / self.filled_quantity if self.filled_quantity else None


@dataclass(slots=True)
class ChildOrder(_Filled):
    """An order sent (or about to be sent) to a venue on behalf of a parent."""

    client_order_id: str
    parent_id: str
    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    created_at: datetime
    venue: str
    limit_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    state: ChildState = ChildState.PENDING_NEW
    filled_quantity: Decimal = ZERO
    filled_notional: Decimal = ZERO
    fees: Decimal = ZERO
    venue_order_id: str | None = None
    reason: str | None = None  # reject / deny / cancel reason
    sent_at: datetime | None = None
    acked_at: datetime | None = None
    first_fill_at: datetime | None = None
    updated_at: datetime | None = None
    fill_ids: set[str] = field(default_factory=set)
    intent_id: str | None = None  # the algorithm's ChildIntent.intent_id this child answers

    def transition(self, target: ChildState, ts: datetime, reason: str | None = None) -> None:
        """Move to ``target`` or raise InvalidTransition leaving the order unchanged."""
        check_child(self.state, target, self.client_order_id)
        self.state = target
        self.updated_at = ts
        if reason is not None:
            self.reason = reason

    def apply_fill(self, fill: Fill) -> bool:
        """Add a fill; return False if this fill id was already applied (idempotent).

        Raises InvalidTransition (order unchanged) if the fill would exceed the quantity or the
        order can no longer fill.
        """
        if fill.fill_id in self.fill_ids:
            return False
        new_filled = self.filled_quantity + fill.quantity
        if fill.quantity <= 0 or new_filled > self.quantity:
            raise InvalidTransition(
                f"child {self.client_order_id}: fill of {fill.quantity} would make "
                f"filled={new_filled} exceed quantity={self.quantity}"
            )
        target = ChildState.FILLED if new_filled == self.quantity else ChildState.PARTIALLY_FILLED
        if self.state is ChildState.PENDING_CANCEL and target is ChildState.PARTIALLY_FILLED:
            target = ChildState.PENDING_CANCEL  # still waiting for the cancel confirmation
        if target is not self.state or target is ChildState.PARTIALLY_FILLED:
            check_child(self.state, target, self.client_order_id)
        self.state = target
        self.filled_quantity = new_filled
        self.filled_notional += fill.notional
        self.fees += fill.fee
        self.fill_ids.add(fill.fill_id)
        self.updated_at = fill.ts
        if self.first_fill_at is None:
            self.first_fill_at = fill.ts
        return True


@dataclass(slots=True)
class ParentOrder(_Filled):
    """What the trader asked for on one symbol; executed through child orders by an algorithm."""

    parent_id: str
    session_id: str
    symbol: str
    side: Side
    quantity: Decimal
    algo: AlgoName
    created_at: datetime
    duration_minutes: float
    urgency: float = 0.5
    algo_reason: str = ""
    algo_params: dict[str, Any] = field(default_factory=dict)
    limit_price: Decimal | None = None
    state: ParentState = ParentState.PENDING
    filled_quantity: Decimal = ZERO
    filled_notional: Decimal = ZERO
    fees: Decimal = ZERO
    decision_price: Decimal | None = None
    arrival_price: Decimal | None = None
    end_price: Decimal | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    child_ids: list[str] = field(default_factory=list)
    seed: int | None = None  # its algorithm's seed, kept so a restart rebuilds the same algorithm
    resumes: int = 0  # engine restarts it continued through
    resumed_at: datetime | None = None

    @property
    def progress(self) -> float:
        """Filled share of the quantity, 0..1."""
        return float(self.filled_quantity / self.quantity) if self.quantity else 0.0

    def transition(self, target: ParentState, ts: datetime, reason: str | None = None) -> None:
        """Move to ``target`` or raise InvalidTransition leaving the order unchanged."""
        check_parent(self.state, target, self.parent_id)
        self.state = target
        if target is ParentState.WORKING and self.started_at is None:
            self.started_at = ts
        if target.is_terminal:
            self.ended_at = ts
            self.end_reason = reason
        elif reason is not None:
            self.end_reason = reason

    def record_fill(self, fill: Fill) -> None:
        """Add a child's fill to the parent's totals (the engine calls it for every child fill)."""
        if self.filled_quantity + fill.quantity > self.quantity:
            raise InvalidTransition(
                f"parent {self.parent_id}: fill of {fill.quantity} would overfill "
                f"{self.filled_quantity}/{self.quantity}"
            )
        self.filled_quantity += fill.quantity
        self.filled_notional += fill.notional
        self.fees += fill.fee
