"""Small builders of TCA inputs for the tests (deterministic, explicit numbers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from oms.model.enums import Liquidity, Side
from oms.model.orders import Fill
from oms.tca.inputs import ChildLatencies, ParentExecution, SessionExecution, TargetPosition

T0 = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)


def D(value: str) -> Decimal:
    """Shorthand for Decimal(str)."""
    return Decimal(value)


def make_fill(
    n: int,
    *,
    price: str,
    quantity: str,
    fee: str,
    liquidity: Liquidity,
    mid: str | None,
    half_spread: str | None,
    side: Side = Side.BUY,
    parent_id: str = "p-1",
    symbol: str = "BTCUSDT",
    child: str | None = None,
    ts: datetime | None = None,
) -> Fill:
    """One fill; its child order id defaults to one child per fill."""
    return Fill(
        fill_id=f"f-{parent_id}-{n}",
        client_order_id=child or f"c-{parent_id}-{n}",
        parent_id=parent_id,
        symbol=symbol,
        side=side,
        price=D(price),
        quantity=D(quantity),
        fee=D(fee),
        liquidity=liquidity,
        ts=ts or T0 + timedelta(seconds=10 * n),
        venue="paper",
        mid_price=None if mid is None else D(mid),
        half_spread=None if half_spread is None else D(half_spread),
    )


def worked_fills(side: Side = Side.BUY) -> list[Fill]:
    """The worked example's three fills (prices as a buyer would pay them)."""
    return [
        make_fill(1, price="100.25", quantity="0.3", fee="0.03", liquidity=Liquidity.TAKER,
                  mid="100.20", half_spread="0.05", side=side),
        make_fill(2, price="100.15", quantity="0.3", fee="0.01", liquidity=Liquidity.MAKER,
                  mid="100.20", half_spread="0.05", side=side),
        make_fill(3, price="100.45", quantity="0.2", fee="0.02", liquidity=Liquidity.TAKER,
                  mid="100.35", half_spread="0.05", side=side),
    ]  # fmt: skip


def worked_parent(side: Side = Side.BUY, fills: list[Fill] | None = None) -> ParentExecution:
    """Q = 1, decision 100.00, arrival 100.10, end 100.50, 0.8 filled, market VWAP 100.20."""
    return ParentExecution(
        parent_id="p-1",
        symbol="BTCUSDT",
        side=side,
        algo="twap",
        algo_reason="small order, 30 min horizon",
        quantity=D("1"),
        filled_quantity=D("0.8"),
        decision_price=D("100.00"),
        arrival_price=D("100.10"),
        end_price=D("100.50"),
        decision_time=T0 - timedelta(seconds=5),
        start=T0,
        end=T0 + timedelta(minutes=30),
        fills=worked_fills(side) if fills is None else fills,
        child_count=3,
        child_latencies=ChildLatencies(ack_ms=(20.0, 30.0, 40.0),
                                       first_fill_ms=(50.0, 150.0, 250.0)),
        market_vwap=D("100.20"),
        market_twap=D("100.25"),
        market_volume=D("8"),
        state="CANCELED",
        end_reason="horizon reached",
    )  # fmt: skip


def session_of(*parents: ParentExecution, session_id: str = "s-1") -> SessionExecution:
    """A paper session holding ``parents`` with one target line and one risk violation."""
    return SessionExecution(
        session_id=session_id,
        venue="paper",
        started_at=T0 - timedelta(seconds=5),
        ended_at=T0 + timedelta(minutes=30),
        parents=parents,
        targets=[TargetPosition("BTCUSDT", D("100"), D("20"))],
        risk_violations=["MAX_ORDER_NOTIONAL: notional=6000, max=5000"],
        breakers_tripped=[],
        trading_state="ACTIVE",
    )
