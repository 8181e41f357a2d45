"""One builder per action kind: the failing findings of one mailbox -> its actions.

Builders are pure. They take the exact values to change from the snapshot (the grant's
trustee as Exchange wrote it, the rule's identity) so that each call names precisely what
the finding saw, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mailwarden.assess.checks.mailflow import target_address
from mailwarden.model.findings import Finding, Grant, MailboxAccess, Right, TrusteeKind
from mailwarden.model.inventory import InboxRule, Mailbox
from mailwarden.remediate.model import (
    Action,
    ActionKind,
    Call,
    ExoCall,
    GraphCall,
    Reason,
    action_id,
)

#: Checks a blocked sign-in makes pass (or not applicable).
SIGN_IN_CHECKS = ("sign-in-enabled", "resource-account-enabled", "no-mfa-on-enabled-account")
#: Protocol checks -> the Set-CASMailbox parameter and the value that turns it off.
PROTOCOL_PARAMETERS: Mapping[str, tuple[str, bool]] = {
    "imap-enabled": ("ImapEnabled", False),
    "pop-enabled": ("PopEnabled", False),
    "ews-enabled": ("EwsEnabled", False),
    "activesync-enabled": ("ActiveSyncEnabled", False),
    "smtp-auth-enabled": ("SmtpClientAuthenticationDisabled", True),
}
#: Checks some action answers; the plan lists the other failures as manual work.
AUTOMATED = frozenset(
    {
        *SIGN_IN_CHECKS,
        *PROTOCOL_PARAMETERS,
        "mailbox-audit-disabled",
        "audit-actions-missing",
        "stale-delegate",
        "external-forwarding",
        "hiding-inbox-rule",
        "remote-powershell-enabled",
    }
)
AUDIT_LISTS = ("AuditOwner", "AuditDelegate", "AuditAdmin")


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What the builders know about one ownerless mailbox."""

    upn: str
    account_id: str | None
    failing: Mapping[str, Finding]  # check id -> its failing finding
    access: MailboxAccess | None
    mailbox: Mailbox | None
    rules: tuple[InboxRule, ...]
    domains: frozenset[str]
    include_ews: bool = False
    include_activesync: bool = False

    def reason(self, check_id: str) -> Reason:
        return Reason(check_id=check_id, message=self.failing[check_id].message)

    def action(self, kind: ActionKind, *id_parts: str, calls: tuple[Call, ...],
               reasons: tuple[Reason, ...], breaks: str,
               detail: Mapping[str, Any] | None = None, reversible: bool = True,
               note: str | None = None) -> Action:
        """An action on this mailbox; its id is stable for the kind, the mailbox and
        `id_parts` (what else tells two actions of one kind on one mailbox apart)."""
        return Action(id=action_id(kind, self.upn, *id_parts), kind=kind, upn=self.upn,
                      account_id=self.account_id, calls=calls, reasons=reasons, breaks=breaks,
                      detail=detail or {}, reversible=reversible, note=note)


def block_sign_in(t: Target) -> Iterator[Action]:
    checks = [c for c in SIGN_IN_CHECKS if c in t.failing]
    if not checks or not t.account_id:
        return
    path = f"/users/{t.account_id}"
    yield t.action(
        ActionKind.BLOCK_SIGN_IN,
        calls=(
            GraphCall(method="PATCH", path=path, body={"accountEnabled": False}),
            GraphCall(method="POST", path=f"{path}/revokeSignInSessions"),
        ),
        reasons=tuple(t.reason(c) for c in checks),
        breaks="Nothing that uses delegated access; anything that signs in with the "
        "account's own password (a scanner, a meeting-room console, a script) stops.",
        detail={"accountEnabled": False},
        note="Revoked sessions stay revoked: a rollback enables sign-in again only.",
    )


def disable_protocols(t: Target) -> Iterator[Action]:
    wanted = {"ews-enabled": t.include_ews, "activesync-enabled": t.include_activesync}
    checks = [c for c in PROTOCOL_PARAMETERS if c in t.failing and wanted.get(c, True)]
    if not checks:
        return
    parameters = dict(PROTOCOL_PARAMETERS[c] for c in checks)
    yield t.action(
        ActionKind.DISABLE_PROTOCOLS,
        calls=(ExoCall(cmdlet="Set-CASMailbox", parameters={"Identity": t.upn, **parameters}),),
        reasons=tuple(t.reason(c) for c in checks),
        breaks="Clients that open the mailbox over "
        + ", ".join(_protocol_label(p) for p in parameters)
        + " (mail apps, scanners or scripts using its password) stop; Outlook and OWA "
        "through delegated access keep working.",
        detail={"parameters": parameters},
    )


def _protocol_label(parameter: str) -> str:
    return {
        "ImapEnabled": "IMAP",
        "PopEnabled": "POP",
        "EwsEnabled": "EWS",
        "ActiveSyncEnabled": "ActiveSync",
        "SmtpClientAuthenticationDisabled": "SMTP AUTH",
    }[parameter]


def enable_mailbox_audit(t: Target) -> Iterator[Action]:
    if "mailbox-audit-disabled" not in t.failing:
        return
    yield t.action(
        ActionKind.ENABLE_MAILBOX_AUDIT,
        calls=(
            ExoCall(cmdlet="Set-Mailbox", parameters={"Identity": t.upn, "AuditEnabled": True}),
        ),
        reasons=(t.reason("mailbox-audit-disabled"),),
        breaks="Nothing; audit records take space in the mailbox's Recoverable Items folder.",
        detail={"AuditEnabled": True},
    )


def add_audit_actions(t: Target) -> Iterator[Action]:
    finding = t.failing.get("audit-actions-missing")
    if finding is None:
        return
    missing = finding.evidence.get("missing")
    add = {
        name: sorted(str(a) for a in missing[name])
        for name in AUDIT_LISTS
        if isinstance(missing, Mapping) and missing.get(name)
    }
    if not add:
        return
    parameters: dict[str, Any] = {"Identity": t.upn}
    parameters.update({name: {"Add": actions} for name, actions in add.items()})
    yield t.action(
        ActionKind.ADD_AUDIT_ACTIONS,
        calls=(ExoCall(cmdlet="Set-Mailbox", parameters=parameters),),
        reasons=(t.reason("audit-actions-missing"),),
        breaks="Nothing; the mailbox stops following Microsoft's default audit set, so later "
        "additions to that set must be added by hand.",
        detail={"add": add},
        note="A rollback restores the lists of actions; Set-Mailbox -DefaultAuditSet puts a "
        "mailbox back on Microsoft's defaults.",
    )


def remove_delegates(t: Target) -> Iterator[Action]:
    finding = t.failing.get("stale-delegate")
    if finding is None or t.access is None:
        return
    stale = {
        str(p.get("upn") or "").lower()
        for p in finding.evidence.get("stale") or ()
        if isinstance(p, Mapping) and "direct" in (p.get("via") or ())
    }
    reason = t.reason("stale-delegate")
    for grant in t.access.grants:
        if grant.deny or grant.inherited or grant.kind is not TrusteeKind.USER:
            continue
        if (grant.name or "").lower() in stale:
            yield _removal(t, grant, reason, orphaned=False)
    for grant in t.access.orphaned:
        if not grant.deny and not grant.inherited:
            yield _removal(t, grant, reason, orphaned=True)


def _removal(t: Target, grant: Grant, reason: Reason, *, orphaned: bool) -> Action:
    right = str(grant.right)
    trustee = grant.trustee
    if right == Right.SEND_AS:
        call = ExoCall(
            cmdlet="Remove-RecipientPermission",
            parameters={"Identity": t.upn, "Trustee": trustee, "AccessRights": ["SendAs"]},
        )
    elif right == Right.SEND_ON_BEHALF:
        call = ExoCall(
            cmdlet="Set-Mailbox",
            parameters={"Identity": t.upn, "GrantSendOnBehalfTo": {"Remove": [trustee]}},
        )
    else:
        call = ExoCall(
            cmdlet="Remove-MailboxPermission",
            parameters={
                "Identity": t.upn,
                "User": trustee,
                "AccessRights": [right],
                "InheritanceType": "All",
            },
        )
    who = grant.name or trustee
    return t.action(
        ActionKind.REMOVE_DELEGATE, right, trustee,
        calls=(call,),
        reasons=(Reason(check_id=reason.check_id, message=f"{right} to {who}: {reason.message}"),),
        breaks="Nothing: the grant belongs to a deleted object, of which only the SID is left."
        if orphaned
        else f"{who} loses {right} on the mailbox; if they still need it, grant it again "
        "to their current account.",
        detail={"right": right, "trustee": trustee, "person": grant.name, "orphaned": orphaned},
        reversible=not orphaned,
        note="The trustee is a deleted object: Exchange cannot grant it access again."
        if orphaned
        else None,
    )


def remove_forwarding(t: Target) -> Iterator[Action]:
    finding = t.failing.get("external-forwarding")
    if finding is None or t.mailbox is None:
        return
    where = {
        str(e.get("where"))
        for e in finding.evidence.get("external") or ()
        if isinstance(e, Mapping)
    }
    clear = [p for p in ("ForwardingSmtpAddress", "ForwardingAddress") if p in where]
    if not clear:
        return
    parameters: dict[str, Any] = dict.fromkeys(clear)
    left = [
        p
        for p, value in (
            ("ForwardingSmtpAddress", t.mailbox.forwarding_smtp_address),
            ("ForwardingAddress", t.mailbox.forwarding_address),
        )
        if value and p not in clear
    ]
    if not left and t.mailbox.deliver_to_mailbox_and_forward:
        parameters["DeliverToMailboxAndForward"] = False
    yield t.action(
        ActionKind.REMOVE_FORWARDING,
        calls=(ExoCall(cmdlet="Set-Mailbox", parameters={"Identity": t.upn, **parameters}),),
        reasons=(t.reason("external-forwarding"),),
        breaks="Whoever received the mailbox's mail outside the organisation stops getting "
        "it; if a partner depends on it, arrange a reviewed alternative.",
        detail={"parameters": parameters},
    )


def disable_inbox_rules(t: Target) -> Iterator[Action]:
    chosen: dict[str, list[str]] = {}  # rule identity -> check ids
    for rule in t.rules:
        if "external-forwarding" in t.failing and rule.enabled is not False and rule.identity:
            targets = rule.forward_to + rule.forward_as_attachment_to + rule.redirect_to
            addresses = [a for a in map(target_address, targets) if a]
            if any(a.rsplit("@", 1)[-1] not in t.domains for a in addresses):
                chosen.setdefault(rule.identity, []).append("external-forwarding")
    hiding = t.failing.get("hiding-inbox-rule")
    for item in hiding.evidence.get("rules") or () if hiding is not None else ():
        if isinstance(item, Mapping) and item.get("identity"):
            chosen.setdefault(str(item["identity"]), []).append("hiding-inbox-rule")
    names = {r.identity: r.name for r in t.rules if r.identity}
    for identity, checks in sorted(chosen.items()):
        yield t.action(
            ActionKind.DISABLE_INBOX_RULE, identity,
            calls=(ExoCall(cmdlet="Disable-InboxRule", parameters={"Identity": identity}),),
            reasons=tuple(t.reason(c) for c in dict.fromkeys(checks)),
            breaks=f"Inbox rule '{names.get(identity) or identity}' stops running; mail it "
            "forwarded or filed stays in the inbox. The rule is kept, not deleted.",
            detail={"rule": identity, "name": names.get(identity)},
        )


def disable_remote_powershell(t: Target) -> Iterator[Action]:
    if "remote-powershell-enabled" not in t.failing:
        return
    yield t.action(
        ActionKind.DISABLE_REMOTE_POWERSHELL,
        calls=(
            ExoCall(
                cmdlet="Set-User",
                parameters={"Identity": t.upn, "RemotePowerShellEnabled": False},
            ),
        ),
        reasons=(t.reason("remote-powershell-enabled"),),
        breaks="Scripts that connect to Exchange Online PowerShell as this account stop.",
        detail={"RemotePowerShellEnabled": False},
    )


BUILDERS = (
    block_sign_in,
    disable_protocols,
    enable_mailbox_audit,
    add_audit_actions,
    remove_delegates,
    remove_forwarding,
    disable_inbox_rules,
    disable_remote_powershell,
)
