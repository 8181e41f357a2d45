"""What the account can do beyond the mailbox: remote PowerShell and directory roles."""

from __future__ import annotations

from mailwarden.assess.checks.base import (
    MAILBOXES,
    USERS,
    Check,
    Verdict,
    errored,
    failed,
    no_account,
    passed,
    quoted,
)
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.model.controls import mapped
from mailwarden.model.findings import CheckInfo, Remediation, Scope, Severity

REMOTE_POWERSHELL = CheckInfo(
    id="remote-powershell-enabled",
    reads_mailbox=False,
    title="The ownerless account may use Exchange remote PowerShell",
    severity=Severity.LOW,
    scope=Scope.MAILBOX,
    passes="RemotePowerShellEnabled is false for the account.",
    fails="RemotePowerShellEnabled is true for the account (Get-User).",
    needs=(MAILBOXES, "exo/Get-User"),
    uses=(USERS,),
    controls=mapped("CIS Controls v8 4.8"),
    remediation=Remediation(
        summary="Turn remote PowerShell off for the account.",
        powershell=("Set-User -Identity '<upn>' -RemotePowerShellEnabled $false",),
        exchange_api=(
            "POST https://outlook.office365.com/adminapi/beta/<tenant>/InvokeCommand "
            '{"CmdletInput": {"CmdletName": "Set-User", "Parameters": '
            '{"Identity": "<upn>", "RemotePowerShellEnabled": false}}}',
        ),
        note="Graph has no API for this setting; the call goes to the Exchange Online admin API.",
    ),
    risk="Whoever signs in as the account can enumerate the organisation's recipients and "
    "settings from a script.",
)


def remote_powershell(facts: MailboxFacts, context: Context) -> Verdict:
    user = facts.subject.exo_user
    upn = facts.subject.upn
    if user is None:
        return errored(f"No Get-User row for {upn} was collected.")
    if user.remote_powershell_enabled is None:
        return errored(f"RemotePowerShellEnabled of {upn} is unknown.")
    if user.remote_powershell_enabled:
        return failed(f"{upn} may use Exchange remote PowerShell.", remote_powershell_enabled=True)
    return passed(f"{upn} may not use Exchange remote PowerShell.", remote_powershell_enabled=False)


PRIVILEGED = CheckInfo(
    id="privileged-account",
    reads_mailbox=False,
    title="The ownerless account holds a directory role",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="The account holds no directory role and is eligible for none (PIM), directly or "
    "through a group.",
    fails="The account holds a directory role (a unifiedRoleAssignment names it or a group it "
    "is in), or may activate one (a unifiedRoleEligibilitySchedule does).",
    needs=(MAILBOXES, USERS, "graph/roleAssignments"),
    uses=("graph/roleDefinitions", "graph/groups", "graph/groupMembers",
          "graph/roleEligibilitySchedules"),
    controls=mapped("CIS Controls v8 5.4"),
    remediation=Remediation(
        summary="Remove the role assignments; administer from a named admin account.",
        powershell=(
            "Get-MgRoleManagementDirectoryRoleAssignment -Filter \"principalId eq '<id>'\"",
            "Get-MgRoleManagementDirectoryRoleEligibilitySchedule "
            "-Filter \"principalId eq '<id>'\"",
        ),
        graph=(
            "GET https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments"
            "?$filter=principalId eq '<id>'",
            "GET https://graph.microsoft.com/v1.0/roleManagement/directory/"
            "roleEligibilitySchedules?$filter=principalId eq '<id>'",
        ),
    ),
    risk="A shared account with an admin role is an admin nobody owns; if it can sign in, its "
    "password is an admin password several people know. A role it is only eligible for is "
    "one activation away.",
)
#: Where eligible (PIM) roles come from; Graph refuses it without Entra ID P2.
ELIGIBILITY = "graph/roleEligibilitySchedules"


def _unseen_group_roles(context: Context, account_id: str) -> list[str]:
    """Why role assignments to groups may reach the account unseen: a principal that is no
    account is a group whose members were not read, or unknown when the groups were not."""
    index = context.index
    groups_read = context.snapshot.available("graph/groups")
    unknown = []
    for principal in index.roles_by_principal:
        if principal in index.account_by_id:
            continue
        if principal in index.group_by_id:
            if index.group_graph.contains(principal, account_id) is None:
                unknown.append(f"the members of group {principal} were not collected")
        elif not groups_read:
            unknown.append(f"principal {principal} holds a role, and graph/groups was not "
                           f"collected ({context.snapshot.problem('graph/groups')})")
    return unknown


def privileged(facts: MailboxFacts, context: Context) -> Verdict:
    account = facts.subject.account
    if account is None:
        return no_account(facts)
    held = context.index.roles_of(account.id)
    eligible = context.index.eligible_roles_of(account.id)
    upn = facts.subject.upn
    if not held and not eligible:
        snapshot = context.snapshot
        unknown = _unseen_group_roles(context, account.id)
        if unknown:
            return errored(
                f"{upn} holds no directory role directly, but whether it holds one through "
                "a group is unknown.",
                unknown=unknown,
            )
        if not snapshot.available(ELIGIBILITY):
            # Active roles were read, eligible ones were not: no role is not a pass.
            why = snapshot.limitation(ELIGIBILITY) or f"{ELIGIBILITY} was not collected"
            return errored(
                f"{upn} holds no active directory role, but whether it is eligible for one "
                f"is unknown: {why}.",
                missing_sources={ELIGIBILITY: snapshot.problem(ELIGIBILITY)},
            )
        return passed(f"{upn} holds no directory role.")
    roles = sorted({name for _, _, name in held})
    eligible_roles = sorted({name for _, name in eligible} - set(roles))
    commands = tuple(
        f"Remove-MgRoleManagementDirectoryRoleAssignment -UnifiedRoleAssignmentId "
        f"{quoted(assignment.id)}"
        for assignment, _, _ in held
        if assignment.principal_id.lower() == account.id.lower()
    )
    severity = Severity.CRITICAL if facts.sign_in_enabled else None
    said = [", ".join(roles)] if roles else []
    if eligible_roles:
        said.append(f"is eligible for {', '.join(eligible_roles)}")
    evidence: dict[str, object] = {
        "roles": roles,
        "assignments": [assignment.id for assignment, _, _ in held],
    }
    if eligible:
        evidence["eligible_roles"] = eligible_roles
        evidence["eligibility_schedules"] = [schedule.id for schedule, _ in eligible]
    return failed(
        f"{upn} {'holds ' if roles else ''}{' and '.join(said)}.",
        evidence,
        severity=severity,
        commands=commands,
    )


CHECKS = (
    Check(info=REMOTE_POWERSHELL, mailbox=remote_powershell),
    Check(info=PRIVILEGED, mailbox=privileged),
)
