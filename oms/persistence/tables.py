"""SQLAlchemy 2.0 typed tables. Rows are storage records, never the domain objects themselves."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from oms.persistence.types import Money, UtcDateTime

__all__ = [
    "AuditRow",
    "Base",
    "ChildOrderRow",
    "EngineStateRow",
    "EquitySampleRow",
    "ExecutionReportRow",
    "FillRow",
    "PaperOrderRow",
    "PaperStateRow",
    "ParentEstimateRow",
    "ParentOrderRow",
    "RiskEventRow",
    "SessionRow",
]


class Base(DeclarativeBase):
    """Declarative base of all OMS tables."""


class SessionRow(Base):
    """An execution session: one rebalance, signal or backtest and everything it executed."""

    __tablename__ = "sessions"
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    venue: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    targets: Mapped[dict[str, Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)


class ParentOrderRow(Base):
    """A parent order and its running totals."""

    __tablename__ = "parent_orders"
    parent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.session_id"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(Money)
    algo: Mapped[str] = mapped_column(String(16))
    algo_reason: Mapped[str] = mapped_column(Text)
    algo_params: Mapped[dict[str, Any]] = mapped_column(JSON)
    urgency: Mapped[float] = mapped_column(Float)
    duration_minutes: Mapped[float] = mapped_column(Float)
    limit_price: Mapped[Decimal | None] = mapped_column(Money)
    state: Mapped[str] = mapped_column(String(16), index=True)
    filled_quantity: Mapped[Decimal] = mapped_column(Money)
    filled_notional: Mapped[Decimal] = mapped_column(Money)
    fees: Mapped[Decimal] = mapped_column(Money)
    decision_price: Mapped[Decimal | None] = mapped_column(Money)
    arrival_price: Mapped[Decimal | None] = mapped_column(Money)
    end_price: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[int | None] = mapped_column(BigInteger)  # the algorithm's, kept for a restart
    resumes: Mapped[int] = mapped_column(Integer, server_default="0")  # restarts it survived
    resumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ParentEstimateRow(Base):
    """The pre-trade estimate of a parent, computed when the engine created it (its expected
    cost and planned children, ``oms.pretrade_cost.estimate_record``). A parent created without
    a quote has no row."""

    __tablename__ = "parent_estimates"
    parent_id: Mapped[str] = mapped_column(ForeignKey("parent_orders.parent_id"),
                                           primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    estimate: Mapped[dict[str, Any]] = mapped_column(JSON)


class ChildOrderRow(Base):
    """A child order; written (with its client order id) before it is sent."""

    __tablename__ = "child_orders"
    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    parent_id: Mapped[str] = mapped_column(ForeignKey("parent_orders.parent_id"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(16))
    time_in_force: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(Money)
    limit_price: Mapped[Decimal | None] = mapped_column(Money)
    state: Mapped[str] = mapped_column(String(20), index=True)
    filled_quantity: Mapped[Decimal] = mapped_column(Money)
    filled_notional: Mapped[Decimal] = mapped_column(Money)
    fees: Mapped[Decimal] = mapped_column(Money)
    venue: Mapped[str] = mapped_column(String(32))
    venue_order_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    tag: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_fill_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    intent_id: Mapped[str | None] = mapped_column(String(64))  # the algorithm request it answers


class FillRow(Base):
    """One execution of a child order."""

    __tablename__ = "fills"
    fill_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(
        ForeignKey("child_orders.client_order_id"), index=True
    )
    parent_id: Mapped[str] = mapped_column(ForeignKey("parent_orders.parent_id"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money)
    liquidity: Mapped[str] = mapped_column(String(8))
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    venue: Mapped[str] = mapped_column(String(32))
    mid_price: Mapped[Decimal | None] = mapped_column(Money)
    half_spread: Mapped[Decimal | None] = mapped_column(Money)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the commission as the venue reported it, and the price (quote per unit) behind ``fee``
    fee_asset: Mapped[str | None] = mapped_column(String(16))
    fee_quantity: Mapped[Decimal | None] = mapped_column(Money)
    fee_price: Mapped[Decimal | None] = mapped_column(Money)  # None: a third asset not valued
    fee_paid_in: Mapped[str] = mapped_column(String(8), server_default="quote")  # FeePaidIn


class AuditRow(Base):
    """One row per state change: the event name and its payload."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    event: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[str] = mapped_column(String(96), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class RiskEventRow(Base):
    """Violations, breaker trips and resets, trading-state changes, kill and resume."""

    __tablename__ = "risk_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    code: Mapped[str] = mapped_column(String(40))
    symbol: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(96))
    actor: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class ExecutionReportRow(Base):
    """A stored ExecutionReport (the JSON contract of the TCA issue)."""

    __tablename__ = "execution_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.session_id"), index=True)
    generated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


class EngineStateRow(Base):
    """The engine's own state by key: the database's identity, where the replayed market stood."""

    __tablename__ = "engine_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PaperOrderRow(Base):
    """One order of the paper venue, as the simulated exchange holds it (``data``: its state)."""

    __tablename__ = "paper_orders"
    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    venue_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(20), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class PaperStateRow(Base):
    """The paper venue's account and counters by key (balances, next venue order id, ...)."""

    __tablename__ = "paper_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EquitySampleRow(Base):
    """The account's equity and P&L at one instant of market time (the overview's history).

    Written by the engine every few seconds of market time and thinned as it ages
    (``oms.engine.history``); ``minute_mark`` flags the first sample of its minute, the one a
    thinning keeps. ``run_started_at`` is the market time the engine process that wrote it
    started (the chart's "session" range).
    """

    __tablename__ = "equity_samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    run_started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    equity: Mapped[Decimal] = mapped_column(Money)
    cash: Mapped[Decimal] = mapped_column(Money)
    pnl: Mapped[Decimal] = mapped_column(Money)
    minute_mark: Mapped[bool] = mapped_column(Boolean)


Index("ix_child_parent_state", ChildOrderRow.parent_id, ChildOrderRow.state)
Index("ix_child_state_created", ChildOrderRow.state, ChildOrderRow.created_at)
Index("ix_parent_state_created", ParentOrderRow.state, ParentOrderRow.created_at)
