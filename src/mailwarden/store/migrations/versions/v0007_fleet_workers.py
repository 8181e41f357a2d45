"""The fleet's workers: a stored run names the job that made it (`runs.job_key`, unique, so
a job run twice stores its run once), and a job records when a message was last sent for it
and when it may next run (`sent_at`, `retry_at`) and which stored run it made
(`history_run_id`).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("job_key", sa.String(64)))
    op.create_index("ix_runs_job_key", "runs", ["job_key"], unique=True)
    with op.batch_alter_table("fleet_jobs") as batch:
        batch.add_column(sa.Column("sent_at", _AWARE))
        batch.add_column(sa.Column("retry_at", _AWARE))
        batch.add_column(sa.Column("history_run_id", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("fleet_jobs") as batch:
        batch.drop_column("history_run_id")
        batch.drop_column("retry_at")
        batch.drop_column("sent_at")
    op.drop_index("ix_runs_job_key", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("job_key")
