"""Findings, the check catalogue's metadata, the access map and the `ScanResult`."""

from mailwarden.model.findings.access import (
    Grant,
    MailboxAccess,
    PersonAccess,
    Right,
    TrusteeKind,
)
from mailwarden.model.findings.results import (
    TENANT_RESOURCE,
    CheckInfo,
    Finding,
    MailboxKind,
    Remediation,
    Resource,
    Scope,
    Severity,
    Status,
)
from mailwarden.model.findings.scan import (
    AttackPath,
    Custodian,
    CustodianSource,
    InventoryEntry,
    KnownMailbox,
    MailboxAssessment,
    PriorInventory,
    Problem,
    ProblemKind,
    ScanResult,
)

__all__ = [
    "TENANT_RESOURCE",
    "AttackPath",
    "CheckInfo",
    "Custodian",
    "CustodianSource",
    "Finding",
    "Grant",
    "InventoryEntry",
    "KnownMailbox",
    "MailboxAccess",
    "MailboxAssessment",
    "MailboxKind",
    "PersonAccess",
    "PriorInventory",
    "Problem",
    "ProblemKind",
    "Remediation",
    "Resource",
    "Right",
    "ScanResult",
    "Scope",
    "Severity",
    "Status",
    "TrusteeKind",
]
