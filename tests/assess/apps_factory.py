"""Applications with mail permissions, on the small factory tenant."""

from __future__ import annotations

from dataclasses import replace

from mailwarden.model.inventory import (
    ApplicationAccessPolicy,
    AppRole,
    AppRoleAssignment,
    ManagementRoleAssignment,
    OrganizationConfig,
    ServicePrincipal,
    Snapshot,
)
from tests.assess.assess_factory import adding, hardened

#: Microsoft Graph's Mail.Read application permission (microsoft-graph-docs-contrib
#: permissions reference).
MAIL_READ = "810c84a8-4a9e-49e6-bf7d-12d183f40d01"
GRAPH = ServicePrincipal(
    id="sp-graph",
    app_id="00000003-0000-0000-c000-000000000000",
    display_name="Microsoft Graph",
    app_roles=(AppRole(id=MAIL_READ, value="Mail.Read", allowed_member_types=("Application",)),),
)
APP = ServicePrincipal(id="sp-app", app_id="app-1", display_name="Archiver")


def mail_app(
    *,
    grant: bool = True,
    policies: tuple[ApplicationAccessPolicy, ...] = (),
    rbac: tuple[ManagementRoleAssignment, ...] = (),
    base: Snapshot | None = None,
) -> Snapshot:
    grants = (
        AppRoleAssignment(
            id="g1",
            principal_id="sp-app",
            resource_id="sp-graph",
            app_role_id=MAIL_READ,
            principal_type="ServicePrincipal",
        ),
    )
    return adding(
        base or hardened(),
        service_principals=(GRAPH, APP),
        app_role_assignments=grants if grant else (),
        application_access_policies=policies,
        management_role_assignments=rbac,
    )


def restrict_to(group_id: str, right: str = "RestrictAccess") -> ApplicationAccessPolicy:
    return ApplicationAccessPolicy(
        app_id="app-1", access_right=right, scope_name="Scope", scope_group_id=group_id
    )


def rbac_role(scope: str | None = None) -> ManagementRoleAssignment:
    return ManagementRoleAssignment(
        role="Application Mail.Read",
        role_assignee="sp-app",
        role_assignee_type="ServicePrincipal",
        custom_resource_scope=scope,
    )


def direct_send(reject: bool | None) -> Snapshot:
    snapshot = hardened()
    config = snapshot.organization_config or OrganizationConfig()
    return replace(snapshot, organization_config=replace(config, reject_direct_send=reject))
