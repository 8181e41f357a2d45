"""What the checks read about one mailbox: the subject plus its derived facts (access
map, effective settings, custodian), each computed once before any check runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mailwarden.assess.custodians import CustodianMap
from mailwarden.assess.effective import BasicAuth, LegacyCoverage, SmtpAuth
from mailwarden.assess.index import TenantIndex
from mailwarden.assess.inventory import Subject
from mailwarden.assess.options import AssessOptions
from mailwarden.assess.usage import UsesByMailbox, index_uses
from mailwarden.model.findings import Custodian, MailboxAccess
from mailwarden.model.inventory import Snapshot
from mailwarden.model.usage import DelegateUsage

#: Client protocols: (label, Get-CASMailbox attribute, AllowBasicAuth* suffix).
LEGACY_PROTOCOLS = (
    ("IMAP", "imap_enabled", "Imap"),
    ("POP", "pop_enabled", "Pop"),
    ("EWS", "ews_enabled", "WebServices"),
    ("ActiveSync", "activesync_enabled", "ActiveSync"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """Tenant-wide inputs of the checks."""

    snapshot: Snapshot
    index: TenantIndex
    options: AssessOptions
    bypass: Mapping[str, str]  # account id (or unmatched identity) -> name, AuditBypassEnabled
    custodians: CustodianMap | None
    #: Delegates' use of the mailboxes from the Unified Audit Log (None: no log was read).
    usage: DelegateUsage | None = None
    uses: UsesByMailbox | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxFacts:
    subject: Subject
    access: MailboxAccess
    smtp: SmtpAuth
    basic: BasicAuth
    legacy: LegacyCoverage | None  # None: no Entra account to evaluate
    custodian: Custodian | None
    custodian_note: str | None  # e.g. why a file's custodian was not accepted
    roles: tuple[str, ...] = ()  # directory roles the account holds (names)

    @property
    def sign_in_enabled(self) -> bool | None:
        """Graph's accountEnabled; Exchange's AccountDisabled when no account matched."""
        account = self.subject.account
        if account is not None and account.account_enabled is not None:
            return account.account_enabled
        disabled = self.subject.mailbox.account_disabled
        return None if disabled is None else not disabled

    def protocol(self, attribute: str) -> bool | None:
        """A Get-CASMailbox switch; None when the row or the value is missing."""
        cas = self.subject.cas
        value = getattr(cas, attribute) if cas is not None else None
        return value if isinstance(value, bool) else None

    def basic_smtp_allowed(self) -> bool | None:
        """With no authentication policy Microsoft still takes SMTP AUTH passwords."""
        if self.basic.source == "none":
            return True
        return self.basic.allows("Smtp")

    def reachable_legacy(self) -> tuple[str, ...]:
        """Protocols that take a password: enabled, and either basic auth allowed for
        them or legacy clients not blocked by conditional access. None with security
        defaults on: Entra ID then refuses every legacy-protocol sign-in."""
        if self.legacy is not None and self.legacy.by_security_defaults:
            return ()
        not_blocked = self.legacy is not None and self.legacy.blocked is False
        found = []
        for label, attribute, basic_name in LEGACY_PROTOCOLS:
            if self.protocol(attribute) and (self.basic.allows(basic_name) or not_blocked):
                found.append(label)
        if self.smtp.enabled and (self.basic_smtp_allowed() or not_blocked):
            found.append("SMTP AUTH")
        return tuple(found)

    @property
    def sprayable(self) -> bool:
        """Sign-in enabled with a legacy protocol that takes a password: password spray
        reaches this account without ever meeting MFA."""
        return self.sign_in_enabled is True and bool(self.reachable_legacy())


def build_context(
    index: TenantIndex,
    options: AssessOptions,
    custodians: CustodianMap | None,
    usage: DelegateUsage | None = None,
) -> Context:
    snapshot = index.snapshot
    bypass: dict[str, str] = {}
    for row in snapshot.audit_bypass:
        if not row.audit_bypass_enabled:
            continue
        mailbox = index.mailbox(row.identity)
        account = index.account_of_mailbox(mailbox) if mailbox else index.account(row.identity)
        if account is not None:
            bypass[account.id.lower()] = account.upn
        else:
            bypass[row.identity.lower()] = row.identity
    return Context(
        snapshot=snapshot, index=index, options=options, bypass=bypass, custodians=custodians,
        usage=usage, uses=index_uses(index, usage),
    )
