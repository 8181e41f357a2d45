"""Accepted exceptions: failing findings accepted per tenant until an expiry date.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exceptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("check_id", sa.String(128), nullable=False),
        sa.Column("mailbox", sa.String(512)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("owner", sa.String(512), nullable=False),
        sa.Column("expires", sa.Date, nullable=False),
        sa.Column("ticket", sa.String(256)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(512), nullable=False),
    )
    op.create_index("ix_exceptions_tenant_id", "exceptions", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_exceptions_tenant_id", table_name="exceptions")
    op.drop_table("exceptions")
