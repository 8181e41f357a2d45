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
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
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
    #: The fleet job that stored the run (unique: a job run again stores no second run).
    Column("job_key", String(64), index=True, unique=True),
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
    Index("ix_findings_upn_run", "upn", "run_id"),  # migration 0005: a mailbox's page
    # covers the console's failing-check filter
    Index("ix_findings_run_check", "run_id", "check_id", "status", "upn"),
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
    # migration 0005: what the console lists and shows without the run in memory
    Column("rank", Integer),  # 1 for the riskiest: `assess.risk.ranked` when it was stored
    Column("custodian", String(512)),  # the custodian's UPN; NULL: nobody answers for it
    Column("detail", JSON),  # `store.mailbox_detail`: tier, attack paths, last use, ...
    Index("ix_mailboxes_upn_run", "upn", "run_id"),
    # covers the console's list: its filters, count and order read no table row
    Index("ix_mailboxes_run_rank", "run_id", "rank", "risk_score", "kind", "custodian", "upn",
          "display_name"),
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
    Index("ix_delegates_mailbox_run", "mailbox", "run_id"),  # migration 0005
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
    # migration 0005: triage in the console
    Column("assignee", String(512)),
    Column("snoozed_until", DateTime(timezone=True)),
    Column("answer", String(16)),  # the custodian's "was this you?": confirmed | denied
    Column("answered_at", DateTime(timezone=True)),
    # categories, families, targets, places, targeted, source_ips, actors, marks,
    # acknowledged_as and the alerts (id -> the alert as last seen)
    Column("detail", JSON, nullable=False),
    # migration 0005: the overview counts open incidents without reading their detail
    Index("ix_incidents_tenant_status", "tenant_id", "status", "severity"),
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
    # migration 0005: the console's request and approval
    Column("state", String(16), nullable=False, server_default="approved"),
    Column("approved_by", String(512)),  # who decided (approved or rejected): a name
    Column("approved_at", DateTime(timezone=True)),
    Column("decision_note", Text),
    # the console's requester as a stable subject (the two-person rule compares it); NULL
    # for exceptions written by the CLI or an exceptions file
    Column("requested_by", String(512)),
)

# -- The console (`mailwarden.console`, migration 0005) -----------------------------------
# Exceptions requested in the console wait for an approver: `state` is "approved" for every
# exception written by the CLI or an exceptions file, "requested" until an approver decides,
# then "approved" or "rejected". Only approved exceptions apply (columns added to
# `exceptions` by migration 0005, declared there above).

# Signed-in people: one row per session, keyed by the SHA-256 of the cookie's value (the
# value itself is never stored), with the session's CSRF token.
console_sessions = Table(
    "console_sessions",
    METADATA,
    Column("id_hash", String(64), primary_key=True),
    Column("subject", String(512), nullable=False),  # stable id: "local:NAME", an Entra oid
    Column("name", String(512), nullable=False),
    Column("roles", JSON, nullable=False),  # role names; a custodian link session has none
    Column("source", String(16), nullable=False),  # local | invite | entra | link
    Column("link_id", String(64)),  # a custodian link's session: the link it came from
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("remote", String(64)),
)

# Local-mode sign-in links for more people than the one who started the console (a second
# person is needed to approve a change): single use, expiring, stored as a hash.
console_invites = Table(
    "console_invites",
    METADATA,
    Column("token_hash", String(64), primary_key=True),
    Column("name", String(512), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_by", String(512), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

# Every console action: who, what, when, from where.
console_audit = Table(
    "console_audit",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(512), nullable=False),  # subject, or "anonymous"
    Column("actor_name", String(512)),
    Column("source", String(16)),
    Column("action", String(64), nullable=False),
    Column("tenant_id", String(128)),
    Column("target", String(512)),
    Column("outcome", String(16), nullable=False),  # done | refused | failed
    Column("detail", JSON, nullable=False),
    Column("remote", String(64)),
)

# Custodian links: signed tokens carry the id; this row binds it to one purpose and one
# target and lets it be revoked. Nothing else is reachable with the link.
console_links = Table(
    "console_links",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("purpose", String(16), nullable=False),  # review | incident
    Column("tenant_id", String(128), nullable=False),
    Column("target", String(128), nullable=False),  # a review id, an incident id
    Column("custodian", String(512), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

# Remediation changes submitted in the console: a selection of a plan's actions, approved
# by a different person with the approver role, applied through the journalled apply.
change_requests = Table(
    "change_requests",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(128), nullable=False, index=True),
    # pending | approved | rejected | cancelled | applying | applied | failed | rolled-back
    Column("state", String(16), nullable=False),
    Column("actions", JSON, nullable=False),  # the selected actions, as Action.as_dict()
    Column("origin", String(16), nullable=False),  # console | review
    Column("origin_id", String(64)),  # the access review it came from
    Column("reason", Text, nullable=False),
    Column("requested_by", String(512), nullable=False),
    Column("requested_by_name", String(512)),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(512)),
    Column("decided_by_name", String(512)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_note", Text),
    Column("remediation_run_id", String(64)),  # remediation_runs.run_id once applied
    Column("applied_at", DateTime(timezone=True)),
    Column("outcome", JSON),  # per action: status and error
    Column("rolled_back_at", DateTime(timezone=True)),
    Column("rolled_back_by", String(512)),
)

# Access reviews: custodians confirm who should still reach their mailbox.
access_reviews = Table(
    "access_reviews",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(128), nullable=False, index=True),
    Column("history_run_id", Integer),  # the stored run whose access map was reviewed
    Column("state", String(16), nullable=False),  # open | closed | cancelled
    Column("created_by", String(512), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due", Date, nullable=False),
    Column("reminded_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("change_request_id", String(64)),
    Column("detail", JSON, nullable=False),  # scope, notices sent, counts
)

review_items = Table(
    "review_items",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "review_id", String(64), ForeignKey("access_reviews.id", ondelete="CASCADE"),
        nullable=False, index=True,
    ),
    Column("mailbox", String(512), nullable=False),
    Column("custodian", String(512)),  # NULL: nobody answerable (the review says so)
    Column("principal", String(512), nullable=False),
    Column("access_right", String(64), nullable=False),
    Column("via", JSON, nullable=False),
    Column("last_use", DateTime(timezone=True)),
    Column("usage", JSON, nullable=False),  # what the audit log says of last use
    Column("decision", String(16)),  # keep | remove; NULL: undecided
    Column("decided_by", String(512)),
    Column("decided_at", DateTime(timezone=True)),
    Column("note", Text),
)

# The fleet (`mailwarden.store.fleet`, migration 0006): the tenants one installation looks
# after, with their credentials by reference (a certificate's path, or the NAME of the
# environment variable that holds a secret; never a secret), schedules and files.
fleet_tenants = Table(
    "fleet_tenants",
    METADATA,
    Column("tenant_id", String(128), primary_key=True),  # lower case
    Column("display_name", String(512)),
    Column("client_id", String(128), nullable=False),
    Column("certificate_path", Text),  # exactly one of these two is set
    Column("secret_env", String(128)),
    Column("multi_tenant_app", Boolean, nullable=False),
    Column("posture_every_seconds", Integer, nullable=False),
    Column("logs_every_seconds", Integer, nullable=False),
    Column("routing_path", Text),
    Column("custodians_path", Text),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A fleet run is what one trigger enqueued (a schedule tick, `fleet run --now`); each of its
# jobs is one kind for one tenant in one schedule slot. The slot is unique per tenant and
# kind (uq_fleet_jobs_slot), so a message delivered twice finds the job it already made.
fleet_runs = Table(
    "fleet_runs",
    METADATA,
    Column("run_id", String(64), primary_key=True),
    Column("trigger", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(512), nullable=False),
)

fleet_jobs = Table(
    "fleet_jobs",
    METADATA,
    Column("job_id", String(64), primary_key=True),
    Column("run_id", String(64), ForeignKey("fleet_runs.run_id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("tenant_id", String(128),
           ForeignKey("fleet_tenants.tenant_id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("worker_id", String(256)),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("error", Text),
    Column("sent_at", DateTime(timezone=True)),  # the last message sent for the job
    Column("retry_at", DateTime(timezone=True)),  # put back until then (throttled, busy)
    Column("history_run_id", Integer),  # the stored run the job made
    UniqueConstraint("tenant_id", "kind", "due_at", name="uq_fleet_jobs_slot"),
    Index("ix_fleet_jobs_tenant_state", "tenant_id", "kind", "state"),
)
