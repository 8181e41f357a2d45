"""What a check is (its metadata) and what it says about one resource (a `Finding`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from mailwarden.model.exceptions import FindingException


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # the input the check needs was missing or unreadable
    NOT_APPLICABLE = "not_applicable"
    ACCEPTED = "accepted"  # a failing finding covered by an unexpired exception


class Severity(StrEnum):
    """How bad a finding, an attack path or an alert is: the one list of severities.

    The members are listed worst first, the order reports and tables show them in; `rank`
    compares them. Documents (alerts.json, state files) spell a severity by its value."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info: larger is worse."""
        return _SEVERITY_RANK[self]

    @classmethod
    def named(cls, value: object) -> Severity | None:
        """The severity a document names, None for anything that names none."""
        if not isinstance(value, str):
            return None
        try:
            return cls(value)
        except ValueError:
            return None

    @classmethod
    def rank_of(cls, value: object) -> int:
        """The rank of a severity as a document spells it; 0 (info's) for anything else,
        so that an unknown value never outranks a known one."""
        severity = cls.named(value)
        return 0 if severity is None else severity.rank


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Scope(StrEnum):
    MAILBOX = "mailbox"
    TENANT = "tenant"


class MailboxKind(StrEnum):
    SHARED = "shared"
    ROOM = "room"
    EQUIPMENT = "equipment"
    SCHEDULING = "scheduling"
    UNLICENSED_USER = "unlicensed-user"
    OWNED = "owned"  # a licensed person's own mailbox: out of mailwarden's scope

    @property
    def ownerless(self) -> bool:
        return self is not MailboxKind.OWNED


#: Placeholders a remediation template may hold; `Remediation.bind` fills them in.
UPN_PLACEHOLDER = "<upn>"
ID_PLACEHOLDER = "<id>"
TENANT_PLACEHOLDER = "<tenant>"


@dataclass(frozen=True, slots=True, kw_only=True)
class Remediation:
    """How to fix a failure. Commands are complete lines a person can paste.

    `powershell` uses the ExchangeOnlineManagement and Microsoft Graph PowerShell modules;
    `graph` holds Microsoft Graph REST calls; `exchange_api` holds calls to the Exchange
    Online admin API (`InvokeCommand`), for settings Graph cannot change.
    """

    summary: str
    powershell: tuple[str, ...] = ()
    graph: tuple[str, ...] = ()
    exchange_api: tuple[str, ...] = ()
    note: str | None = None

    def bind(
        self, *, upn: str | None, account_id: str | None, tenant: str | None = None
    ) -> Remediation:
        """The same remediation with the mailbox's UPN, account id and tenant filled in."""
        values = {UPN_PLACEHOLDER: upn, ID_PLACEHOLDER: account_id, TENANT_PLACEHOLDER: tenant}

        def fill(lines: tuple[str, ...]) -> tuple[str, ...]:
            out = []
            for line in lines:
                for placeholder, value in values.items():
                    if value:
                        line = line.replace(placeholder, value)
                out.append(line)
            return tuple(out)

        return replace(
            self,
            powershell=fill(self.powershell),
            graph=fill(self.graph),
            exchange_api=fill(self.exchange_api),
        )

    def extended(self, powershell: tuple[str, ...]) -> Remediation:
        """Add commands specific to one finding (e.g. the exact delegates to remove)."""
        return replace(self, powershell=self.powershell + powershell)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "summary": self.summary,
            "powershell": list(self.powershell),
            "graph": list(self.graph),
            "exchange_api": list(self.exchange_api),
        }
        if self.note:
            data["note"] = self.note
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckInfo:
    """A check's metadata, declared next to its code."""

    id: str
    title: str
    severity: Severity  # the base severity; a finding may be raised (see `Finding.severity`)
    scope: Scope
    passes: str  # what a pass means, in one sentence
    fails: str  # what a fail means, in one sentence
    #: Snapshot sources it cannot judge without, e.g. "exo/Get-CASMailbox": when one is
    #: missing every finding of the check is `error`.
    needs: tuple[str, ...]
    #: References into the control catalogue (`model/controls.py`): "CIS M365 6.0.0 1.2.2".
    controls: tuple[str, ...]
    remediation: Remediation
    risk: str  # why a failure matters
    tenant_summary: bool = False  # a mailbox check that also reports once for the tenant
    #: Sources it also reads when they are there: without one it still judges what it can
    #: (a fail stands, a severity may be lower), and says `error` where the missing
    #: source could have changed a pass.
    uses: tuple[str, ...] = ()
    #: "source:property/path" the verdict rests on that a present source can still lack
    #: (a property not returned, not selected, or needing a licence or permission).
    fields: tuple[str, ...] = ()
    #: Whether it reads a mailbox's own Get-Mailbox properties (auditing, forwarding,
    #: GrantSendOnBehalfTo, the room account flag), not only which mailboxes there are.
    #: One that does not still judges, from its other sources, the mailboxes that Get-User,
    #: Get-CASMailbox or the last stored run list when Get-Mailbox failed. (Whether an
    #: account can sign in falls back on Get-Mailbox's AccountDisabled only where Graph does
    #: not say; without Get-Mailbox that stays unknown, and the check says `error`.)
    reads_mailbox: bool = True

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source it reads, needed or used."""
        return tuple(dict.fromkeys((*self.needs, *self.uses)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    type: Scope
    upn: str | None = None  # lower case; None for the tenant
    kind: MailboxKind | None = None
    display_name: str | None = None
    account_id: str | None = None
    #: A tenant finding about one application (app-mail-access-unscoped): its appId.
    app_id: str | None = None

    @property
    def key(self) -> str | None:
        """What tells this resource from the others of its check: the mailbox's UPN, the
        application's "app:<appId>", or None for the tenant."""
        if self.upn:
            return self.upn
        return f"app:{self.app_id}" if self.app_id else None

    @property
    def label(self) -> str:
        """How a person reads it: the UPN, "application <name> (<appId>)", or "the tenant"."""
        if self.upn:
            return self.upn
        if self.app_id:
            return f"application {self.display_name or self.app_id} ({self.app_id})"
        return "the tenant"


TENANT_RESOURCE = Resource(type=Scope.TENANT)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    check_id: str
    status: Status
    severity: Severity
    resource: Resource
    message: str  # one sentence a person understands
    evidence: Mapping[str, Any] = field(default_factory=dict)
    controls: tuple[str, ...] = ()
    remediation: Remediation | None = None
    #: The exception that accepts this finding (status `accepted`), or the expired one that
    #: no longer does (status `fail`); None when no exception names it.
    exception: FindingException | None = None

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL
