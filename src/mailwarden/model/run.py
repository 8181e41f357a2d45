"""A `Run`: one assessment (and, when logs were read, detection) of a tenant at one time,
and `Drift`, what changed between two stored runs of the same tenant.

Renderers and the history store take a `Run`; nothing here reads or writes anything.
Alerts are held in their alerts.json dict form (SPEC section 8), so the model does not
depend on how detection represents them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from mailwarden.model.findings import ScanResult, Status
from mailwarden.model.inventory import TenantInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotSummary:
    """What the run read: record counts per source and the sources it could not use."""

    records: Mapping[str, int] = field(default_factory=dict)  # source -> records read
    missing_sources: Mapping[str, str] = field(default_factory=dict)  # source -> why
    skipped_records: int = 0
    #: Tenant-wide settings that drift is reported on, as display strings (None: unknown).
    settings: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Detection:
    """alerts.json content: alerts as dicts plus what was read and which rules ran."""

    alerts: tuple[Mapping[str, Any], ...]
    inputs: tuple[Mapping[str, Any], ...] = ()
    rules: tuple[Mapping[str, Any], ...] = ()
    #: The alerts grouped into incidents (alerts.json "incidents"), each naming its alerts.
    incidents: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRef:
    """A stored run, as `history` lists it."""

    id: int
    tenant_id: str
    tenant_name: str | None
    generated_at: datetime
    ownerless: int
    failures: int
    alerts: int | None  # None: no logs were analysed in that run


class FindingChangeKind(StrEnum):
    NEW = "new"  # fails now; the check or mailbox was not assessed before
    REGRESSED = "regressed"  # fails now; passed (or did not apply, or errored) before
    FIXED = "fixed"  # failed before; passes or no longer applies now
    ACCEPTED = "accepted"  # failed before; still fails, but an exception accepts it now
    UNVERIFIED = "unverified"  # failed before; cannot be judged now (input missing)
    GONE = "gone"  # failed before; the mailbox is no longer ownerless or no longer exists


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingChange:
    kind: FindingChangeKind
    check_id: str
    upn: str | None  # None: a tenant-wide check
    severity: str
    before: Status | None
    after: Status | None
    message: str  # the newer run's message where there is one


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxChange:
    upn: str
    kind: str
    display_name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DelegateChange:
    """One right of one principal on one mailbox that appeared or disappeared."""

    mailbox: str
    principal: str  # a person's UPN, or the trustee as written for orphaned/broad grants
    right: str
    via: tuple[str, ...]  # "direct" or the groups granting it (in the run that has it)


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingChange:
    mailbox: str | None  # None: a tenant-wide setting
    setting: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Drift:
    """What changed from run `before` to run `after` (same tenant)."""

    before: RunRef
    after: RunRef
    findings: tuple[FindingChange, ...] = ()
    mailboxes_added: tuple[MailboxChange, ...] = ()
    mailboxes_removed: tuple[MailboxChange, ...] = ()
    delegates_added: tuple[DelegateChange, ...] = ()
    delegates_removed: tuple[DelegateChange, ...] = ()
    settings_changed: tuple[SettingChange, ...] = ()

    def findings_of(self, kind: FindingChangeKind) -> tuple[FindingChange, ...]:
        return tuple(change for change in self.findings if change.kind is kind)

    @property
    def empty(self) -> bool:
        return not (
            self.findings
            or self.mailboxes_added
            or self.mailboxes_removed
            or self.delegates_added
            or self.delegates_removed
            or self.settings_changed
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """Everything one run found, ready to render and to store."""

    generated_at: datetime  # timezone-aware
    result: ScanResult
    snapshot: SnapshotSummary = field(default_factory=SnapshotSummary)
    detection: Detection | None = None  # None: no logs were analysed
    changes: Drift | None = None  # since the previous stored run of the tenant
    version: str = ""  # mailwarden's version that produced the run

    @property
    def tenant(self) -> TenantInfo:
        return self.result.tenant

    @property
    def alerts(self) -> tuple[Mapping[str, Any], ...]:
        return self.detection.alerts if self.detection else ()

    @property
    def incidents(self) -> tuple[Mapping[str, Any], ...]:
        return self.detection.incidents if self.detection else ()
