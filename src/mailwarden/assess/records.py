"""Plain records an assessment hands on: inventory entries and problems."""

from __future__ import annotations

from collections.abc import Iterable

from mailwarden.assess.facts import LEGACY_PROTOCOLS, MailboxFacts
from mailwarden.model.findings import (
    InventoryEntry,
    MailboxAccess,
    Problem,
    ProblemKind,
    TrusteeKind,
)
from mailwarden.model.inventory import Snapshot
from mailwarden.text import plural

_EXAMPLES = 3


def snapshot_problems(snapshot: Snapshot) -> list[Problem]:
    """Missing or failed sources, what a licence withheld, and records the reader had to
    skip (counted per source)."""
    problems = [
        Problem(
            kind=ProblemKind.LICENCE_LIMITATION
            if source in snapshot.limitations
            else ProblemKind.MISSING_SOURCE,
            source=source,
            subject=None,
            detail=reason,
        )
        for source, reason in sorted(snapshot.problems.items())
    ]
    problems += [
        Problem(kind=ProblemKind.MISSING_SOURCE, source=source, subject=mailbox, detail=reason)
        for source, failed in sorted(snapshot.mailbox_problems.items())
        for mailbox, reason in sorted(failed.items())
    ]
    skipped: dict[str, list[str]] = {}
    for record in snapshot.skipped:
        skipped.setdefault(record.source.split("[", 1)[0], []).append(
            f"#{record.index}: {record.reason}"
        )
    for source, reasons in sorted(skipped.items()):
        shown = "; ".join(reasons[:_EXAMPLES]) + ("; ..." if len(reasons) > _EXAMPLES else "")
        problems.append(
            Problem(
                kind=ProblemKind.SKIPPED_RECORD,
                source=source,
                subject=None,
                detail=f"{plural(len(reasons), 'record')} skipped: {shown}",
            )
        )
    return problems


def trustee_problems(maps: Iterable[MailboxAccess]) -> list[Problem]:
    """Trustee names that several objects carry: their access could not be attributed."""
    return [
        Problem(
            kind=ProblemKind.UNRESOLVED_TRUSTEE,
            source=grant.source,
            subject=access.upn,
            detail=f"{grant.right} to '{grant.trustee}': {grant.note}",
        )
        for access in maps
        for grant in access.grants
        if grant.kind is TrusteeKind.AMBIGUOUS
    ]


def _forwarding(facts: MailboxFacts) -> tuple[str, ...]:
    mailbox = facts.subject.mailbox
    targets = [t for t in (mailbox.forwarding_smtp_address, mailbox.forwarding_address) if t]
    for rule in facts.subject.rules:
        if rule.enabled is not False:
            targets += [*rule.forward_to, *rule.forward_as_attachment_to, *rule.redirect_to]
    return tuple(dict.fromkeys(targets))


def inventory_entry(facts: MailboxFacts) -> InventoryEntry:
    subject = facts.subject
    account = subject.account
    protocols: dict[str, bool | None] = {
        label: facts.protocol(attribute) for label, attribute, _ in LEGACY_PROTOCOLS
    }
    protocols["MAPI"] = facts.protocol("mapi_enabled")
    protocols["OWA"] = facts.protocol("owa_enabled")
    registration = subject.registration
    return InventoryEntry(
        upn=subject.upn,
        kind=subject.kind,
        display_name=subject.mailbox.display_name,
        recipient_type_details=subject.mailbox.recipient_type_details,
        account_id=account.id.lower() if account else None,
        account_enabled=facts.sign_in_enabled,
        licensed=None if account is None or account.licenses is None else bool(account.licenses),
        created=account.created if account else subject.mailbox.when_created,
        last_successful_sign_in=account.last_successful_sign_in if account else None,
        last_password_change=account.last_password_change if account else None,
        protocols=protocols,
        smtp_auth_enabled=facts.smtp.enabled,
        smtp_auth_source=facts.smtp.source,
        authentication_policy=facts.basic.policy,
        basic_auth_protocols=facts.basic.allowed,
        legacy_blocked_by=None
        if facts.legacy is None or facts.legacy.blocked is None
        else facts.legacy.blocked_by,
        mfa_registered=registration.is_mfa_registered if registration else None,
        audit_enabled=subject.mailbox.audit_enabled,
        roles=facts.roles,
        forwarding=_forwarding(facts),
        inbox_rules=len(subject.rules),
        delegates=len(facts.access.people),
        custodian=facts.custodian,
    )
