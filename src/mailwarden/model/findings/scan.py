"""What one assessment returns: inventory, access map, findings, risk, and problems."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from mailwarden.model.exceptions import ExceptionsReport
from mailwarden.model.findings.access import MailboxAccess
from mailwarden.model.findings.results import CheckInfo, Finding, MailboxKind, Severity, Status
from mailwarden.model.findings.risk import ActiveEvidence, BlastRadius, RiskFactor, RiskTier
from mailwarden.model.inventory import TenantInfo


class CustodianSource(StrEnum):
    FILE = "file"  # named in a custodians file
    INFERRED = "inferred"  # deduced from who holds FullAccess


@dataclass(frozen=True, slots=True, kw_only=True)
class Custodian:
    """The person answerable for a mailbox."""

    mailbox: str  # mailbox UPN, lower case
    person: str  # the custodian's UPN, lower case
    team: str | None
    source: CustodianSource
    reason: str  # why this person (for inferred custodians: the rule that chose them)


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryEntry:
    """One ownerless mailbox and what is known about its backing account."""

    upn: str
    kind: MailboxKind
    display_name: str | None
    recipient_type_details: str | None
    account_id: str | None  # None: no Entra account matched
    account_enabled: bool | None
    licensed: bool | None
    created: datetime | None
    last_successful_sign_in: datetime | None
    last_password_change: datetime | None
    protocols: Mapping[str, bool | None]  # "IMAP", "POP", "EWS", "ActiveSync", "MAPI", "OWA"
    smtp_auth_enabled: bool | None
    smtp_auth_source: str  # "mailbox", "organisation" or "unknown"
    authentication_policy: str | None
    basic_auth_protocols: tuple[str, ...] | None  # protocols basic auth is allowed for
    legacy_blocked_by: tuple[str, ...] | None  # CA policies that block legacy clients for it
    mfa_registered: bool | None
    audit_enabled: bool | None
    roles: tuple[str, ...]
    forwarding: tuple[str, ...]  # forwarding targets, mailbox settings and inbox rules
    inbox_rules: int
    delegates: int
    custodian: Custodian | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AttackPath:
    """A short chain of facts showing how a mailbox can be taken or abused."""

    title: str
    severity: Severity
    steps: tuple[str, ...]

    @property
    def text(self) -> str:
        return " -> ".join(self.steps)


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxAssessment:
    upn: str
    kind: MailboxKind
    display_name: str | None
    risk_score: int  # 0-100: exposure, from the failing checks that still count
    attack_paths: tuple[AttackPath, ...]
    failing: tuple[str, ...]  # ids of the checks that fail, worst first
    errors: tuple[str, ...]  # ids of the checks that could not be evaluated
    custodian: Custodian | None
    #: ids of the failing checks an exception accepts: they add nothing to the score
    accepted: tuple[str, ...] = ()
    factors: tuple[RiskFactor, ...] = ()  # what the score and rank were made from
    evidence: tuple[ActiveEvidence, ...] = ()  # seen happening, worst first
    blast: BlastRadius = field(default_factory=BlastRadius)

    @property
    def worst_severity(self) -> Severity | None:
        if not self.attack_paths:
            return None
        return max((p.severity for p in self.attack_paths), key=lambda s: s.rank)

    @property
    def active_evidence(self) -> tuple[ActiveEvidence, ...]:
        return tuple(e for e in self.evidence if e.active)

    @property
    def tier(self) -> RiskTier:
        if self.active_evidence:
            return RiskTier.ACTIVE
        return RiskTier.EXPOSED if self.risk_score > 0 else RiskTier.NONE


class ProblemKind(StrEnum):
    MISSING_SOURCE = "missing-source"
    LICENCE_LIMITATION = "licence-limitation"  # a source or part the tenant's licence withholds
    UNMATCHED_OBJECT = "unmatched-object"
    SKIPPED_RECORD = "skipped-record"
    UNRESOLVED_TRUSTEE = "unresolved-trustee"
    UNKNOWN_LICENCE = "unknown-licence"
    CUSTODIAN = "custodian"
    #: The ownerless mailboxes were not all listed by their own source (Get-Mailbox, or
    #: graph/users for licences): where the inventory came from instead, and what it lacks.
    INCOMPLETE_INVENTORY = "incomplete-inventory"


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownMailbox:
    """An ownerless mailbox as an earlier run of the tenant assessed it."""

    upn: str  # lower case
    kind: MailboxKind
    display_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorInventory:
    """The ownerless mailboxes of the tenant's last stored run: what the assessment falls
    back on for mailboxes this run's sources could not list or classify."""

    label: str  # how it is named to people: "the run of 2026-12-01"
    mailboxes: tuple[KnownMailbox, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Something the assessment could not use, said out loud instead of dropped."""

    kind: ProblemKind
    source: str
    subject: str | None
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    tenant: TenantInfo
    inventory: tuple[InventoryEntry, ...]
    access: tuple[MailboxAccess, ...]
    findings: tuple[Finding, ...]
    assessments: tuple[MailboxAssessment, ...]
    problems: tuple[Problem, ...]
    checks: tuple[CheckInfo, ...]
    mailbox_counts: Mapping[str, int] = field(default_factory=dict)  # kind -> mailboxes
    #: What the run's exceptions did; None when the run had none.
    exceptions: ExceptionsReport | None = None

    def status_counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for finding in self.findings:
            counts[finding.status.value] += 1
        return counts

    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status is Status.FAIL)
