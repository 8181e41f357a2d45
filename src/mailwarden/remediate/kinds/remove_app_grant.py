"""Remove an application's Entra ID mail grant: DELETE
/servicePrincipals/{resource id}/appRoleAssignedTo/{assignment id} (microsoft-graph-docs-contrib
serviceprincipal-delete-approleassignedto.md, 204).

Planned only with explicit consent (`--remove-app-grants`): the app stops working where it
relied on the grant. A rollback grants the same app role again, POST
/servicePrincipals/{resource id}/appRoleAssignedTo {"principalId", "resourceId",
"appRoleId"} (serviceprincipal-post-approleassignedto.md, 201; the new assignment has a new
id).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mailwarden.remediate.kinds.base import Kind, ScriptStep, State, Target
from mailwarden.remediate.model import Action, ActionKind, Call, GraphCall
from mailwarden.remediate.pstext import quote
from mailwarden.remediate.wire import Wire

CHECK = "app-mail-access-unscoped"


def build(t: Target) -> Iterator[Action]:
    finding = t.failing.get(CHECK)
    if finding is None or t.upn or not t.remove_app_grants:
        return
    principal = finding.evidence.get("service_principal_id")
    name = finding.resource.display_name
    for grant in finding.evidence.get("entra_grants", ()):
        assignment, resource = str(grant["assignment_id"]), str(grant["resource_id"])
        yield t.action(
            ActionKind.REMOVE_APP_GRANT,
            assignment,
            calls=(
                GraphCall(
                    method="DELETE",
                    path=f"/servicePrincipals/{resource}/appRoleAssignedTo/{assignment}",
                ),
            ),
            reasons=(t.reason(CHECK),),
            breaks=f"{name} loses {grant['permission']} on every mailbox: whatever it does "
            "with it stops until it is given a scoped RBAC for Applications role.",
            detail={
                "assignment_id": assignment,
                "resource_id": resource,
                "principal_id": principal,
                "app_role_id": grant["app_role_id"],
                "permission": grant["permission"],
                "target": f"application {name} ({finding.resource.app_id})",
            },
            note="A rollback grants the permission again under a new assignment id.",
        )


async def read(action: Action, wire: Wire) -> State:
    resource = action.detail["resource_id"]
    rows = await wire.graph_list(f"/servicePrincipals/{resource}/appRoleAssignedTo")
    wanted = str(action.detail["assignment_id"])
    found = next((r for r in rows if str(r.get("id")) == wanted), None)
    if found is None:
        return {"assignment": None}
    return {
        "assignment": {k: found.get(k) for k in ("id", "principalId", "resourceId", "appRoleId")}
    }


def satisfied(action: Action, state: Mapping[str, Any]) -> bool:
    return state.get("assignment") is None


def undo(action: Action, prior: Mapping[str, Any]) -> tuple[Call, ...]:
    assignment = prior.get("assignment")
    if not assignment:
        return ()
    body = {k: assignment[k] for k in ("principalId", "resourceId", "appRoleId")}
    return (
        GraphCall(
            method="POST",
            path=f"/servicePrincipals/{assignment['resourceId']}/appRoleAssignedTo",
            body=body,
        ),
    )


def script(action: Action) -> ScriptStep:
    resource = quote(str(action.detail["resource_id"]))
    assignment = quote(str(action.detail["assignment_id"]))
    return ScriptStep(
        read=(f"Get-MgServicePrincipalAppRoleAssignedTo -ServicePrincipalId {resource} -All | "
              f"Where-Object {{ $_.Id -eq {assignment} }} | Select-Object Id, PrincipalId, "
              "ResourceId, AppRoleId"),
        needed="$null -ne $state",
    )


KIND = Kind(
    kind=ActionKind.REMOVE_APP_GRANT,
    answers=(CHECK,),
    build=build,
    read=read,
    satisfied=satisfied,
    undo=undo,
    script=script,
    describe=lambda action: f"remove {action.detail['permission']} from "
    f"{action.detail['target']}",
)
