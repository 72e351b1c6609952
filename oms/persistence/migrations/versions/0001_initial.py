"""Initial schema: sessions, parent and child orders, fills, audit log, risk events, reports.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from oms.persistence.types import Money, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
    )
    op.create_index("ix_sessions_created_at", "sessions", ["created_at"])
    op.create_table(
        "parent_orders",
        sa.Column("parent_id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("sessions.session_id"),
                  nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("algo", sa.String(16), nullable=False),
        sa.Column("algo_reason", sa.Text(), nullable=False),
        sa.Column("algo_params", sa.JSON(), nullable=False),
        sa.Column("urgency", sa.Float(), nullable=False),
        sa.Column("duration_minutes", sa.Float(), nullable=False),
        sa.Column("limit_price", Money(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("filled_quantity", Money(), nullable=False),
        sa.Column("filled_notional", Money(), nullable=False),
        sa.Column("fees", Money(), nullable=False),
        sa.Column("decision_price", Money(), nullable=True),
        sa.Column("arrival_price", Money(), nullable=True),
        sa.Column("end_price", Money(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_parent_orders_session_id", "parent_orders", ["session_id"])
    op.create_index("ix_parent_orders_state", "parent_orders", ["state"])
    op.create_index("ix_parent_orders_created_at", "parent_orders", ["created_at"])
    op.create_table(
        "child_orders",
        sa.Column("client_order_id", sa.String(64), primary_key=True),
        sa.Column("parent_id", sa.String(64), sa.ForeignKey("parent_orders.parent_id"),
                  nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("time_in_force", sa.String(4), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("limit_price", Money(), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("filled_quantity", Money(), nullable=False),
        sa.Column("filled_notional", Money(), nullable=False),
        sa.Column("fees", Money(), nullable=False),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("venue_order_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("tag", sa.String(32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("acked_at", UtcDateTime(), nullable=True),
        sa.Column("first_fill_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_child_orders_parent_id", "child_orders", ["parent_id"])
    op.create_index("ix_child_orders_state", "child_orders", ["state"])
    op.create_index("ix_child_orders_created_at", "child_orders", ["created_at"])
    op.create_index("ix_child_parent_state", "child_orders", ["parent_id", "state"])
    op.create_table(
        "fills",
        sa.Column("fill_id", sa.String(96), primary_key=True),
        sa.Column("client_order_id", sa.String(64),
                  sa.ForeignKey("child_orders.client_order_id"), nullable=False),
        sa.Column("parent_id", sa.String(64), sa.ForeignKey("parent_orders.parent_id"),
                  nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("liquidity", sa.String(8), nullable=False),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("mid_price", Money(), nullable=True),
        sa.Column("half_spread", Money(), nullable=True),
        sa.Column("submitted_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_fills_client_order_id", "fills", ["client_order_id"])
    op.create_index("ix_fills_parent_id", "fills", ["parent_id"])
    op.create_index("ix_fills_ts", "fills", ["ts"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(96), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_ts", "audit_log", ["ts"])
    op.create_index("ix_audit_log_event", "audit_log", ["event"])
    op.create_index("ix_audit_log_entity_id", "audit_log", ["entity_id"])
    op.create_table(
        "risk_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=True),
        sa.Column("entity_id", sa.String(96), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_risk_events_ts", "risk_events", ["ts"])
    op.create_index("ix_risk_events_kind", "risk_events", ["kind"])
    op.create_table(
        "execution_reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("sessions.session_id"),
                  nullable=False),
        sa.Column("generated_at", UtcDateTime(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
    )
    op.create_index("ix_execution_reports_session_id", "execution_reports", ["session_id"])
    op.create_index("ix_execution_reports_generated_at", "execution_reports", ["generated_at"])


def downgrade() -> None:
    for table in ("execution_reports", "risk_events", "audit_log", "fills", "child_orders",
                  "parent_orders", "sessions"):
        op.drop_table(table)
