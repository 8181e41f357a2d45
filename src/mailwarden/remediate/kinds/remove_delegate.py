"""Remove a stale delegate: one action per grant, named by its trustee exactly as Exchange
wrote it, so that the call removes what the finding saw and nothing else.

Only grants held directly are removed (a person who holds access through a group keeps
it until the group changes), and every grant to a deleted object. Those cannot come back:
Exchange cannot grant a deleted object access again.

A leaver (disabled account) and an unlicensed member lose their grants; a guest or an
external person is no leaver and may still work with the organisation, so their grants
are removed only when the plan is asked to (`include_external_delegates`), and the plan
lists them as held back otherwise.

A dormant grant (`dormant-delegate`: unused for the window, by the audit log) is removed
as it is written, to a user or to a group, with "dormant since" its last use as reason; a
grant that is both stale and dormant is removed once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.model.findings import Grant, Right, TrusteeKind
from mailwarden.model.findings.evidence import (
    DormantGrants,
    StaleDelegate,
    StaleDelegates,
    evidence_of,
)
from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target, listed
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall, Reason
from mailwarden.remediate.pstext import quote
from mailwarden.remediate.wire import Wire

CHECK = StaleDelegates.CHECK_ID
DORMANT = DormantGrants.CHECK_ID


#: Reasons that make a person a leaver: their account is disabled.
LEAVER = frozenset({"disabled", "left recently"})
#: Reasons that make a person an outsider: not staff, but not gone either.
OUTSIDER = frozenset({"guest", "external"})


def removable(reasons: tuple[str, ...], *, include_external: bool) -> bool:
    """Whether a stale delegate's grants are planned for removal: a leaver's always; a
    guest's or an external person's only when asked (they may work with the organisation
    still); anyone else's (an unlicensed member, who cannot use the access) always."""
    if LEAVER & set(reasons):
        return True
    if OUTSIDER & set(reasons):
        return include_external
    return True


def _direct_stale(t: Target) -> dict[str, StaleDelegate]:
    finding = t.failing.get(CHECK)
    if finding is None or t.access is None:
        return {}
    evidence = evidence_of(finding, StaleDelegates)
    return {p.upn.lower(): p for p in evidence.stale if p.direct}


def held_back(t: Target) -> list[str]:
    """Guests and external people holding access directly, left in place because the plan
    was not asked to remove them: one line each, for the plan to show."""
    return [
        f"{person.upn} ({', '.join(person.reasons)}) keeps {'/'.join(person.rights)}: "
        "guests and external people are removed only with --include-external-delegates"
        for person in _direct_stale(t).values()
        if not removable(person.reasons, include_external=t.include_external_delegates)
    ]


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
        yield _removal(t, grant, ("dormant",), dormant=since)


def _stale(t: Target) -> Iterator[Action]:
    stale = _direct_stale(t)
    if CHECK not in t.failing or t.access is None:
        return
    for grant in t.access.grants:
        if grant.deny or grant.inherited or grant.kind is not TrusteeKind.USER:
            continue
        person = stale.get((grant.name or "").lower())
        if person is not None and removable(
            person.reasons, include_external=t.include_external_delegates
        ):
            yield _removal(t, grant, person.reasons)
    for grant in t.access.orphaned:
        if not grant.deny and not grant.inherited:
            yield _removal(t, grant, ("deleted",))


def _why(who: str, right: str, reasons: tuple[str, ...]) -> str:
    """What removing the grant means, by why the person should not hold it."""
    loses = f"{who} loses {right} on the mailbox."
    if "left recently" in reasons:
        return (f"{loses} Their account was disabled recently (they left); if someone took "
                "over their work, grant that person access.")
    if "disabled" in reasons:
        return (f"{loses} Their account is disabled (they left); if someone took over their "
                "work, grant that person access.")
    if "guest" in reasons:
        return (f"{loses} They are a guest from outside the organisation; if the work with "
                "them goes on, ask the mailbox's custodian before granting it again.")
    if "external" in reasons:
        return (f"{loses} Their account is outside the organisation; if the work with them "
                "goes on, ask the mailbox's custodian before granting it again.")
    # "Users need a license to access a shared mailbox":
    # https://learn.microsoft.com/microsoft-365/admin/email/about-shared-mailboxes
    return (f"{loses} Their account holds no licence, which Microsoft requires to open a "
            "shared mailbox; if they need the access, license the account, then grant it again.")


def _call(upn: str, right: str, trustee: str) -> ExoCall:
    """The one call that removes `right` of `trustee` (as Exchange wrote it) on `upn`."""
    if right == Right.SEND_AS:
        return ExoCall(
            cmdlet="Remove-RecipientPermission",
            parameters={"Identity": upn, "Trustee": trustee, "AccessRights": ["SendAs"]},
        )
    if right == Right.SEND_ON_BEHALF:
        return ExoCall(
            cmdlet="Set-Mailbox",
            parameters={"Identity": upn, "GrantSendOnBehalfTo": {"Remove": [trustee]}},
        )
    return ExoCall(
        cmdlet="Remove-MailboxPermission",
        parameters={"Identity": upn, "User": trustee, "AccessRights": [right],
                    "InheritanceType": "All"},
    )


def decided_removal(*, upn: str, account_id: str | None, right: str, trustee: str,
                    person: str | None, orphaned: bool, reason: Reason) -> Action:
    """The removal of one grant a person decided on (an access review), not a finding:
    the same action, id and calls as a planned removal of that grant, with `reason` saying
    who decided it."""
    who = person or trustee
    target = Target(upn=upn.lower(), account_id=account_id, failing={}, access=None,
                    mailbox=None, rules=(), domains=frozenset())
    return target.action(
        ActionKind.REMOVE_DELEGATE, right, trustee, calls=(_call(upn.lower(), right, trustee),),
        reasons=(reason,),
        breaks="Nothing: the grant belongs to a deleted object, of which only the SID is left."
        if orphaned else (f"{who} loses {right} on the mailbox; if they need it again, the "
                          "custodian asks for it to be granted again."),
        detail={"right": right, "trustee": trustee, "person": person, "orphaned": orphaned,
                "reasons": ["reviewed"]},
        reversible=not orphaned,
        note="The trustee is a deleted object: Exchange cannot grant it access again."
        if orphaned else None,
    )


def _removal(t: Target, grant: Grant, reasons: tuple[str, ...],
             dormant: str | None = None) -> Action:
    orphaned = reasons == ("deleted",)
    right = str(grant.right)
    trustee = grant.trustee
    call = _call(t.upn, right, trustee)
    who = grant.name or trustee
    shown = (f"deleted object {trustee}" if orphaned
             else f"{who} ({', '.join(reasons)}), held directly")
    return t.action(
        ActionKind.REMOVE_DELEGATE, right, trustee,
        calls=(call,),
        reasons=(Reason(check_id=DORMANT, message=f"{right} to {who}: {dormant}.")
                 if dormant else Reason(check_id=CHECK, message=f"{right} to {shown}."),),
        breaks="Nothing: the grant belongs to a deleted object, of which only the SID is left."
        if orphaned
        else (f"{who} loses {right} on the mailbox, which they have not used in the window; "
              "if they need it again, the custodian grants it again." if dormant
              else _why(who, right, reasons)),
        detail={"right": right, "trustee": trustee, "person": grant.name, "orphaned": orphaned,
                "reasons": list(reasons)},
        reversible=not orphaned,
        note="The trustee is a deleted object: Exchange cannot grant it access again."
        if orphaned
        else None,
    )


def describe(action: Action) -> str:
    right, trustee = _grant(action)
    if action.detail.get("orphaned"):
        return f"remove {right} of deleted object {trustee}"
    reasons = ", ".join(action.detail.get("reasons") or ())
    who = action.detail.get("person") or trustee
    return f"remove {right} of {who}" + (f" ({reasons})" if reasons else "")


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


def script(action: Action) -> ScriptStep:
    """The entry the action removes, when it is still there. As in `read`, every entry of
    the mailbox is listed and matched here rather than filtered with -User/-Trustee, which
    make Exchange resolve the trustee first and fail for a deleted object. AccessRights is
    matched as text: a list of rights, or one flags value ("FullAccess, ReadPermission")."""
    right, trustee = _grant(action)
    upn, who = quote(action.upn), quote(trustee)
    if right == Right.SEND_ON_BEHALF:
        return ScriptStep(
            read=f"Get-Mailbox -Identity {upn} | Select-Object Identity, GrantSendOnBehalfTo",
            needed=f"@($state.GrantSendOnBehalfTo) -contains {who}",
        )
    pattern = quote("\\b" + right + "\\b")
    matches = f'"$($_.AccessRights)" -match {pattern}'
    if right == Right.SEND_AS:
        read = (
            f"Get-RecipientPermission -Identity {upn} | Where-Object {{ $_.Trustee -eq {who} "
            f"-and $_.AccessControlType -eq 'Allow' -and -not $_.IsInherited -and {matches} }} "
            "| Select-Object Identity, Trustee, AccessRights, AccessControlType, IsInherited"
        )
    else:
        read = (
            f"Get-MailboxPermission -Identity {upn} | Where-Object {{ $_.User -eq {who} "
            f"-and -not $_.Deny -and -not $_.IsInherited -and {matches} }} "
            "| Select-Object Identity, User, AccessRights, Deny, IsInherited"
        )
    return ScriptStep(read=read, needed="$null -ne $state")


KIND = Kind(
    kind=ActionKind.REMOVE_DELEGATE, answers=(CHECK, DORMANT),
    build=build, read=read, satisfied=satisfied, undo=undo, script=script, describe=describe,
)
