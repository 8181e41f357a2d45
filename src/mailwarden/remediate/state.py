"""Per action kind: how to read the current state, whether it is already as wanted, and
the calls that put the prior state back.

States are small JSON objects holding only the properties the action changes, as the
service spelled them, so that the journal shows exactly what a rollback will restore.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.model.findings import Right
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall, GraphCall
from mailwarden.remediate.wire import Wire

State = dict[str, Any]
_FORWARDING = ("ForwardingSmtpAddress", "ForwardingAddress", "DeliverToMailboxAndForward")


def _same(a: Any, b: Any) -> bool:
    """Equal as Exchange compares: strings and lists of strings without regard to case or
    order; an empty string or list is the same as null."""
    if a in ("", [], None) and b in ("", [], None):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return sorted(str(x).lower() for x in a) == sorted(str(x).lower() for x in b)
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return bool(a == b)


def _listed(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, list):
        return [str(v) for v in values]
    return [str(values)]


async def read_state(action: Action, wire: Wire) -> State:
    """The current value of what `action` changes."""
    kind, upn = action.kind, action.upn
    if kind is ActionKind.BLOCK_SIGN_IN:
        user = await wire.graph_get(f"/users/{action.account_id}?$select=id,accountEnabled")
        return {"accountEnabled": user.get("accountEnabled")}
    if kind is ActionKind.DISABLE_PROTOCOLS:
        row = await wire.exo_row("Get-CASMailbox", {"Identity": upn})
        return {p: row.get(p) for p in action.detail["parameters"]}
    if kind is ActionKind.ENABLE_MAILBOX_AUDIT:
        row = await wire.exo_row("Get-Mailbox", {"Identity": upn})
        return {"AuditEnabled": row.get("AuditEnabled")}
    if kind is ActionKind.ADD_AUDIT_ACTIONS:
        row = await wire.exo_row("Get-Mailbox", {"Identity": upn})
        return {name: _listed(row.get(name)) for name in action.detail["add"]}
    if kind is ActionKind.REMOVE_DELEGATE:
        return {"present": await _grant_present(action, wire)}
    if kind is ActionKind.REMOVE_FORWARDING:
        row = await wire.exo_row("Get-Mailbox", {"Identity": upn})
        return {p: row.get(p) for p in _FORWARDING}
    if kind is ActionKind.DISABLE_REMOTE_POWERSHELL:
        row = await wire.exo_row("Get-User", {"Identity": upn})
        return {"RemotePowerShellEnabled": row.get("RemotePowerShellEnabled")}
    row = await wire.exo_row("Get-InboxRule", {"Identity": action.detail["rule"]})
    return {"Enabled": row.get("Enabled")}


async def _grant_present(action: Action, wire: Wire) -> bool:
    right, trustee = str(action.detail["right"]), str(action.detail["trustee"]).lower()
    upn = action.upn
    if right == Right.SEND_ON_BEHALF:
        row = await wire.exo_row("Get-Mailbox", {"Identity": upn})
        return trustee in {v.lower() for v in _listed(row.get("GrantSendOnBehalfTo"))}
    # Every entry of the mailbox, matched here: filtering by -User/-Trustee makes Exchange
    # resolve the trustee first, which fails for the deleted objects we remove.
    send_as = right == Right.SEND_AS
    cmdlet = "Get-RecipientPermission" if send_as else "Get-MailboxPermission"
    who = "Trustee" if send_as else "User"
    rows = await wire.exo_rows(cmdlet, {"Identity": upn})
    return any(
        str(r.get(who) or "").lower() == trustee
        and _allows(r)
        and not r.get("IsInherited")
        and right.lower() in {v.lower() for v in _listed(r.get("AccessRights"))}
        for r in rows
    )


def _allows(row: Mapping[str, Any]) -> bool:
    """An Allow entry: MailboxPermission says Deny, RecipientPermission AccessControlType."""
    return not row.get("Deny") and str(row.get("AccessControlType") or "Allow") == "Allow"


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    """Is the state already what the action would make it?"""
    kind, detail = action.kind, action.detail
    if kind is ActionKind.DISABLE_PROTOCOLS or kind is ActionKind.REMOVE_FORWARDING:
        wanted: Mapping[str, Any] = detail["parameters"]
        return all(_same(state.get(p), value) for p, value in wanted.items())
    if kind is ActionKind.ADD_AUDIT_ACTIONS:
        return all(
            {a.lower() for a in actions} <= {v.lower() for v in _listed(state.get(name))}
            for name, actions in detail["add"].items()
        )
    if kind is ActionKind.REMOVE_DELEGATE:
        return state.get("present") is False
    if kind is ActionKind.DISABLE_INBOX_RULE:
        return state.get("Enabled") is False
    name, value = next(iter(detail.items()))  # one property: accountEnabled, AuditEnabled, ...
    return _same(state.get(name), value)


def restored(prior: Mapping[str, Any], state: Mapping[str, Any]) -> bool:
    return all(_same(state.get(name), value) for name, value in prior.items())


def undo_calls(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    """The calls that put `prior` back."""
    kind, upn = action.kind, action.upn
    if kind is ActionKind.BLOCK_SIGN_IN:
        body = {"accountEnabled": prior["accountEnabled"]}
        return (GraphCall(method="PATCH", path=f"/users/{action.account_id}", body=body),)
    if kind is ActionKind.DISABLE_PROTOCOLS:
        return (ExoCall(cmdlet="Set-CASMailbox", parameters={"Identity": upn, **prior}),)
    if kind in (
        ActionKind.ENABLE_MAILBOX_AUDIT,
        ActionKind.ADD_AUDIT_ACTIONS,
        ActionKind.REMOVE_FORWARDING,
    ):
        return (ExoCall(cmdlet="Set-Mailbox", parameters={"Identity": upn, **prior}),)
    if kind is ActionKind.DISABLE_REMOTE_POWERSHELL:
        return (ExoCall(cmdlet="Set-User", parameters={"Identity": upn, **prior}),)
    if kind is ActionKind.DISABLE_INBOX_RULE:
        cmdlet = "Enable-InboxRule" if prior.get("Enabled") else "Disable-InboxRule"
        return (ExoCall(cmdlet=cmdlet, parameters={"Identity": action.detail["rule"]}),)
    return _regrant(action) if prior.get("present") else ()


def _regrant(action: Action) -> tuple[Call, ...]:
    right, trustee, upn = str(action.detail["right"]), str(action.detail["trustee"]), action.upn
    if right == Right.SEND_AS:
        parameters: dict[str, Any] = {"Identity": upn, "Trustee": trustee, "AccessRights": [right]}
        return (ExoCall(cmdlet="Add-RecipientPermission", parameters=parameters),)
    if right == Right.SEND_ON_BEHALF:
        parameters = {"Identity": upn, "GrantSendOnBehalfTo": {"Add": [trustee]}}
        return (ExoCall(cmdlet="Set-Mailbox", parameters=parameters),)
    parameters = {
        "Identity": upn,
        "User": trustee,
        "AccessRights": [right],
        "InheritanceType": "All",
        # Outlook's automatic mapping is not visible in Get-MailboxPermission, so it is
        # not restored; leaving it off never adds a mailbox to someone's Outlook.
        "AutoMapping": False,
    }
    return (ExoCall(cmdlet="Add-MailboxPermission", parameters=parameters),)
