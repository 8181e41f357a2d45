"""Remove a stale delegate: one action per grant, named by its trustee exactly as Exchange
wrote it, so that the call removes what the finding saw and nothing else.

Only grants held directly are removed (a person who holds access through a group keeps
it until the group changes), and every grant to a deleted object. Those cannot come back:
Exchange cannot grant a deleted object access again.

A dormant grant (`dormant-delegate`: unused for the window, by the audit log) is removed
as it is written, to a user or to a group, with "dormant since" its last use as reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.model.findings import Grant, Right, TrusteeKind
from mailwarden.model.findings.evidence import DormantGrants, StaleDelegates, evidence_of
from mailwarden.remediate.kinds.base import Kind, State, Target, listed
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall, Reason
from mailwarden.remediate.wire import Wire

CHECK = StaleDelegates.CHECK_ID
DORMANT = DormantGrants.CHECK_ID


def build(t: Target) -> Iterator[Action]:
    removed: set[tuple[str, str]] = set()
    for action in _stale(t):
        removed.add(_grant(action))
        yield action
    yield from (a for a in _dormant(t) if _grant(a) not in removed)


def _dormant(t: Target) -> Iterator[Action]:
    finding = t.failing.get(DORMANT)
    if finding is None or t.access is None:
        return
    evidence = evidence_of(finding, DormantGrants)
    idle = {(g.right, g.trustee.lower()): g for g in evidence.dormant}
    for grant in t.access.grants:
        found = idle.get((str(grant.right), grant.trustee.lower()))
        if found is None or grant.deny or grant.inherited:
            continue
        unused = f"not used in the last {evidence.window_days} days"
        since = f"dormant since {found.last_used[:10]} ({unused})" if found.last_used else unused
        yield _removal(t, grant, Reason(check_id=DORMANT, message=since), orphaned=False)


def _stale(t: Target) -> Iterator[Action]:
    finding = t.failing.get(CHECK)
    if finding is None or t.access is None:
        return
    evidence = evidence_of(finding, StaleDelegates)
    stale = {p.upn.lower() for p in evidence.stale if p.direct}
    reason = t.reason(CHECK)
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


def _grant(action: Action) -> tuple[str, str]:
    """The right and the trustee the action removes."""
    return str(action.detail["right"]), str(action.detail["trustee"])


async def read(action: Action, wire: Wire) -> State:
    return {"present": await _present(action, wire)}


async def _present(action: Action, wire: Wire) -> bool:
    right, trustee = _grant(action)
    trustee, upn = trustee.lower(), action.upn
    if right == Right.SEND_ON_BEHALF:
        row = await wire.exo_row("Get-Mailbox", {"Identity": upn})
        return trustee in {v.lower() for v in listed(row.get("GrantSendOnBehalfTo"))}
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
        and right.lower() in {v.lower() for v in listed(r.get("AccessRights"))}
        for r in rows
    )


def _allows(row: Mapping[str, Any]) -> bool:
    """An Allow entry: MailboxPermission says Deny, RecipientPermission AccessControlType."""
    return not row.get("Deny") and str(row.get("AccessControlType") or "Allow") == "Allow"


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return state.get("present") is False


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    """Grant the access again, when it was there before."""
    if not prior.get("present"):
        return ()
    right, trustee = _grant(action)
    upn = action.upn
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


KIND = Kind(
    kind=ActionKind.REMOVE_DELEGATE, answers=(CHECK, DORMANT),
    build=build, read=read, satisfied=satisfied, undo=undo,
)
