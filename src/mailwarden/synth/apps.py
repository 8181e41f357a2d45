"""Applications that can read mailboxes without a user, planted with their ground truth.

Shapes: Graph v1.0 `servicePrincipal` and `appRoleAssignment` (reference CSDL);
Get-ApplicationAccessPolicy as published (ScopeName, ScopeIdentity, Identity
"<tenant>\\<appId>:<SID>;<group id>", AppId, ScopeIdentityRaw "<SID>;<group id>",
Description, AccessRight, ShardType, IsValid, ObjectState); Get-ManagementRoleAssignment
rows of RBAC for Applications as Learn's examples show them (Role "Application
Mail.Read", RoleAssigneeName the service principal's object id, RoleAssigneeType
ServicePrincipal, AssignmentMethod Direct, CustomResourceScope).

Well-known ids: Microsoft Graph appId 00000003-0000-0000-c000-000000000000 and Office 365
Exchange Online 00000002-0000-0ff1-ce00-000000000000; app roles Mail.Read
810c84a8-4a9e-49e6-bf7d-12d183f40d01, Mail.ReadWrite e2a3a72e-5f79-4c64-b1b1-878b674786c9,
Mail.Send b633e1c5-b582-4048-a93e-9f11b44c7e96, Mail.ReadBasic.All
693c5e45-0940-467d-9b8a-1022fb9d42ef, User.Read.All df021288-bdef-4463-88db-98f22de89214
(Microsoft Graph permissions reference) and full_access_as_app
dc890d15-9560-4a4c-9b7f-a736ec74ec40 (Office 365 Exchange Online, as app manifests name it).

Planted (every seed): an archiver with Mail.Read and no policy (unscoped); a notifier with
Mail.Send restricted by a RestrictAccess policy to a mail-enabled security group that holds
two shared mailboxes (scoped, reaching those two); a room booking system with only a
scoped RBAC for Applications role (scoped, no mailbox named); a CRM sync with Mail.ReadWrite
in Entra ID plus a scoped RBAC role (unscoped: the union); a mailbox sync with EWS
full_access_as_app and only a DenyAccess policy on some staff (unscoped); and a bot with
only User.Read.All (not a mail permission: no finding).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from mailwarden.synth.ids import cloud_sid, derived_guid

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
GRAPH_ROLES = {
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
    "Mail.ReadBasic.All": "693c5e45-0940-467d-9b8a-1022fb9d42ef",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
}
EXCHANGE_ROLES = {"full_access_as_app": "dc890d15-9560-4a4c-9b7f-a736ec74ec40"}


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantedApp:
    sp_id: str
    app_id: str
    display_name: str
    graph_roles: tuple[str, ...] = ()
    exchange_roles: tuple[str, ...] = ()
    #: (AccessRight, group id) application access policies.
    policies: tuple[tuple[str, str], ...] = ()
    #: (role, CustomResourceScope or None) RBAC for Applications assignments.
    rbac: tuple[tuple[str, str | None], ...] = ()
    unscoped: bool = False
    #: The ownerless mailboxes (account ids) the app reaches; None: every one.
    reaches: tuple[str, ...] | None = None
    mail: bool = True  # holds a mail permission: the check reports it


def plan_apps(
    tenant_id: str, organisation: str, shared_ids: list[str], staff_ids: list[str]
) -> tuple[tuple[PlantedApp, ...], dict[str, tuple[str, ...]]]:
    """The planted applications and the scope groups they name (group id -> user ids)."""
    rng = random.Random(f"apps-{tenant_id}")

    def make(name: str, **changes: Any) -> PlantedApp:
        return PlantedApp(
            sp_id=derived_guid(tenant_id, name, "sp"),
            app_id=derived_guid(tenant_id, name, "app"),
            display_name=name,
            **changes,
        )

    notifier_scope = derived_guid(tenant_id, "notifier-scope")
    deny_scope = derived_guid(tenant_id, "sync-deny-scope")
    in_scope = tuple(sorted(rng.sample(shared_ids, min(2, len(shared_ids)))))
    scope_users = in_scope + tuple(rng.sample(staff_ids, min(1, len(staff_ids))))
    deny_users = tuple(rng.sample(staff_ids, min(3, len(staff_ids))))
    short = organisation.split()[0]
    apps = (
        make(f"{short} Mail Archiver", graph_roles=("Mail.Read",), unscoped=True),
        make(
            "Helpdesk Notifier",
            graph_roles=("Mail.Send",),
            policies=(("RestrictAccess", notifier_scope),),
            reaches=in_scope,
        ),
        make(
            "Room Booking System", rbac=(("Application Mail.Read", "Room mailboxes"),), reaches=()
        ),
        make(
            "Legacy CRM Sync",
            graph_roles=("Mail.ReadWrite",),
            rbac=(("Application Mail.ReadWrite", "Sales mailboxes"),),
            unscoped=True,
        ),
        make(
            "Ops Mailbox Sync",
            exchange_roles=("full_access_as_app",),
            policies=(("DenyAccess", deny_scope),),
            unscoped=True,
        ),
        make("Teams Meeting Bot", graph_roles=("User.Read.All",), mail=False),
    )
    return apps, {notifier_scope: scope_users, deny_scope: deny_users}


def _resource(tenant_id: str, app_id: str, name: str, roles: dict[str, str]) -> dict[str, Any]:
    return {
        "id": derived_guid(tenant_id, app_id, "resource"),
        "appId": app_id,
        "displayName": name,
        "servicePrincipalType": "Application",
        "accountEnabled": True,
        "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        "appRoles": [
            {
                "id": role_id,
                "value": value,
                "displayName": value,
                "allowedMemberTypes": ["Application"],
                "isEnabled": True,
                "origin": "Application",
            }
            for value, role_id in roles.items()
        ],
    }


def render_apps(
    tenant_id: str, apps: tuple[PlantedApp, ...], group_names: dict[str, str]
) -> dict[str, Any]:
    graph = _resource(tenant_id, GRAPH_APP_ID, "Microsoft Graph", GRAPH_ROLES)
    exchange = _resource(tenant_id, EXCHANGE_APP_ID, "Office 365 Exchange Online", EXCHANGE_ROLES)
    principals = [graph, exchange] + [
        {
            "id": app.sp_id,
            "appId": app.app_id,
            "displayName": app.display_name,
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "appOwnerOrganizationId": tenant_id,
            "appRoles": [],
        }
        for app in apps
    ]
    assigned: dict[str, list[dict[str, Any]]] = {graph["id"]: [], exchange["id"]: []}
    for app in apps:
        for resource, roles, names in (
            (graph, GRAPH_ROLES, app.graph_roles),
            (exchange, EXCHANGE_ROLES, app.exchange_roles),
        ):
            assigned[resource["id"]] += [
                {
                    "id": derived_guid(tenant_id, app.sp_id, name),
                    "appRoleId": roles[name],
                    "createdDateTime": "2024-03-04T10:00:00Z",
                    "principalDisplayName": app.display_name,
                    "principalId": app.sp_id,
                    "principalType": "ServicePrincipal",
                    "resourceDisplayName": resource["displayName"],
                    "resourceId": resource["id"],
                }
                for name in names
            ]
    policies = []
    for app in apps:
        for right, group_id in app.policies:
            sid = cloud_sid(group_id)
            policies.append(
                {
                    "ScopeName": group_names[group_id],
                    "ScopeIdentity": f"{group_names[group_id]}20240304100000",
                    "Identity": f"{tenant_id}\\{app.app_id}:{sid};{group_id}",
                    "AppId": app.app_id,
                    "ScopeIdentityRaw": f"{sid};{group_id}",
                    "Description": f"{right} for {app.display_name}",
                    "AccessRight": right,
                    "ShardType": "All",
                    "IsValid": True,
                    "ObjectState": "Unchanged",
                }
            )
    rbac = [
        {
            "Name": f"{role}-{app.sp_id[:8]}",
            "Identity": f"{role}-{app.sp_id[:8]}",
            "Role": role,
            "RoleAssignee": app.sp_id,
            "RoleAssigneeName": app.sp_id,
            "RoleAssigneeType": "ServicePrincipal",
            "AssignmentMethod": "Direct",
            "Enabled": True,
            "CustomResourceScope": scope,
            "RecipientWriteScope": "CustomRecipientScope" if scope else "Organization",
            "IsValid": True,
        }
        for app in apps
        for role, scope in app.rbac
    ]
    return {
        "graph/servicePrincipals": principals,
        "graph/appRoleAssignedTo": assigned,
        "exo/Get-ApplicationAccessPolicy": policies,
        "exo/Get-ManagementRoleAssignment": rbac,
    }
