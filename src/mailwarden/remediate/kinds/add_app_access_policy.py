"""Restrict an unscoped application to one group's mailboxes: New-ApplicationAccessPolicy
-AccessRight RestrictAccess (office-docs-powershell New-ApplicationAccessPolicy.md).

Planned only for the group the person names (`--app-scope-group`), and only for an app
whose reach comes from Entra ID grants: an access policy constrains only those (Learn,
"Role Based Access Control for Applications in Exchange Online", FAQ). Microsoft says not
to create new access policies, which RBAC for Applications replaces; the action says so.
The new policy's identity is "<tenant id>\\<appId>:<group SID>;<group object id>" as
Get-ApplicationAccessPolicy shows it; a rollback removes that policy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target
from mailwarden.remediate.model import Action, ActionKind, Call, ExoCall
from mailwarden.remediate.pstext import quote
from mailwarden.remediate.wire import Wire

CHECK = "app-mail-access-unscoped"
NOTE = (
    "Microsoft replaces application access policies with RBAC for Applications and asks "
    "not to create new ones: plan the move to a scoped RBAC for Applications role "
    "(New-ManagementRoleAssignment -App ... -CustomResourceScope ...) and the removal of "
    "the Entra grant."
)


def build(t: Target) -> Iterator[Action]:
    finding = t.failing.get(CHECK)
    if finding is None or t.upn or t.app_scope is None or not finding.resource.app_id:
        return
    evidence = finding.evidence
    if not evidence.get("entra_permissions") or evidence.get("rbac_unscoped_roles"):
        return  # a policy cannot limit RBAC for Applications roles
    app_id = finding.resource.app_id
    scope = t.app_scope
    identity = f"{t.tenant_id}\\{app_id}:{scope.sid};{scope.group_id}" if scope.sid else None
    yield t.action(
        ActionKind.ADD_APP_ACCESS_POLICY,
        app_id,
        calls=(
            ExoCall(
                cmdlet="New-ApplicationAccessPolicy",
                parameters={
                    "AppId": app_id,
                    "PolicyScopeGroupId": scope.group_id,
                    "AccessRight": "RestrictAccess",
                    "Description": f"mailwarden: restrict {finding.resource.display_name} to "
                    f"{scope.name}",
                },
            ),
        ),
        reasons=(t.reason(CHECK),),
        breaks=f"{finding.resource.display_name} can no longer reach mailboxes outside "
        f"{scope.name} through its Entra ID permissions (after up to an hour).",
        detail={
            "app_id": app_id,
            "group_id": scope.group_id,
            "policy_identity": identity,
            "target": f"application {finding.resource.display_name} ({app_id})",
        },
        reversible=identity is not None,
        note=NOTE,
    )


async def read(action: Action, wire: Wire) -> State:
    app_id = str(action.detail["app_id"]).lower()
    rows = await wire.exo_rows("Get-ApplicationAccessPolicy", {})
    return {
        "restrict": sorted(
            str(r.get("Identity"))
            for r in rows
            if str(r.get("AppId", "")).lower() == app_id
            and str(r.get("AccessRight", "")).lower() == "restrictaccess"
        )
    }


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return bool(state.get("restrict"))


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    identity = action.detail.get("policy_identity")
    if prior.get("restrict") or not identity:
        return ()
    return (
        ExoCall(
            cmdlet="Remove-ApplicationAccessPolicy",
            parameters={"Identity": identity, "Confirm": False},
        ),
    )


def script(action: Action) -> ScriptStep:
    app_id = quote(str(action.detail["app_id"]))
    return ScriptStep(
        read=(f"@(Get-ApplicationAccessPolicy | Where-Object {{ $_.AppId -eq {app_id} -and "
              "$_.AccessRight -eq 'RestrictAccess' }) | Select-Object Identity, AppId, "
              "ScopeName, AccessRight"),
        needed="@($state).Count -eq 0",
    )


KIND = Kind(
    kind=ActionKind.ADD_APP_ACCESS_POLICY,
    answers=(CHECK,),
    build=build,
    read=read,
    satisfied=satisfied,
    undo=undo,
    script=script,
    describe=lambda action: f"restrict {action.detail['target']} to the group "
    f"{action.detail['group_id']} (application access policy)",
)
