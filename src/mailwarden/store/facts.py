"""The per-run facts drift is computed from: findings, ownerless mailboxes, delegates and
settings, as they are written to and read back from the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mailwarden.model.findings import (
    Grant,
    GrantUse,
    InventoryEntry,
    MailboxAccess,
    PersonAccess,
    Status,
    TrusteeKind,
)
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
    #: The grants this access comes through, each as Exchange wrote its trustee (what a
    #: removal must name) with its last use when it was judged (`grant_record`).
    grants: tuple[dict[str, Any], ...] = ()

    def stored_state(self) -> dict[str, Any]:
        """The `delegates.state` column: {"stale": why the principal should not hold
        access, "grants": [grant_record, ...]} (runs stored before last use was kept hold
        the list of reasons alone; `stored_grants` reads both)."""
        return {"stale": list(self.state), "grants": [dict(g) for g in self.grants]}


def use_record(use: GrantUse | None) -> dict[str, Any] | None:
    """A grant's last use as stored: state (used | dormant | unknown), the window, the
    last use on record (ISO), its operation, who used it, why it is unknown."""
    if use is None:
        return None
    return {"state": use.state.value, "window_days": use.window_days,
            "last_used": use.last_used.isoformat() if use.last_used else None,
            "operation": use.operation, "used_by": use.used_by, "reason": use.reason}


def grant_record(grant: Grant, via: str, use: GrantUse | None) -> dict[str, Any]:
    """One grant behind a delegate: "direct" or the group's name, the trustee exactly as
    Exchange wrote it, what the trustee is, and its last use (None: not judged)."""
    return {"via": via, "trustee": grant.trustee, "kind": grant.kind.value, "name": grant.name,
            "use": use_record(use)}


def stored_grants(state: Any) -> tuple[tuple[str, ...], tuple[dict[str, Any], ...]]:
    """(stale reasons, grant records) of a stored `delegates.state`, either shape."""
    if isinstance(state, dict):
        return (tuple(str(r) for r in state.get("stale") or ()),
                tuple(dict(g) for g in state.get("grants") or ()))
    return tuple(str(r) for r in state or ()), ()


def _person_grants(access: MailboxAccess, person: PersonAccess, right: str,
                   uses: Mapping[tuple[str, str], GrantUse]) -> tuple[dict[str, Any], ...]:
    """The grants of `right` that reach `person`: their own (matched by account id) and
    those of the groups they hold it through."""
    found = []
    for grant in access.grants:
        if grant.deny or grant.inherited or str(grant.right) != right:
            continue
        direct = (grant.kind is TrusteeKind.USER and grant.object_id is not None
                  and grant.object_id.lower() == person.account_id.lower()
                  and "direct" in person.via)
        group = grant.kind is TrusteeKind.GROUP and grant.name in person.via
        if direct or group:
            use = uses.get((right, grant.trustee.lower()))
            found.append(grant_record(grant, "direct" if direct else grant.name or "?", use))
    return tuple(found)


def delegate_facts(access: MailboxAccess) -> list[DelegateFact]:
    """People with effective rights, plus grants no person stands behind (orphaned SIDs,
    everyone-like principals), one fact per right."""
    uses = {(u.right, u.trustee.lower()): u for u in access.usage}
    facts = []
    for person in access.people:
        for right in person.rights:
            facts.append(DelegateFact(
                mailbox=access.upn, principal=person.upn, right=right, via=person.via,
                state=person.stale_reasons(),
                grants=_person_grants(access, person, right, uses)))
    for grant, state in [(g, "orphaned") for g in access.orphaned] + [
        (g, "broad") for g in access.broad
    ]:
        if grant.deny:
            continue
        use = uses.get((str(grant.right), grant.trustee.lower()))
        facts.append(DelegateFact(mailbox=access.upn, principal=grant.name or grant.trustee,
                                  right=grant.right, via=("direct",), state=(state,),
                                  grants=(grant_record(grant, "direct", use),)))
    unique = {(f.mailbox, f.principal, f.right): f for f in facts}
    return [unique[key] for key in sorted(unique)]
