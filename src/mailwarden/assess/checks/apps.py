"""The other ways in: applications that read every mailbox, and Direct Send.

`app-mail-access-unscoped` is reported once per application holding mail permissions
(reach rules in `assess.apps`); `direct-send-allowed` once for the tenant
(Set-OrganizationConfig -RejectDirectSend, office-docs-powershell Set-OrganizationConfig.md:
"$true: Direct Send is blocked. Exchange Online rejects anonymous messages sent from your
own domain to your organization's mailboxes" matching no IP- or certificate-based inbound
connector; "$false: Direct Send isn't blocked").
"""

from __future__ import annotations

from collections.abc import Sequence

from mailwarden.assess.apps import AppReach, application_reach
from mailwarden.assess.checks.base import (
    MAILBOXES,
    USERS,
    Check,
    Verdict,
    errored,
    failed,
    listing,
    passed,
    quoted,
)
from mailwarden.assess.facts import Context
from mailwarden.assess.inventory import Subject
from mailwarden.model.controls import mapped
from mailwarden.model.findings import (
    TENANT_RESOURCE,
    CheckInfo,
    Remediation,
    Resource,
    Scope,
    Severity,
)
from mailwarden.text import plural

#: Mailboxes named in a finding's message before "and N more".
SHOWN = 3

APP_MAIL_ACCESS = CheckInfo(
    id="app-mail-access-unscoped",
    title="An application can read or send as every ownerless mailbox",
    severity=Severity.HIGH,
    scope=Scope.TENANT,
    passes="Every application holding Mail.* or full_access_as_app application permissions "
    "is limited to some mailboxes: a RestrictAccess application access policy on each Entra "
    "grant, and a resource scope on each RBAC for Applications role.",
    fails="An application holds Mail.*, full_access_as_app or EWS application permissions in "
    "Entra ID that no RestrictAccess application access policy limits, or an RBAC for "
    "Applications mail role with no scope (a scoped RBAC role never limits an Entra grant).",
    needs=(
        "graph/servicePrincipals",
        "graph/appRoleAssignedTo",
        "exo/Get-ApplicationAccessPolicy",
        "exo/Get-ManagementRoleAssignment",
        MAILBOXES,
        USERS,
        "graph/groups",
        "graph/groupMembers",
    ),
    controls=mapped("MITRE ATT&CK T1114.002", "CIS Controls v8 3.3"),
    remediation=Remediation(
        summary="Limit the application to the mailboxes it needs: give it a resource-scoped "
        "RBAC for Applications role and remove its Entra ID grant (Microsoft's replacement for "
        "application access policies), or add a RestrictAccess application access policy.",
        powershell=(
            "New-ManagementRoleAssignment -App '<service principal object id>' -Role "
            "'Application Mail.Read' -CustomResourceScope '<management scope>'",
            "New-ApplicationAccessPolicy -AppId '<appId>' -PolicyScopeGroupId "
            "'<mail-enabled security group>' -AccessRight RestrictAccess",
            "Remove-MgServicePrincipalAppRoleAssignedTo -ServicePrincipalId "
            "'<resource service principal id>' -AppRoleAssignmentId '<assignment id>'",
        ),
        graph=(
            "DELETE https://graph.microsoft.com/v1.0/servicePrincipals/<resource id>/"
            "appRoleAssignedTo/<assignment id>",
        ),
        note="Microsoft says not to create new application access policies: RBAC for "
        "Applications replaces them (New-ApplicationAccessPolicy). An RBAC scope limits only "
        "the RBAC grant: the Entra grant must go, or be limited by an access policy.",
    ),
    risk="Whoever holds the application's secret or certificate reads, or sends as, hr@, "
    "finance@ and every other ownerless mailbox without signing in as anyone, and no "
    "mailbox audit names a person.",
    reads_mailbox=False,
)

DIRECT_SEND = CheckInfo(
    id="direct-send-allowed",
    title="Anyone on the internet can send to the tenant as an internal address",
    severity=Severity.MEDIUM,
    scope=Scope.TENANT,
    passes="OrganizationConfig.RejectDirectSend is true: anonymous mail from the tenant's "
    "own domains that matches no inbound connector is rejected.",
    fails="OrganizationConfig.RejectDirectSend is false: Direct Send lets anyone deliver "
    "mail 'from' hr@ or any other internal address to the tenant's MX.",
    needs=("exo/Get-OrganizationConfig",),
    fields=("exo/Get-OrganizationConfig:RejectDirectSend",),
    controls=mapped("MITRE ATT&CK T1566"),
    remediation=Remediation(
        summary="Reject Direct Send; give any device or service that must send anonymously "
        "an inbound connector matched by its IP address or certificate first.",
        powershell=("Set-OrganizationConfig -RejectDirectSend $true",),
        exchange_api=(
            'POST /adminapi/beta/{tenant}/InvokeCommand {"CmdletInput": {"CmdletName": '
            '"Set-OrganizationConfig", "Parameters": {"RejectDirectSend": true}}}',
        ),
    ),
    risk="Phishing 'from' a shared mailbox people trust (invoices@, it-support@) arrives "
    "as internal mail, past the checks that external mail meets.",
    reads_mailbox=False,
)


def _app_resource(app: AppReach) -> Resource:
    return Resource(type=Scope.TENANT, display_name=app.display_name, app_id=app.app_id)


def _sample(upns: Sequence[str]) -> str:
    shown = list(upns[:SHOWN])
    if len(upns) > SHOWN:
        shown.append(f"{len(upns) - SHOWN} more")
    return listing(shown)


def _evidence(app: AppReach, scoped: bool) -> dict[str, object]:
    return {
        "access": "scoped" if scoped else "unscoped",
        "app_id": app.app_id,
        "service_principal_id": app.service_principal_id,
        "entra_permissions": list(app.entra_permissions),
        "entra_grants": [
            {"assignment_id": a, "resource_id": r, "app_role_id": role, "permission": name}
            for a, r, role, name in app.entra_grants
        ],
        "rbac_unscoped_roles": list(app.rbac_unscoped),
        "rbac_scoped_roles": [{"role": r, "scope": s} for r, s in app.rbac_scoped],
        "restrict_access_groups": list(app.restrict_groups),
        "deny_access_groups": list(app.deny_groups),
        "mailboxes": list(app.mailboxes),
        "mailbox_count": len(app.mailboxes),
    }


def _verdict(app: AppReach) -> Verdict:
    name = f"{app.display_name} ({app.app_id})"
    evidence = _evidence(app, scoped=not app.unscoped)
    if app.unscoped:
        how = []
        if app.entra_permissions and not app.restrict_groups:
            how.append(
                f"{listing(list(app.entra_permissions))} in Entra ID with no "
                "application access policy restricting it"
            )
        if app.rbac_unscoped:
            how.append(f"{listing(list(app.rbac_unscoped))} in RBAC for Applications with no scope")
        reach = (
            f"it reaches {plural(len(app.mailboxes), 'ownerless mailbox', 'ownerless mailboxes')}"
            f" ({_sample(app.mailboxes)})"
            if app.mailboxes
            else "it reaches every mailbox, including those created later"
        )
        commands = []
        if app.entra_permissions and app.service_principal_id:
            commands.append(
                "Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId "
                f"{quoted(app.service_principal_id)}"
            )
        commands.append(
            f"New-ApplicationAccessPolicy -AppId {quoted(app.app_id)} -PolicyScopeGroupId "
            "'<mail-enabled security group>' -AccessRight RestrictAccess"
        )
        return failed(
            f"Application {name} holds {'; and '.join(how)}: {reach}.",
            evidence,
            commands=tuple(commands),
        )
    if app.undecided:
        return errored(
            f"Whether application {name} reaches {_sample(app.undecided)} cannot be told: "
            "the membership of its access policy's group is not known.",
            evidence,
            undecided=list(app.undecided),
        )
    limits = (
        [f"RestrictAccess to {listing(list(app.restrict_groups))}"] if (app.restrict_groups) else []
    )
    limits += [f"{role} scoped to {scope}" for role, scope in app.rbac_scoped]
    reach = (
        f"it still reaches {plural(len(app.mailboxes), 'ownerless mailbox', 'ownerless mailboxes')}"
        f" ({_sample(app.mailboxes)})"
        if app.mailboxes
        else "no ownerless mailbox is named in its scope"
    )
    return passed(f"Application {name} is limited ({'; '.join(limits)}): {reach}.", evidence)


def app_mail_access(
    context: Context, subjects: Sequence[Subject]
) -> tuple[tuple[Resource, Verdict], ...]:
    apps = application_reach(context.index, subjects)
    if not apps:
        return (
            (
                TENANT_RESOURCE,
                passed(
                    "No application holds Mail.*, full_access_as_app or an RBAC for Applications "
                    "mail role.",
                    applications=0,
                ),
            ),
        )
    return tuple((_app_resource(app), _verdict(app)) for app in apps)


def direct_send(context: Context) -> Verdict:
    config = context.snapshot.organization_config
    value = config.reject_direct_send if config is not None else None
    if value is None:
        return errored(
            "Get-OrganizationConfig did not return RejectDirectSend, so whether Direct Send "
            "is rejected is unknown.",
            reject_direct_send=None,
        )
    if value:
        return passed(
            "Direct Send is rejected (RejectDirectSend is true).", reject_direct_send=True
        )
    return failed(
        "Direct Send is allowed (RejectDirectSend is false): anyone can send to "
        "the tenant as an internal address.",
        reject_direct_send=False,
    )


CHECKS = (
    Check(info=APP_MAIL_ACCESS, applications=app_mail_access),
    Check(info=DIRECT_SEND, tenant=direct_send),
)
