"""Spell the per-mailbox data (Get-MailboxPermission, Get-RecipientPermission,
Get-InboxRule) for ownerless mailboxes, the only ones the collector reads it for."""

from __future__ import annotations

from typing import Any

from mailwarden.synth.model import Grant, InboxRule, RuleTarget, Tenant
from mailwarden.tenant.hidden_rules import HIDDEN_RULE
from mailwarden.tenant.self_permission import SELF_PRINCIPAL, SELF_SID, self_permission_row

SPECIAL_SIDS = {"Everyone": "S-1-1-0", "NT AUTHORITY\\Authenticated Users": "S-1-5-11"}

#: Inherited entries Exchange Online shows on older mailboxes: (principal, rights, deny,
#: SID). `{forest}` is the tenant's Exchange forest prefix, `{domain}` its domain SID.
SYSTEM_ROWS = (
    ("{forest}\\Administrator", "FullAccess", True, "{domain}-500"),
    ("{forest}\\Domain Admins", "FullAccess", True, "{domain}-512"),
    ("{forest}\\Enterprise Admins", "FullAccess", True, "{domain}-519"),
    ("{forest}\\Organization Management", "FullAccess", True, "{domain}-1117"),
    ("NT AUTHORITY\\SYSTEM", "FullAccess", False, "S-1-5-18"),
    ("NT AUTHORITY\\NETWORK SERVICE", "ReadPermission", False, "S-1-5-20"),
    ("{forest}\\Exchange Servers", "FullAccess, ReadPermission", False, "{domain}-1118"),
    ("{forest}\\Exchange Trusted Subsystem", "FullAccess, ReadPermission", False,
     "{domain}-1119"),
    ("{forest}\\Managed Availability Servers", "ReadPermission", False, "{domain}-1120"),
)


class _Principals:
    def __init__(self, tenant: Tenant) -> None:
        self.accounts = {account.id: account for account in tenant.accounts}
        self.groups = {item.id: item for item in tenant.groups}

    def name_and_sid(self, grant: Grant) -> tuple[str, str]:
        """How a trustee is shown: UPN for users, name for groups, bare SID when the
        object behind it was deleted."""
        if grant.principal_kind == "user":
            account = self.accounts[grant.principal]
            return account.upn, account.exo_sid
        if grant.principal_kind == "group":
            item = self.groups[grant.principal]
            return item.display_name, item.exo_sid
        if grant.principal_kind == "sid":
            return grant.principal, grant.principal
        return grant.principal, SPECIAL_SIDS.get(grant.principal, "S-1-1-0")


def _permission(identity: str, user: str, rights: str, sid: str, *, inherited: bool = False,
                deny: bool = False) -> dict[str, Any]:
    return {
        "Identity": identity, "User": user,
        # Exchange joins several rights into one element: ["FullAccess, ReadPermission"].
        "AccessRights": [rights], "IsInherited": inherited, "Deny": deny,
        "InheritanceType": "All", "UserSid": sid,
    }


def _target(target: RuleTarget) -> str:
    if target.internal_dn:
        return f'"{target.display_name}" [EX:{target.internal_dn}]'
    return f'"{target.display_name}" [SMTP:{target.address}]'


def _targets(targets: tuple[RuleTarget, ...]) -> list[str] | None:
    return [_target(target) for target in targets] or None


def _description(rule: InboxRule) -> str:
    conditions = []
    if rule.subject_contains:
        words = " or ".join(f"'{word}'" for word in rule.subject_contains)
        conditions.append(f"the message includes specific words in the subject {words}")
    if rule.from_contains:
        words = " or ".join(f"'{word}'" for word in rule.from_contains)
        conditions.append(f"the sender's address includes {words}")
    actions = []
    for verb, targets in (("forward the message to", rule.forward_to),
                          ("forward the message as an attachment to",
                           rule.forward_as_attachment_to),
                          ("redirect the message to", rule.redirect_to)):
        if targets:
            actions.append(f"{verb} " + " or ".join(f"'{t.display_name}'" for t in targets))
    if rule.move_to_folder:
        folder = rule.move_to_folder.split(":\\")[-1]
        actions.append(f"move the message to folder '{folder}'")
    if rule.mark_as_read:
        actions.append("mark the message as read")
    if rule.delete or rule.soft_delete:
        actions.append("delete the message")
    if rule.stop_processing:
        actions.append("stop processing more rules on this message")
    text = "If the message:\r\n\t" + ("\r\n\tand ".join(conditions) or "applies to all messages")
    return text + "\r\nTake the following actions:\r\n\t" + "\r\n\tand ".join(actions) + "\r\n"


def _rule(owner: str, rule: InboxRule) -> dict[str, Any]:
    mark = {HIDDEN_RULE: True} if rule.hidden else {}
    return mark | {
        "Identity": f"{owner}\\{rule.rule_identity}",
        "MailboxOwnerId": owner,
        "RuleIdentity": rule.rule_identity,
        "Name": rule.name,
        "Enabled": rule.enabled,
        "Priority": rule.priority,
        "Description": _description(rule),
        "SubjectContainsWords": list(rule.subject_contains) or None,
        "FromAddressContainsWords": list(rule.from_contains) or None,
        "ForwardTo": _targets(rule.forward_to),
        "ForwardAsAttachmentTo": _targets(rule.forward_as_attachment_to),
        "RedirectTo": _targets(rule.redirect_to),
        "DeleteMessage": rule.delete,
        "SoftDeleteMessage": rule.soft_delete,
        "MarkAsRead": rule.mark_as_read,
        "MoveToFolder": rule.move_to_folder,
        "StopProcessingRules": rule.stop_processing,
        "InError": False,
        "ErrorType": "None",
        "SupportedByTask": True,
        "IsValid": True,
        "ObjectState": "Unchanged",
    }


def _send_as(identity: str, trustee: str, sid: str, *, deny: bool = False,
             inherited: bool = False) -> dict[str, Any]:
    return {
        "Identity": identity, "Trustee": trustee,
        "AccessControlType": "Deny" if deny else "Allow", "AccessRights": ["SendAs"],
        "IsInherited": inherited, "InheritanceType": "None", "TrusteeSidString": sid,
    }


def render_access(tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    """Get-MailboxPermission and Get-InboxRule for ownerless mailboxes (read per mailbox);
    Get-RecipientPermission for every mailbox (read for the whole organisation)."""
    principals = _Principals(tenant)
    boxes = {box.account_id: box for box in tenant.ownerless}
    deputies: dict[str, list[str]] = {}
    for mailbox_id, trustee in tenant.user_send_as:
        deputies.setdefault(mailbox_id, []).append(trustee)
    full: list[dict[str, Any]] = []
    send_as: list[dict[str, Any]] = []
    inbox_rules: list[dict[str, Any]] = []
    for account in tenant.accounts:
        if account.recipient_type is None:
            continue
        identity = account.exo_name
        send_as.append(_send_as(identity, SELF_PRINCIPAL, SELF_SID))
        for trustee in deputies.get(account.id, ()):
            delegate = principals.accounts[trustee]
            send_as.append(_send_as(identity, delegate.upn, delegate.exo_sid))
        box = boxes.get(account.id)
        if box is None:
            continue
        full.append(self_permission_row(identity))
        for grant in box.grants:
            name, sid = principals.name_and_sid(grant)
            if grant.right == "FullAccess":
                full.append(_permission(identity, name, "FullAccess", sid,
                                        inherited=grant.inherited, deny=grant.deny))
            elif grant.right == "SendAs":
                send_as.append(_send_as(identity, name, sid, deny=grant.deny,
                                        inherited=grant.inherited))
        if box.system_rows:
            for user, rights, deny, sid in SYSTEM_ROWS:
                full.append(_permission(identity, user.format(forest=tenant.exo_forest), rights,
                                        sid.format(domain=tenant.exo_domain_sid),
                                        inherited=True, deny=deny))
        inbox_rules += [_rule(identity, rule) for rule in box.rules]
    return {
        "exo/Get-MailboxPermission": full,
        "exo/Get-RecipientPermission": send_as,
        "exo/Get-InboxRule": inbox_rules,
    }
