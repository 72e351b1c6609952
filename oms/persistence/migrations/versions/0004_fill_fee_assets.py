"""Fees in any asset: each fill keeps its commission as the venue reported it (asset and
quantity), the price that valued it in the quote asset (NULL: a third asset that could not be
valued, its ``fee`` is then 0) and which of the fill's assets paid it (quote, base or other).
Rows written before this revision were quote-asset fees: they read as ``fee_paid_in = 'quote'``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from oms.persistence.types import Money

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fills") as batch:
        batch.add_column(sa.Column("fee_asset", sa.String(16), nullable=True))
        batch.add_column(sa.Column("fee_quantity", Money(), nullable=True))
        batch.add_column(sa.Column("fee_price", Money(), nullable=True))
        batch.add_column(sa.Column("fee_paid_in", sa.String(8), nullable=False,
                                   server_default="quote"))


def downgrade() -> None:
    with op.batch_alter_table("fills") as batch:
        batch.drop_column("fee_paid_in")
        batch.drop_column("fee_price")
        batch.drop_column("fee_quantity")
        batch.drop_column("fee_asset")
