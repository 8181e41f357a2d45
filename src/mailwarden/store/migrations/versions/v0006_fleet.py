"""The fleet: its tenants (credentials by reference, schedules, files), its runs and jobs,
one job per tenant, kind and schedule slot.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fleet_tenants",
        sa.Column("tenant_id", sa.String(128), primary_key=True),
        sa.Column("display_name", sa.String(512)),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("certificate_path", sa.Text),
        sa.Column("secret_env", sa.String(128)),
        sa.Column("multi_tenant_app", sa.Boolean, nullable=False),
        sa.Column("posture_every_seconds", sa.Integer, nullable=False),
        sa.Column("logs_every_seconds", sa.Integer, nullable=False),
        sa.Column("routing_path", sa.Text),
        sa.Column("custodians_path", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", _AWARE, nullable=False),
        sa.Column("updated_at", _AWARE, nullable=False),
    )
    op.create_table(
        "fleet_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("created_at", _AWARE, nullable=False),
        sa.Column("created_by", sa.String(512), nullable=False),
    )
    op.create_table(
        "fleet_jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64),
                  sa.ForeignKey("fleet_runs.run_id", ondelete="CASCADE"), nullable=False),
        sa.Column("tenant_id", sa.String(128),
                  sa.ForeignKey("fleet_tenants.tenant_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", _AWARE, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("worker_id", sa.String(256)),
        sa.Column("queued_at", _AWARE, nullable=False),
        sa.Column("started_at", _AWARE),
        sa.Column("heartbeat_at", _AWARE),
        sa.Column("finished_at", _AWARE),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("tenant_id", "kind", "due_at", name="uq_fleet_jobs_slot"),
    )
    op.create_index("ix_fleet_jobs_run_id", "fleet_jobs", ["run_id"])
    op.create_index("ix_fleet_jobs_tenant_state", "fleet_jobs", ["tenant_id", "kind", "state"])


def downgrade() -> None:
    op.drop_index("ix_fleet_jobs_tenant_state", table_name="fleet_jobs")
    op.drop_index("ix_fleet_jobs_run_id", table_name="fleet_jobs")
    op.drop_table("fleet_jobs")
    op.drop_table("fleet_runs")
    op.drop_table("fleet_tenants")
