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
from mailwarden.model.findings.risk import (
    ActiveEvidence,
    BlastRadius,
    FactorEffect,
    RiskFactor,
    RiskTier,
)
from mailwarden.model.findings.scan import (
    AttackPath,
    Custodian,
    CustodianSource,
    InventoryEntry,
    MailboxAssessment,
    Problem,
    ProblemKind,
    ScanResult,
)

__all__ = [
    "TENANT_RESOURCE",
    "ActiveEvidence",
    "AttackPath",
    "BlastRadius",
    "CheckInfo",
    "Custodian",
    "CustodianSource",
    "FactorEffect",
    "Finding",
    "Grant",
    "InventoryEntry",
    "MailboxAccess",
    "MailboxAssessment",
    "MailboxKind",
    "PersonAccess",
    "Problem",
    "ProblemKind",
    "Remediation",
    "Resource",
    "Right",
    "RiskFactor",
    "RiskTier",
    "ScanResult",
    "Scope",
    "Severity",
    "Status",
    "TrusteeKind",
]
