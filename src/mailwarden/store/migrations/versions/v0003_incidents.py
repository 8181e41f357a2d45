"""Incidents: their lifecycle, and the incident each stored alert belongs to.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("tenant_id", sa.String(128), primary_key=True),
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True)),
        sa.Column("last_seen", sa.DateTime(timezone=True)),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True)),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("acknowledged_by", sa.String(512)),
        sa.Column("note", sa.Text),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_reason", sa.Text),
        sa.Column("follows", sa.String(80)),
        sa.Column("reopened", sa.Boolean, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("incident_id", sa.String(80)))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("incident_id")
    op.drop_table("incidents")
