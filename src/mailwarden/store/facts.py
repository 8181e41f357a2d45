"""The per-run facts drift is computed from: findings, ownerless mailboxes, delegates and
settings, as they are written to and read back from the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mailwarden.model.findings import InventoryEntry, MailboxAccess, Status
from mailwarden.model.run import MailboxChange, RunRef

#: (check id, mailbox UPN or None for the tenant)
FindingKey = tuple[str, str | None]
#: (mailbox, principal, right)
DelegateKey = tuple[str, str, str]
#: (mailbox or None for the tenant, setting name)
SettingKey = tuple[str | None, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingFact:
    status: Status
    severity: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRun:
    ref: RunRef
    findings: Mapping[FindingKey, FindingFact] = field(default_factory=dict)
    mailboxes: Mapping[str, MailboxChange] = field(default_factory=dict)
    delegates: Mapping[DelegateKey, tuple[str, ...]] = field(default_factory=dict)  # -> via
    settings: Mapping[SettingKey, str | None] = field(default_factory=dict)


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _joined(values: tuple[str, ...] | None) -> str | None:
    return None if values is None else ", ".join(sorted(values))


def mailbox_settings(entry: InventoryEntry) -> dict[str, str | None]:
    """The mailbox settings whose change is worth reporting, as display strings."""
    settings: dict[str, str | None] = {
        "sign-in enabled": _flag(entry.account_enabled),
        "licensed": _flag(entry.licensed),
        "SMTP AUTH": _flag(entry.smtp_auth_enabled),
        "authentication policy": entry.authentication_policy,
        "basic auth allowed for": _joined(entry.basic_auth_protocols),
        "legacy auth blocked by": _joined(entry.legacy_blocked_by),
        "MFA registered": _flag(entry.mfa_registered),
        "mailbox auditing": _flag(entry.audit_enabled),
        "directory roles": _joined(entry.roles),
        "forwarding": _joined(entry.forwarding),
        "inbox rules": str(entry.inbox_rules),
        "custodian": entry.custodian.person if entry.custodian else None,
    }
    for protocol, enabled in sorted(entry.protocols.items()):
        settings[protocol] = _flag(enabled)
    return settings


@dataclass(frozen=True, slots=True, kw_only=True)
class DelegateFact:
    mailbox: str
    principal: str
    right: str
    via: tuple[str, ...]
    state: tuple[str, ...]


def delegate_facts(access: MailboxAccess) -> list[DelegateFact]:
    """People with effective rights, plus grants no person stands behind (orphaned SIDs,
    everyone-like principals), one fact per right."""
    facts = [
        DelegateFact(mailbox=access.upn, principal=person.upn, right=right, via=person.via,
                     state=person.stale_reasons())
        for person in access.people
        for right in person.rights
    ]
    for grant, state in [(g, "orphaned") for g in access.orphaned] + [
        (g, "broad") for g in access.broad
    ]:
        if grant.deny:
            continue
        facts.append(DelegateFact(mailbox=access.upn, principal=grant.name or grant.trustee,
                                  right=grant.right, via=("direct",), state=(state,)))
    unique = {(f.mailbox, f.principal, f.right): f for f in facts}
    return [unique[key] for key in sorted(unique)]
