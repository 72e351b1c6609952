"""The split deployment's tables: accounts, commands as rows (taken by the account's engine with
SELECT ... FOR UPDATE SKIP LOCKED, marked done in the transaction of their effects), the engine
lease (fencing epoch, heartbeat) and the latest snapshot per account. An existing 0006 database
gets them empty; the embedded mode never writes them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from oms.persistence.types import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("key_file", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "commands",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("applied_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_commands_account_status_id", "commands", ["account", "status", "id"])
    op.create_table(
        "engine_leases",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("heartbeat_at", UtcDateTime(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
    )
    op.create_table(
        "engine_snapshots",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("engine_snapshots")
    op.drop_table("engine_leases")
    op.drop_index("ix_commands_account_status_id", "commands")
    op.drop_table("commands")
    op.drop_table("accounts")
