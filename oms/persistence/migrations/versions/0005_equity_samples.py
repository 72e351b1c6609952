"""Equity and P&L history: one row every few seconds of market time, written by the engine in
its tick's transaction and thinned as it ages (``oms.engine.history``), so the overview's chart
shows the history after a page load or a restart. An existing 0004 database gets the empty table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from oms.persistence.types import Money, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "equity_samples",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("run_started_at", UtcDateTime(), nullable=False),
        sa.Column("equity", Money(), nullable=False),
        sa.Column("cash", Money(), nullable=False),
        sa.Column("pnl", Money(), nullable=False),
        sa.Column("minute_mark", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_equity_samples_ts", "equity_samples", ["ts"])
    op.create_index("ix_equity_samples_run_started_at", "equity_samples", ["run_started_at"])


def downgrade() -> None:
    op.drop_index("ix_equity_samples_run_started_at", "equity_samples")
    op.drop_index("ix_equity_samples_ts", "equity_samples")
    op.drop_table("equity_samples")
