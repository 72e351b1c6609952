"""Composite indexes for the blotters: filtered by state, newest first.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_child_state_created", "child_orders", ["state", "created_at"])
    op.create_index("ix_parent_state_created", "parent_orders", ["state", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_parent_state_created", "parent_orders")
    op.drop_index("ix_child_state_created", "child_orders")
