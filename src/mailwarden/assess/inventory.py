"""Which mailboxes nobody owns, joined to their Entra accounts and Exchange settings."""

from __future__ import annotations

from dataclasses import dataclass

from mailwarden.assess.fallback import licences_from_prior, prior_kinds
from mailwarden.assess.index import TenantIndex
from mailwarden.model.findings import (
    MailboxKind,
    PriorInventory,
    Problem,
    ProblemKind,
    Resource,
    Scope,
)
from mailwarden.model.inventory import (
    Account,
    CasMailbox,
    ExoUser,
    InboxRule,
    Mailbox,
    UserRegistration,
)
from mailwarden.text import plural

KIND_BY_TYPE = {
    "sharedmailbox": MailboxKind.SHARED,
    "roommailbox": MailboxKind.ROOM,
    "equipmentmailbox": MailboxKind.EQUIPMENT,
    "schedulingmailbox": MailboxKind.SCHEDULING,
}
#: Mailboxes that belong to a person's account (licence decides whether it is owned).
USER_TYPES = frozenset({"usermailbox", "linkedmailbox"})
#: Exchange's own mailboxes: never a person's, never anybody's to harden.
SYSTEM_TYPES = frozenset(
    {
        "discoverymailbox",
        "arbitrationmailbox",
        "auditlogmailbox",
        "auxauditlogmailbox",
        "monitoringmailbox",
        "supervisoryreviewpolicymailbox",
        "systemmailbox",
        "publicfoldermailbox",
    }
)
SYSTEM_NAME_PREFIXES = (
    "discoverysearchmailbox",
    "systemmailbox{",
    "federatedemail.",
    "migration.",
    "healthmailbox",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    kind: MailboxKind | None  # None: not assessed (system mailbox, or unknown)
    reason: str


def classify(
    mailbox: Mailbox, account: Account | None, *, users_read: bool = True
) -> Classification:
    """Shared, room, equipment, scheduling, unlicensed user, or owned. `users_read` False:
    graph/users failed, so no account can say a user mailbox's licence."""
    type_name = (mailbox.recipient_type_details or "").lower()
    name = (mailbox.name or mailbox.identity or "").lower()
    if type_name in SYSTEM_TYPES or name.startswith(SYSTEM_NAME_PREFIXES):
        return Classification(
            kind=None, reason=f"system mailbox ({mailbox.recipient_type_details})"
        )
    if type_name in KIND_BY_TYPE:
        return Classification(
            kind=KIND_BY_TYPE[type_name], reason=mailbox.recipient_type_details or ""
        )
    if type_name in USER_TYPES:
        if account is None and not users_read:
            return Classification(kind=None, reason="graph/users was not collected: licence "
                                  "unknown")
        if account is None:
            return Classification(kind=None, reason="no Entra account matched: licence unknown")
        if account.licenses is None:
            return Classification(kind=None, reason="assignedLicenses was not collected")
        if not account.licenses:
            return Classification(kind=MailboxKind.UNLICENSED_USER, reason="no licence assigned")
        return Classification(kind=MailboxKind.OWNED, reason="a licensed account's mailbox")
    if mailbox.recipient_type_details is None:
        return Classification(kind=None, reason="its type (RecipientTypeDetails) is unknown")
    return Classification(
        kind=None, reason=f"RecipientTypeDetails {mailbox.recipient_type_details!r}"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """One ownerless mailbox with the rows that concern it."""

    position: int  # in snapshot.mailboxes
    upn: str
    kind: MailboxKind
    mailbox: Mailbox
    account: Account | None
    cas: CasMailbox | None
    exo_user: ExoUser | None
    registration: UserRegistration | None
    rules: tuple[InboxRule, ...]
    resource: Resource  # how findings name it


def mailbox_upn(mailbox: Mailbox, account: Account | None) -> str:
    value = (
        mailbox.user_principal_name
        or (account.upn if account else None)
        or mailbox.primary_smtp_address
        or mailbox.identity
        or mailbox.name
        or "?"
    )
    return value.lower()


def ownerless_subjects(
    index: TenantIndex, prior: PriorInventory | None = None
) -> tuple[tuple[Subject, ...], dict[str, int], list[Problem]]:
    """The ownerless mailboxes, counts of every kind, and what could not be joined.

    Without graph/users, a user mailbox the last stored run (`prior`) assessed as
    unlicensed is taken as unlicensed, and a problem says so (`assess.fallback`)."""
    snapshot = index.snapshot
    users_known = snapshot.available("graph/users")
    mailboxes_listed = snapshot.available("exo/Get-Mailbox")
    earlier = prior_kinds(prior)
    subjects: list[Subject] = []
    counts: dict[str, int] = {}
    problems: list[Problem] = []
    not_assessed: dict[str, list[str]] = {}
    from_prior: list[str] = []
    for position, mailbox in enumerate(index.mailboxes):
        account = index.account_of_mailbox(mailbox)
        verdict = classify(mailbox, account, users_read=users_known)
        upn = mailbox_upn(mailbox, account)
        known = earlier.get(upn)
        if (
            verdict.kind is None and not users_known and prior is not None
            and (mailbox.recipient_type_details or "").lower() in USER_TYPES
            and known is not None and known.kind is MailboxKind.UNLICENSED_USER
        ):
            verdict = Classification(kind=MailboxKind.UNLICENSED_USER,
                                     reason=f"unlicensed in {prior.label}")
            from_prior.append(upn)
        label = verdict.kind.value if verdict.kind else "not assessed"
        counts[label] = counts.get(label, 0) + 1
        if (
            account is None and users_known and mailboxes_listed
            and not verdict.reason.startswith("system")
        ):
            problems.append(
                Problem(
                    kind=ProblemKind.UNMATCHED_OBJECT,
                    source="exo/Get-Mailbox",
                    subject=upn,
                    detail="no Entra account has its ExternalDirectoryObjectId "
                    f"({mailbox.external_directory_object_id}) or UPN",
                )
            )
        if verdict.kind is None:
            if not verdict.reason.startswith("system"):
                not_assessed.setdefault(verdict.reason, []).append(upn)
            continue
        if not verdict.kind.ownerless:
            continue
        subjects.append(
            Subject(
                position=position,
                upn=upn,
                kind=verdict.kind,
                mailbox=mailbox,
                account=account,
                cas=index.cas_of(mailbox),
                exo_user=index.exo_user_of(mailbox, account),
                registration=index.registrations.get(account.id.lower()) if account else None,
                rules=tuple(index.rules.get(position, ())),
                resource=Resource(
                    type=Scope.MAILBOX,
                    upn=upn,
                    kind=verdict.kind,
                    display_name=mailbox.display_name,
                    account_id=account.id.lower() if account else None,
                ),
            )
        )
    for reason, upns in sorted(not_assessed.items()):
        examples = ", ".join(upns[:5]) + (", ..." if len(upns) > 5 else "")
        problems.append(
            Problem(
                kind=ProblemKind.UNKNOWN_LICENCE,
                source="exo/Get-Mailbox",
                subject=None,
                detail=f"{plural(len(upns), 'mailbox', 'mailboxes')} not assessed, {reason}: "
                f"{examples}",
            )
        )
    if from_prior and prior is not None:
        problems.append(licences_from_prior(len(from_prior), prior))
    problems += _unmatched_exo_users(index)
    if mailboxes_listed:
        problems += _unmatched_cas(index)
    return tuple(sorted(subjects, key=lambda s: s.upn)), counts, problems


def _unmatched_exo_users(index: TenantIndex) -> list[Problem]:
    """Get-User rows without an Entra account, and Entra accounts Get-User lacks."""
    snapshot = index.snapshot
    if not (snapshot.available("exo/Get-User") and snapshot.available("graph/users")):
        return []
    problems = []
    seen: set[str] = set()
    for row in snapshot.exo_users:
        account = None
        for key in (row.external_directory_object_id, row.user_principal_name):
            if key and account is None:
                account = index.account_by_id.get(key.lower()) or index.account(key)
        if account is None:
            problems.append(
                Problem(
                    kind=ProblemKind.UNMATCHED_OBJECT,
                    source="exo/Get-User",
                    subject=(row.user_principal_name or row.identity or "?").lower(),
                    detail="no Entra account matches this Exchange user",
                )
            )
        else:
            seen.add(account.id.lower())
    for account in index.accounts:
        if account.id.lower() not in seen:
            problems.append(
                Problem(
                    kind=ProblemKind.UNMATCHED_OBJECT,
                    source="graph/users",
                    subject=account.upn,
                    detail="Get-User has no row for this account",
                )
            )
    return problems


def _unmatched_cas(index: TenantIndex) -> list[Problem]:
    """Get-CASMailbox rows that name no mailbox Get-Mailbox listed."""
    problems = []
    for row in index.snapshot.cas_mailboxes:
        keys = (row.external_directory_object_id, row.guid, row.identity, row.primary_smtp_address)
        if all(index.mailbox_position(key) is None for key in keys):
            problems.append(
                Problem(
                    kind=ProblemKind.UNMATCHED_OBJECT,
                    source="exo/Get-CASMailbox",
                    subject=(row.primary_smtp_address or row.identity or "?").lower(),
                    detail="no mailbox in Get-Mailbox matches this client access row",
                )
            )
    return problems
