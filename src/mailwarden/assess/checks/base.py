"""How a check is declared: its `CheckInfo` plus a pure rule that returns a `Verdict`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.assess.inventory import Subject
from mailwarden.model.findings import CheckInfo, Resource, Severity, Status
from mailwarden.text import plural
from mailwarden.times import iso_with_offset


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    status: Status
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity | None = None  # None: the check's own severity
    commands: tuple[str, ...] = ()  # PowerShell specific to this finding
    #: The controls this finding speaks to when they are fewer than the check's (None: the
    #: check's): a mailbox's own SMTP AUTH setting is not the organisation's, which the
    #: benchmarks audit.
    controls: tuple[str, ...] | None = None


#: The sources a check reads, as its `CheckInfo` declares them (`needs`, `uses`, `fields`;
#: see `checks --format json`). A mailbox check judges the rows of Get-Mailbox.
MAILBOXES = "exo/Get-Mailbox"
USERS = "graph/users"
#: Who can reach a mailbox: its permissions, and the groups and people they name.
ACCESS = ("exo/Get-MailboxPermission", "exo/Get-RecipientPermission", "graph/groups",
          "graph/groupMembers", USERS)
#: Whether a legacy protocol takes the account's password (the sprayable path that raises
#: a severity to critical): client access switches, authentication policies, SMTP AUTH,
#: and conditional access with the groups and roles its policies name.
LEGACY_PATH = ("exo/Get-CASMailbox", "exo/Get-User", "exo/Get-AuthenticationPolicy",
               "exo/Get-OrganizationConfig", "exo/Get-TransportConfig",
               "graph/conditionalAccessPolicies", "graph/groups", "graph/groupMembers",
               "graph/roleAssignments", "graph/securityDefaults")


MailboxRule = Callable[[MailboxFacts, Context], Verdict]
TenantRule = Callable[[Context], Verdict]
#: A tenant check reported once per application: (resource naming the app, verdict) pairs,
#: judged over the ownerless mailboxes.
ApplicationsRule = Callable[[Context, Sequence[Subject]], tuple[tuple[Resource, Verdict], ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    info: CheckInfo
    mailbox: MailboxRule | None = None
    tenant: TenantRule | None = None
    applications: ApplicationsRule | None = None


def passed(message: str, evidence: Mapping[str, Any] | None = None, **more: Any) -> Verdict:
    return Verdict(status=Status.PASS, message=message, evidence={**(evidence or {}), **more})


def failed(
    message: str,
    evidence: Mapping[str, Any] | None = None,
    *,
    severity: Severity | None = None,
    commands: tuple[str, ...] = (),
    **more: Any,
) -> Verdict:
    return Verdict(
        status=Status.FAIL,
        message=message,
        evidence={**(evidence or {}), **more},
        severity=severity,
        commands=commands,
    )


def errored(message: str, evidence: Mapping[str, Any] | None = None, **more: Any) -> Verdict:
    return Verdict(status=Status.ERROR, message=message, evidence={**(evidence or {}), **more})


def not_applicable(message: str, evidence: Mapping[str, Any] | None = None, **more: Any) -> Verdict:
    return Verdict(
        status=Status.NOT_APPLICABLE, message=message, evidence={**(evidence or {}), **more}
    )


def no_account(facts: MailboxFacts) -> Verdict:
    """The error verdict for a mailbox no Entra account backs."""
    mailbox = facts.subject.mailbox
    return errored(
        f"No Entra account matches {facts.subject.upn}, so its account settings are unknown.",
        external_directory_object_id=mailbox.external_directory_object_id,
    )


def when(moment: datetime | None) -> str | None:
    return iso_with_offset(moment) if moment else None


def days_ago(moment: datetime | None, context: Context) -> int | None:
    now = context.snapshot.collected_at
    if moment is None or now is None:
        return None
    return max(0, (now - moment).days)


def ago(days: int | None) -> str:
    """How long ago, in words: "today", "1 day ago", "12 days ago"."""
    if days is None:
        return "at an unknown time"
    if days <= 0:
        return "today"
    return f"{plural(days, 'day')} ago"


def listing(items: Sequence[str]) -> str:
    """Items as a sentence lists them: "IMAP", "IMAP and POP", "IMAP, POP and EWS"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def quoted(value: str) -> str:
    """A PowerShell single-quoted string."""
    return "'" + value.replace("'", "''") + "'"
