"""Pre-trade estimates kept with the parents: one row per parent the engine created with a
quote (its expected cost and planned children, JSON), which the ExecutionReport compares with
the realised cost. An existing 0005 database gets the empty table: its parents have no
estimate, and their reports say so.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from oms.persistence.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parent_estimates",
        sa.Column("parent_id", sa.String(64), sa.ForeignKey("parent_orders.parent_id"),
                  primary_key=True),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
        sa.Column("estimate", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("parent_estimates")
