"""The console: sessions, invites, its audit log, custodian links, change requests with a
two-person approval, access reviews; triage columns on incidents and the request/approval
state of exceptions.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("exceptions", sa.Column("state", sa.String(16), nullable=False,
                                          server_default="approved"))
    op.add_column("exceptions", sa.Column("approved_by", sa.String(512)))
    op.add_column("exceptions", sa.Column("approved_at", _AWARE))
    op.add_column("exceptions", sa.Column("decision_note", sa.Text))
    op.add_column("incidents", sa.Column("assignee", sa.String(512)))
    op.add_column("incidents", sa.Column("snoozed_until", _AWARE))
    op.add_column("incidents", sa.Column("answer", sa.String(16)))
    op.add_column("incidents", sa.Column("answered_at", _AWARE))
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("link_id", sa.String(64)),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", _AWARE, nullable=False),
        sa.Column("expires_at", _AWARE, nullable=False),
        sa.Column("last_seen_at", _AWARE, nullable=False),
        sa.Column("remote", sa.String(64)),
    )
    op.create_table(
        "console_invites",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(512), nullable=False),
        sa.Column("created_at", _AWARE, nullable=False),
        sa.Column("expires_at", _AWARE, nullable=False),
        sa.Column("used_at", _AWARE),
    )
    op.create_table(
        "console_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", _AWARE, nullable=False),
        sa.Column("actor", sa.String(512), nullable=False),
        sa.Column("actor_name", sa.String(512)),
        sa.Column("source", sa.String(16)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(128)),
        sa.Column("target", sa.String(512)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("remote", sa.String(64)),
    )
    op.create_index("ix_console_audit_at", "console_audit", ["at"])
    op.create_table(
        "console_links",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("custodian", sa.String(512), nullable=False),
        sa.Column("created_at", _AWARE, nullable=False),
        sa.Column("expires_at", _AWARE, nullable=False),
        sa.Column("used_at", _AWARE),
        sa.Column("revoked_at", _AWARE),
    )
    op.create_table(
        "change_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("origin_id", sa.String(64)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(512), nullable=False),
        sa.Column("requested_by_name", sa.String(512)),
        sa.Column("requested_at", _AWARE, nullable=False),
        sa.Column("decided_by", sa.String(512)),
        sa.Column("decided_by_name", sa.String(512)),
        sa.Column("decided_at", _AWARE),
        sa.Column("decision_note", sa.Text),
        sa.Column("remediation_run_id", sa.String(64)),
        sa.Column("applied_at", _AWARE),
        sa.Column("outcome", sa.JSON),
        sa.Column("rolled_back_at", _AWARE),
        sa.Column("rolled_back_by", sa.String(512)),
    )
    op.create_index("ix_change_requests_tenant_id", "change_requests", ["tenant_id"])
    op.create_table(
        "access_reviews",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("history_run_id", sa.Integer),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(512), nullable=False),
        sa.Column("created_at", _AWARE, nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("reminded_at", _AWARE),
        sa.Column("closed_at", _AWARE),
        sa.Column("change_request_id", sa.String(64)),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_access_reviews_tenant_id", "access_reviews", ["tenant_id"])
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("review_id", sa.String(64),
                  sa.ForeignKey("access_reviews.id", ondelete="CASCADE"), nullable=False),
        sa.Column("mailbox", sa.String(512), nullable=False),
        sa.Column("custodian", sa.String(512)),
        sa.Column("principal", sa.String(512), nullable=False),
        sa.Column("access_right", sa.String(64), nullable=False),
        sa.Column("via", sa.JSON, nullable=False),
        sa.Column("last_use", _AWARE),
        sa.Column("usage", sa.JSON, nullable=False),
        sa.Column("decision", sa.String(16)),
        sa.Column("decided_by", sa.String(512)),
        sa.Column("decided_at", _AWARE),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_review_items_review_id", "review_items", ["review_id"])


def downgrade() -> None:
    op.drop_index("ix_review_items_review_id", table_name="review_items")
    op.drop_table("review_items")
    op.drop_index("ix_access_reviews_tenant_id", table_name="access_reviews")
    op.drop_table("access_reviews")
    op.drop_index("ix_change_requests_tenant_id", table_name="change_requests")
    op.drop_table("change_requests")
    op.drop_table("console_links")
    op.drop_index("ix_console_audit_at", table_name="console_audit")
    op.drop_table("console_audit")
    op.drop_table("console_invites")
    op.drop_table("console_sessions")
    with op.batch_alter_table("incidents") as batch:
        for name in ("answered_at", "answer", "snoozed_until", "assignee"):
            batch.drop_column(name)
    with op.batch_alter_table("exceptions") as batch:
        for name in ("decision_note", "approved_at", "approved_by", "state"):
            batch.drop_column(name)
