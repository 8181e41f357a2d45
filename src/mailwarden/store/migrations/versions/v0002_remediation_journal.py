"""The remediation journal: applied runs and the state before each change.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remediation_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actions", sa.JSON, nullable=False),
    )
    op.create_index("ix_remediation_runs_tenant_id", "remediation_runs", ["tenant_id"])
    op.create_table(
        "remediation_entries",
        sa.Column(
            "run_id",
            sa.String(64),
            sa.ForeignKey("remediation_runs.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("action_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prior", sa.JSON),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("remediation_entries")
    op.drop_index("ix_remediation_runs_tenant_id", table_name="remediation_runs")
    op.drop_table("remediation_runs")
