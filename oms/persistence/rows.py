"""Mapping between domain objects and table rows (plain dicts for bulk statements), and the
JSON text of the values of JSON columns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from oms.model import (
    AlgoName,
    ChildOrder,
    ChildState,
    Fill,
    Liquidity,
    OrderType,
    ParentOrder,
    ParentState,
    Side,
    TimeInForce,
)
from oms.model.orders import FeePaidIn
from oms.persistence.json_codec import dumps
from oms.persistence.tables import ChildOrderRow, FillRow, ParentOrderRow

__all__ = [
    "JsonText",
    "child_from_row",
    "child_row",
    "child_update",
    "fill_from_row",
    "fill_row",
    "json_text",
    "parent_from_row",
    "parent_row",
    "parent_update",
]


@dataclass(slots=True)
class JsonText:
    """The value of a JSON column, already encoded: stored as this text, never encoded again."""

    text: str

    def value(self) -> Any:
        """The decoded value (for the statements that encode JSON themselves)."""
        return json.loads(self.text)


def json_text(value: Any) -> JsonText:
    """``value`` encoded once, with Decimals as text, datetimes as ISO-8601, enums as values."""
    return JsonText(dumps(value))


def parent_row(p: ParentOrder) -> dict[str, Any]:
    """All columns of a parent order."""
    return {
        "parent_id": p.parent_id, "session_id": p.session_id, "symbol": p.symbol,
        "side": p.side.value, "quantity": p.quantity, "algo": p.algo.value,
        "algo_reason": p.algo_reason, "algo_params": p.algo_params, "urgency": p.urgency,
        "duration_minutes": p.duration_minutes, "limit_price": p.limit_price,
        "created_at": p.created_at, "seed": p.seed, **parent_update(p),
    }


def parent_update(p: ParentOrder) -> dict[str, Any]:
    """The columns of a parent order that change after creation (primary key included)."""
    return {
        "parent_id": p.parent_id, "state": p.state.value, "filled_quantity": p.filled_quantity,
        "filled_notional": p.filled_notional, "fees": p.fees, "decision_price": p.decision_price,
        "arrival_price": p.arrival_price, "end_price": p.end_price, "started_at": p.started_at,
        "ended_at": p.ended_at, "end_reason": p.end_reason, "resumes": p.resumes,
        "resumed_at": p.resumed_at,
    }


def child_row(c: ChildOrder, tag: str = "") -> dict[str, Any]:
    """All columns of a child order."""
    return {
        "client_order_id": c.client_order_id, "parent_id": c.parent_id, "symbol": c.symbol,
        "side": c.side.value, "order_type": c.order_type.value,
        "time_in_force": c.time_in_force.value, "quantity": c.quantity,
        "limit_price": c.limit_price, "venue": c.venue, "tag": tag, "created_at": c.created_at,
        "intent_id": c.intent_id, **child_update(c),
    }


def child_update(c: ChildOrder) -> dict[str, Any]:
    """The columns of a child order that change after creation (primary key included)."""
    return {
        "client_order_id": c.client_order_id, "state": c.state.value,
        "filled_quantity": c.filled_quantity, "filled_notional": c.filled_notional,
        "fees": c.fees, "venue_order_id": c.venue_order_id, "reason": c.reason,
        "sent_at": c.sent_at, "acked_at": c.acked_at, "first_fill_at": c.first_fill_at,
        "updated_at": c.updated_at,
    }


def fill_row(f: Fill) -> dict[str, Any]:
    """All columns of a fill."""
    return {
        "fill_id": f.fill_id, "client_order_id": f.client_order_id, "parent_id": f.parent_id,
        "symbol": f.symbol, "side": f.side.value, "price": f.price, "quantity": f.quantity,
        "fee": f.fee, "liquidity": f.liquidity.value, "ts": f.ts, "venue": f.venue,
        "mid_price": f.mid_price, "half_spread": f.half_spread, "submitted_at": f.submitted_at,
        "fee_asset": f.fee_asset, "fee_quantity": f.fee_quantity, "fee_price": f.fee_price,
        "fee_paid_in": f.fee_paid_in.value,
    }


def parent_from_row(r: ParentOrderRow) -> ParentOrder:
    """Rebuild a domain parent order from its row."""
    return ParentOrder(
        parent_id=r.parent_id, session_id=r.session_id, symbol=r.symbol, side=Side(r.side),
        quantity=r.quantity, algo=AlgoName(r.algo), created_at=r.created_at,
        duration_minutes=r.duration_minutes, urgency=r.urgency, algo_reason=r.algo_reason,
        algo_params=dict(r.algo_params), limit_price=r.limit_price, state=ParentState(r.state),
        filled_quantity=r.filled_quantity, filled_notional=r.filled_notional, fees=r.fees,
        decision_price=r.decision_price, arrival_price=r.arrival_price, end_price=r.end_price,
        started_at=r.started_at, ended_at=r.ended_at, end_reason=r.end_reason, seed=r.seed,
        resumes=r.resumes or 0, resumed_at=r.resumed_at,
    )


def child_from_row(r: ChildOrderRow) -> ChildOrder:
    """Rebuild a domain child order from its row."""
    return ChildOrder(
        client_order_id=r.client_order_id, parent_id=r.parent_id, symbol=r.symbol,
        side=Side(r.side), quantity=r.quantity, order_type=OrderType(r.order_type),
        created_at=r.created_at, venue=r.venue, limit_price=r.limit_price,
        time_in_force=TimeInForce(r.time_in_force), state=ChildState(r.state),
        filled_quantity=r.filled_quantity, filled_notional=r.filled_notional, fees=r.fees,
        venue_order_id=r.venue_order_id, reason=r.reason, sent_at=r.sent_at,
        acked_at=r.acked_at, first_fill_at=r.first_fill_at, updated_at=r.updated_at,
        intent_id=r.intent_id,
    )


def fill_from_row(r: FillRow) -> Fill:
    """Rebuild a domain fill from its row."""
    return Fill(
        fill_id=r.fill_id, client_order_id=r.client_order_id, parent_id=r.parent_id,
        symbol=r.symbol, side=Side(r.side), price=r.price, quantity=r.quantity, fee=r.fee,
        liquidity=Liquidity(r.liquidity), ts=r.ts, venue=r.venue, mid_price=r.mid_price,
        half_spread=r.half_spread, submitted_at=r.submitted_at, fee_asset=r.fee_asset,
        fee_quantity=r.fee_quantity, fee_price=r.fee_price,
        fee_paid_in=FeePaidIn(r.fee_paid_in or FeePaidIn.QUOTE.value),
    )


def as_decimal(value: Any) -> Decimal:
    """Coerce a numeric column value to Decimal."""
    return value if isinstance(value, Decimal) else Decimal(str(value))
