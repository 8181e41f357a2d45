"""Who holds access to the mailbox, and who answers for it."""

from __future__ import annotations

from mailwarden.assess.checks.base import (
    ACCESS,
    USERS,
    Check,
    Verdict,
    errored,
    failed,
    passed,
    quoted,
)
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.model.controls import mapped
from mailwarden.model.findings import (
    CheckInfo,
    CustodianSource,
    Grant,
    Remediation,
    Right,
    Scope,
    Severity,
)
from mailwarden.model.findings.evidence import StaleDelegate, StaleDelegates
from mailwarden.text import plural

REMOVE_GRANTS = Remediation(
    summary="Remove the grants; if people still need the mailbox, grant them directly. The "
    "commands after the first three remove exactly the grants this finding names.",
    powershell=(
        "Remove-MailboxPermission -Identity '<upn>' -User '<delegate>' -AccessRights FullAccess "
        "-InheritanceType All -Confirm:$false",
        "Remove-RecipientPermission -Identity '<upn>' -Trustee '<delegate>' -AccessRights SendAs "
        "-Confirm:$false",
        "Set-Mailbox -Identity '<upn>' -GrantSendOnBehalfTo @{Remove = '<delegate>'}",
    ),
    note="Graph has no API for mailbox permissions; run these in Exchange Online PowerShell.",
)
#: Leavers and deleted objects go; guests and external people may still work with the
#: organisation, so their grants are a question for the mailbox's custodian first.
REMOVE_STALE = Remediation(
    summary="Remove the grants of people who left (disabled accounts), of unlicensed "
    "accounts and of deleted objects. Guests and external people are not leavers: ask the "
    "mailbox's custodian whether the work with them goes on before removing theirs. The "
    "commands after the first three remove exactly the grants this finding names.",
    powershell=REMOVE_GRANTS.powershell,
    note=REMOVE_GRANTS.note,
)
_SHOWN = 5
#: The recorded tenant's name for the users' leave dates (see TenantInfo.unreadable).
LEAVE_DATES = "graph/users.employeeLeaveDateTime"


def removal(upn: str, right: str, trustee: str) -> str:
    """The PowerShell that removes one grant."""
    if right == Right.SEND_AS:
        return (
            f"Remove-RecipientPermission -Identity {quoted(upn)} -Trustee {quoted(trustee)} "
            "-AccessRights SendAs -Confirm:$false"
        )
    if right == Right.SEND_ON_BEHALF:
        return (
            f"Set-Mailbox -Identity {quoted(upn)} -GrantSendOnBehalfTo "
            f"@{{Remove = {quoted(trustee)}}}"
        )
    return (
        f"Remove-MailboxPermission -Identity {quoted(upn)} -User {quoted(trustee)} "
        f"-AccessRights {right} -InheritanceType All -Confirm:$false"
    )


def _summary(items: list[str]) -> str:
    unique = list(dict.fromkeys(items))
    shown = "; ".join(unique[:_SHOWN])
    return shown + (f"; and {len(unique) - _SHOWN} more" if len(unique) > _SHOWN else "")


STALE = CheckInfo(
    id="stale-delegate",
    title="Someone who should not keep access still holds it",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="Every delegate (direct or through groups) is an enabled, licensed member of staff.",
    fails="A delegate is disabled (left), a guest or external, unlicensed, or a deleted object "
    "whose SID is all that remains.",
    needs=("exo/Get-Mailbox", "graph/users"),
    uses=tuple(s for s in ACCESS if s != USERS),
    fields=("graph/users:accountEnabled", "graph/users:userType",
            "graph/users:assignedLicenses"),
    controls=mapped("CIS Controls v8 6.2"),
    remediation=REMOVE_STALE,
    risk="People who left keep reading or sending as the mailbox; a deleted account's SID is "
    "re-usable access nobody reviews.",
)


def stale(facts: MailboxFacts, context: Context) -> Verdict:
    access = facts.access
    upn = facts.subject.upn
    reasons: list[str] = []
    people: list[StaleDelegate] = []
    commands: list[str] = []
    for person in access.people:
        why = person.stale_reasons()
        if not why:
            continue
        via = "directly" if person.direct else "via " + ", ".join(f"'{v}'" for v in person.via)
        reasons.append(f"{'/'.join(person.rights)} to {person.upn} ({', '.join(why)}) {via}")
        people.append(
            StaleDelegate(upn=person.upn, reasons=why, rights=person.rights, via=person.via)
        )
        if person.direct:
            commands += [removal(upn, right, person.upn) for right in person.rights]
    for grant in access.orphaned:
        reasons.append(f"{grant.right} to deleted object {grant.trustee}")
        commands.append(removal(upn, grant.right, grant.trustee))
    evidence = StaleDelegates(
        stale=tuple(people), orphaned=tuple(g.trustee for g in access.orphaned)
    ).as_evidence()
    stale_count = len(people) + len(access.orphaned)
    # Leave dates only tell "left recently" from "disabled"; without them (Graph returns null
    # to an app lacking User-LifeCycleInfo.Read.All) the last successful sign-in tells it.
    unreadable = context.snapshot.tenant.why_unreadable(LEAVE_DATES)
    if unreadable:
        evidence = {**evidence, "leave_dates_unreadable": unreadable}
    if reasons:
        disabled = any({"disabled", "left recently"} & set(d.reasons) for d in people)
        note = (
            f" Leave dates could not be read ({unreadable}): who left recently is judged "
            "from the last successful sign-in."
            if unreadable and disabled
            else ""
        )
        return failed(
            f"{plural(stale_count, 'stale delegate')} {'holds' if stale_count == 1 else 'hold'} "
            f"access to {upn}: {_summary(reasons)}.{note}",
            evidence,
            commands=tuple(dict.fromkeys(commands)),
            incomplete=list(access.unknown),
        )
    if access.unknown:
        return errored(f"The delegates of {upn} are not fully known.", unknown=list(access.unknown))
    unsure = [p.upn for p in access.people if p.enabled is None or p.licensed is None]
    if unsure:
        return errored(
            f"Whether {_summary(unsure)} {'is' if len(unsure) == 1 else 'are'} enabled and "
            f"licensed is unknown (accountEnabled or assignedLicenses was not read), so the "
            f"delegates of {upn} cannot be cleared.",
            unknown=unsure,
        )
    return passed(
        f"Every delegate of {upn} is an enabled, licensed member of staff.",
        {"leave_dates_unreadable": unreadable} if unreadable else None,
        delegates=len(access.people),
    )


BROAD = CheckInfo(
    id="broad-delegation",
    title="Access to the mailbox is granted too broadly",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="No grant goes to an everyone-like principal or a large group, and the number of "
    "delegates is within the threshold.",
    fails="A grant goes to Default/Anonymous/Everyone or a group above the size threshold, or "
    "the mailbox has more delegates than the threshold.",
    needs=("exo/Get-Mailbox",),
    uses=ACCESS,
    controls=mapped("CIS Controls v8 3.3", "CIS Controls v8 6.8"),
    remediation=REMOVE_GRANTS,
    risk="Everybody who can read the mailbox is one phished password away from its data.",
)


def broad(facts: MailboxFacts, context: Context) -> Verdict:
    access = facts.access
    upn = facts.subject.upn
    reasons = [f"{g.right} to {g.broad_reason}" for g in access.broad]
    commands = [removal(upn, g.right, g.trustee) for g in access.broad]
    delegates = len(access.people) + len({g.trustee.lower() for g in access.orphaned})
    limit = context.options.max_delegates
    if delegates > limit:
        reasons.append(f"{plural(delegates, 'delegate')} (more than {limit})")
    evidence = {"broad_grants": [_grant(g) for g in access.broad], "delegates": delegates}
    if reasons:
        return failed(
            f"Access to {upn} is too broad: {_summary(reasons)}.",
            evidence,
            commands=tuple(dict.fromkeys(commands)),
        )
    if access.unknown:
        return errored(f"The delegates of {upn} are not fully known.", unknown=list(access.unknown))
    return passed(f"Access to {upn} is limited to {plural(delegates, 'delegate')}.", evidence)


def _grant(grant: Grant) -> dict[str, object]:
    return {
        "right": grant.right,
        "trustee": grant.trustee,
        "people": grant.people,
        "reason": grant.broad_reason,
    }


NO_CUSTODIAN = CheckInfo(
    id="no-custodian",
    title="Nobody is answerable for the mailbox",
    severity=Severity.MEDIUM,
    scope=Scope.MAILBOX,
    passes="A custodian is mapped in the custodians file, or one is inferred from an enabled, "
    "licensed member of staff holding FullAccess directly.",
    fails="No custodian is mapped and none can be inferred.",
    needs=("exo/Get-Mailbox",),
    uses=ACCESS,
    fields=("graph/users:accountEnabled", "graph/users:assignedLicenses"),
    controls=mapped("CIS Controls v8 5.1"),
    remediation=Remediation(
        summary="Name a custodian for the mailbox in the custodians file (mailbox,custodian,team),"
        " so alerts and reviews reach a person.",
        powershell=(
            "Get-MailboxPermission -Identity '<upn>' | Where-Object { -not $_.IsInherited }",
        ),
        note="Microsoft sends security alerts about the account to the mailbox itself; a "
        "custodian is how mailwarden routes them to a person.",
    ),
    risk="Alerts about an ownerless mailbox reach nobody, and nobody reviews who has access.",
)


_HOW_NAMED = {
    CustodianSource.FILE: "named in the custodians file",
    CustodianSource.INFERRED: "inferred from who holds FullAccess",
}


def no_custodian(facts: MailboxFacts, context: Context) -> Verdict:
    upn = facts.subject.upn
    custodian = facts.custodian
    note = {"note": facts.custodian_note} if facts.custodian_note else {}
    if custodian is not None:
        return passed(
            f"{custodian.person} answers for {upn} ({_HOW_NAMED[custodian.source]}).",
            note,
            custodian=custodian.person,
            team=custodian.team,
            source=custodian.source.value,
            reason=custodian.reason,
        )
    if facts.access.unknown:
        return errored(
            f"No custodian is mapped for {upn}, and its delegates are not known well enough to "
            "infer one.",
            note,
            unknown=list(facts.access.unknown),
        )
    return failed(
        f"Nobody answers for {upn}: no custodian is mapped and none can be inferred.", note
    )


CHECKS = (
    Check(info=STALE, mailbox=stale),
    Check(info=BROAD, mailbox=broad),
    Check(info=NO_CUSTODIAN, mailbox=no_custodian),
)
