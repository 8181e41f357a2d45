"""Build a `Run` from what a scan (and optionally detection) produced."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from mailwarden import __version__
from mailwarden.assess.evidence import evidence_from_alerts, resolved_alert_ids
from mailwarden.assess.risk import with_evidence
from mailwarden.detect.document import alerts_document
from mailwarden.detect.results import DetectionResult
from mailwarden.errors import ConfigError
from mailwarden.model.findings import ScanResult
from mailwarden.model.inventory import Snapshot
from mailwarden.model.run import Detection, Drift, Run, SnapshotSummary

#: Snapshot fields counted in the summary, by the source they come from.
_COUNTED = (
    ("graph/users", "accounts"),
    ("graph/groups", "groups"),
    ("graph/conditionalAccessPolicies", "ca_policies"),
    ("exo/Get-Mailbox", "mailboxes"),
    ("exo/Get-CASMailbox", "cas_mailboxes"),
    ("exo/Get-MailboxPermission", "mailbox_permissions"),
    ("exo/Get-RecipientPermission", "recipient_permissions"),
    ("exo/Get-InboxRule", "inbox_rules"),
)


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def summarize_snapshot(snapshot: Snapshot) -> SnapshotSummary:
    """Counts, missing sources and the tenant-wide settings drift is reported on."""
    records = {
        source: len(getattr(snapshot, name))
        for source, name in _COUNTED
        if snapshot.available(source)
    }
    org, transport = snapshot.organization_config, snapshot.transport_config
    settings = {
        "OrganizationConfig.AuditDisabled": _flag(org.audit_disabled) if org else None,
        "OrganizationConfig.DefaultAuthenticationPolicy": (
            org.default_authentication_policy if org else None
        ),
        "TransportConfig.SmtpClientAuthenticationDisabled": (
            _flag(transport.smtp_client_authentication_disabled) if transport else None
        ),
    }
    return SnapshotSummary(
        records=records,
        missing_sources=dict(sorted(snapshot.problems.items())),
        skipped_records=len(snapshot.skipped),
        settings=settings,
    )


def detection_from(result: DetectionResult, generated_at: datetime) -> Detection:
    """Detection's alerts.json content, kept as plain dicts."""
    document = alerts_document(result, generated_at)
    return Detection(
        alerts=tuple(document["alerts"]),
        incidents=tuple(document["incidents"]),
        inputs=tuple(document["inputs"]),
        rules=tuple(document["rules"]),
    )


def make_run(
    result: ScanResult,
    *,
    generated_at: datetime,
    snapshot: Snapshot | None = None,
    detection: DetectionResult | None = None,
) -> Run:
    """The `Run` to render and store. `generated_at` must be timezone-aware. With detection,
    its alerts are each mailbox's active evidence and rank the mailboxes (`with_evidence`)."""
    if generated_at.tzinfo is None:
        raise ConfigError("a run's generated_at must be timezone-aware (UTC)")
    found = detection_from(detection, generated_at) if detection else None
    if found is not None:
        closed = resolved_alert_ids(found.incidents)
        result = with_evidence(result, evidence_from_alerts(found.alerts, closed))
    return Run(
        generated_at=generated_at,
        result=result,
        snapshot=summarize_snapshot(snapshot) if snapshot else SnapshotSummary(),
        detection=found,
        version=__version__,
    )


def with_changes(run: Run, changes: Drift | None) -> Run:
    """The run with what changed since the tenant's previous stored run."""
    return replace(run, changes=changes)
