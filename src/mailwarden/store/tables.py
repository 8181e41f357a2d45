"""The history database's tables (SQLAlchemy Core). Migrations in `migrations/versions`
create exactly these; a test compares the two."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

METADATA = MetaData()

runs = Table(
    "runs",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(128), nullable=False, index=True),
    Column("tenant_name", String(512)),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("collected_at", DateTime(timezone=True)),
    Column("version", String(64), nullable=False),
    Column("ownerless", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("alerts", Integer),  # NULL: no logs were analysed
    Column("summary", JSON, nullable=False),
    Column("settings", JSON, nullable=False),  # tenant-wide settings
)


def _run_id() -> Column[int]:
    return Column(
        "run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True
    )


findings = Table(
    "findings",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _run_id(),
    Column("check_id", String(128), nullable=False),
    Column("upn", String(512)),  # NULL: a tenant-wide finding
    Column("kind", String(32)),
    Column("status", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("controls", JSON, nullable=False),
    Column("remediation", JSON),
)

alerts = Table(
    "alerts",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _run_id(),
    Column("alert_id", String(128), nullable=False),
    Column("category", String(64), nullable=False),
    Column("rule_id", String(128), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("target", String(512)),
    Column("first_seen", DateTime(timezone=True)),
    Column("last_seen", DateTime(timezone=True)),
    Column("event_count", Integer, nullable=False),
    Column("summary", Text, nullable=False),
    Column("document", JSON, nullable=False),  # the alert as alerts.json holds it
    Column("incident_id", String(80)),  # migration 0003; NULL in runs stored before
)

mailboxes = Table(
    "mailboxes",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _run_id(),
    Column("upn", String(512), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("display_name", String(512)),
    Column("account_id", String(128)),
    Column("risk_score", Integer, nullable=False),
    Column("settings", JSON, nullable=False),
)

delegates = Table(
    "delegates",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _run_id(),
    Column("mailbox", String(512), nullable=False),
    Column("principal", String(512), nullable=False),
    Column("access_right", String(64), nullable=False),
    Column("via", JSON, nullable=False),
    Column("state", JSON, nullable=False),  # why the principal should not hold access
)

# The remediation journal (`mailwarden.remediate.journal_db`): one row per applied run,
# one per action with the state read before its change.
remediation_runs = Table(
    "remediation_runs",
    METADATA,
    Column("run_id", String(64), primary_key=True),
    Column("tenant_id", String(128), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("actions", JSON, nullable=False),  # the planned actions, as Action.as_dict()
)

remediation_entries = Table(
    "remediation_entries",
    METADATA,
    Column(
        "run_id",
        String(64),
        ForeignKey("remediation_runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("action_id", String(64), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("prior", JSON),  # the state before the change; NULL when it could not be read
    Column("error", Text),
)

# Incidents and their lifecycle (`mailwarden.store.incidents`, migration 0003): one row per
# incident of a tenant, updated as its alerts come and people acknowledge or resolve it.
incidents = Table(
    "incidents",
    METADATA,
    Column("tenant_id", String(128), primary_key=True),
    Column("id", String(80), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("category", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("first_seen", DateTime(timezone=True)),
    Column("last_seen", DateTime(timezone=True)),
    Column("summary", Text, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("notified_at", DateTime(timezone=True)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", String(512)),
    Column("note", Text),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_reason", Text),
    Column("follows", String(80)),
    Column("reopened", Boolean, nullable=False),
    # categories, families, targets, places, targeted, source_ips, actors, marks,
    # acknowledged_as and the alerts (id -> the alert as last seen)
    Column("detail", JSON, nullable=False),
)

# Accepted exceptions (`mailwarden.store.exceptions`, migration 0004): the same records as
# an exceptions file, per tenant. A NULL mailbox names the tenant-wide finding of a check.
exceptions = Table(
    "exceptions",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(128), nullable=False, index=True),
    Column("check_id", String(128), nullable=False),
    Column("mailbox", String(512)),  # an address or a glob pattern, lower case
    Column("reason", Text, nullable=False),
    Column("owner", String(512), nullable=False),
    Column("expires", Date, nullable=False),  # accepted through this day (UTC)
    Column("ticket", String(256)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(512), nullable=False),
)
