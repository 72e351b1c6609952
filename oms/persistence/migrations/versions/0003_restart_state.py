"""What a restart needs: the algorithm's seed on each parent, the intent each child answers, the
engine's own state (identity of the database, where the replayed market stood) and the paper
venue's exchange state (its orders with their queue position, balances, id counters).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from oms.persistence.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parent_orders") as batch:
        batch.add_column(sa.Column("seed", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("resumes", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("resumed_at", UtcDateTime(), nullable=True))
    with op.batch_alter_table("child_orders") as batch:
        batch.add_column(sa.Column("intent_id", sa.String(64), nullable=True))
    op.create_table(
        "engine_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "paper_orders",
        sa.Column("client_order_id", sa.String(64), primary_key=True),
        sa.Column("venue_order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_paper_orders_state", "paper_orders", ["state"])
    op.create_table(
        "paper_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("paper_state")
    op.drop_index("ix_paper_orders_state", "paper_orders")
    op.drop_table("paper_orders")
    op.drop_table("engine_state")
    with op.batch_alter_table("child_orders") as batch:
        batch.drop_column("intent_id")
    with op.batch_alter_table("parent_orders") as batch:
        batch.drop_column("resumed_at")
        batch.drop_column("resumes")
        batch.drop_column("seed")
