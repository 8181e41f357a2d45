"""Graph objects of a recorded tenant (v1.0 shapes) -> the model's directory values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.model.inventory import (
    Account,
    AppRole,
    AppRoleAssignment,
    ConditionalAccessPolicy,
    DirectoryObjectRef,
    DirectorySetting,
    Group,
    GroupMembers,
    RoleAssignment,
    RoleDefinition,
    RoleEligibility,
    SecurityDefaults,
    ServicePrincipal,
    SkippedRecord,
    SubscribedSku,
    TenantInfo,
    UserRegistration,
    UsersCondition,
)
from mailwarden.tenant.lenient import Record, to_text
from mailwarden.tenant.records import parse_list, required


def parse_tenant(raw: Mapping[str, Any] | None) -> TenantInfo:
    record = Record(raw or {})
    unreadable = record.get("unreadable")
    return TenantInfo(
        tenant_id=record.text("tenantId", "id") or "unknown",
        display_name=record.text("displayName"),
        default_domain=record.text("defaultDomain"),
        verified_domains=tuple(d.lower() for d in record.texts("verifiedDomains") or ()),
        collected_at=record.when("collectedAt"),
        unreadable=tuple(
            sorted((str(name), to_text(why) or "") for name, why in unreadable.items())
        )
        if isinstance(unreadable, Mapping)
        else (),
    )


def parse_account(r: Record) -> Account:
    activity = r.child("signInActivity")
    licenses = r.get("assignedLicenses")
    return Account(
        id=required(r, "id"),
        user_principal_name=required(r, "userPrincipalName"),
        display_name=r.text("displayName"),
        mail=r.text("mail"),
        mail_nickname=r.text("mailNickname"),
        account_enabled=r.flag("accountEnabled"),
        user_type=r.text("userType"),
        created=r.when("createdDateTime"),
        last_password_change=r.when("lastPasswordChangeDateTime"),
        last_sign_in=activity.when("lastSignInDateTime"),
        last_non_interactive_sign_in=activity.when("lastNonInteractiveSignInDateTime"),
        last_successful_sign_in=activity.when("lastSuccessfulSignInDateTime"),
        licenses=None
        if licenses is None
        else tuple(
            sorted(
                Record(item).text("skuId") or ""
                for item in (licenses if isinstance(licenses, list) else [licenses])
                if isinstance(item, Mapping)
            )
        ),
        on_premises_sid=r.text("onPremisesSecurityIdentifier"),
        security_identifier=r.text("securityIdentifier"),
        department=r.text("department"),
        job_title=r.text("jobTitle"),
        leave_date=r.when("employeeLeaveDateTime"),
        external_user_state=r.text("externalUserState"),
    )


def parse_group(r: Record) -> Group:
    return Group(
        id=required(r, "id"),
        display_name=r.text("displayName"),
        mail=r.text("mail"),
        mail_nickname=r.text("mailNickname"),
        security_enabled=r.flag("securityEnabled"),
        mail_enabled=r.flag("mailEnabled"),
        group_types=r.texts("groupTypes") or (),
        security_identifier=r.text("securityIdentifier"),
        on_premises_sid=r.text("onPremisesSecurityIdentifier"),
    )


def parse_member(r: Record) -> DirectoryObjectRef:
    odata_type = r.text("@odata.type") or ""
    return DirectoryObjectRef(
        id=required(r, "id"),
        object_type=odata_type.rsplit(".", 1)[-1] or "unknown",
        display_name=r.text("displayName"),
        user_principal_name=r.text("userPrincipalName"),
    )


def parse_group_members(
    raw: Mapping[str, Any] | None, skipped: list[SkippedRecord]
) -> tuple[GroupMembers, ...]:
    result = []
    for group_id, members in (raw or {}).items():
        source = f"graph/groupMembers[{group_id}]"
        parsed = parse_list(source, members, parse_member, skipped)
        result.append(GroupMembers(group_id=str(group_id), members=parsed))
    return tuple(sorted(result, key=lambda g: g.group_id))


def parse_role_definition(r: Record) -> RoleDefinition:
    return RoleDefinition(
        id=required(r, "id"),
        display_name=r.text("displayName"),
        template_id=r.text("templateId"),
        is_built_in=r.flag("isBuiltIn"),
    )


def parse_role_assignment(r: Record) -> RoleAssignment:
    return RoleAssignment(
        id=required(r, "id"),
        principal_id=required(r, "principalId"),
        role_definition_id=required(r, "roleDefinitionId"),
        directory_scope_id=r.text("directoryScopeId"),
    )


def parse_ca_policy(r: Record) -> ConditionalAccessPolicy:
    conditions = r.child("conditions")
    users = conditions.child("users")
    apps = conditions.child("applications")
    grant = r.child("grantControls")
    return ConditionalAccessPolicy(
        id=required(r, "id"),
        display_name=r.text("displayName"),
        state=r.text("state"),
        users=UsersCondition(
            include_users=users.texts("includeUsers") or (),
            exclude_users=users.texts("excludeUsers") or (),
            include_groups=users.texts("includeGroups") or (),
            exclude_groups=users.texts("excludeGroups") or (),
            include_roles=users.texts("includeRoles") or (),
            exclude_roles=users.texts("excludeRoles") or (),
        ),
        client_app_types=conditions.texts("clientAppTypes") or (),
        include_applications=apps.texts("includeApplications") or (),
        exclude_applications=apps.texts("excludeApplications") or (),
        grant_operator=grant.text("operator"),
        built_in_controls=grant.texts("builtInControls") or (),
    )


def parse_setting(r: Record) -> DirectorySetting:
    values = []
    for item in r.get("values") or ():
        if isinstance(item, Mapping):
            entry = Record(item)
            name = entry.text("name")
            if name:
                values.append((name, to_text(entry.get("value"))))
    return DirectorySetting(
        id=required(r, "id"),
        display_name=r.text("displayName"),
        template_id=r.text("templateId"),
        values=tuple(values),
    )


def parse_registration(r: Record) -> UserRegistration:
    return UserRegistration(
        id=required(r, "id"),
        user_principal_name=r.text("userPrincipalName"),
        is_mfa_registered=r.flag("isMfaRegistered"),
        is_mfa_capable=r.flag("isMfaCapable"),
        methods_registered=r.texts("methodsRegistered") or (),
    )


def parse_role_eligibility(r: Record) -> RoleEligibility:
    return RoleEligibility(
        id=required(r, "id"),
        principal_id=required(r, "principalId"),
        role_definition_id=required(r, "roleDefinitionId"),
        directory_scope_id=r.text("directoryScopeId"),
        status=r.text("status"),
        member_type=r.text("memberType"),
        end=r.child("scheduleInfo").child("expiration").when("endDateTime"),
    )


def parse_security_defaults(raw: Mapping[str, Any] | None) -> SecurityDefaults | None:
    if raw is None:
        return None
    record = Record(raw)
    return SecurityDefaults(
        enabled=record.flag("isEnabled"), display_name=record.text("displayName")
    )


def parse_subscribed_sku(r: Record) -> SubscribedSku:
    plans = []
    for item in r.get("servicePlans") or ():
        if isinstance(item, Mapping):
            plan = Record(item)
            name = plan.text("servicePlanName")
            if name and (plan.text("provisioningStatus") or "").lower() != "disabled":
                plans.append(name)
    return SubscribedSku(
        sku_id=required(r, "skuId"),
        sku_part_number=r.text("skuPartNumber"),
        capability_status=r.text("capabilityStatus"),
        service_plans=tuple(sorted(plans)),
    )


def parse_service_principal(r: Record) -> ServicePrincipal:
    """Graph v1.0 `servicePrincipal` (reference/graph-v1.0-metadata.xml): its `appRoles`
    are the application permissions it offers as a resource (Microsoft Graph's Mail.Read,
    Office 365 Exchange Online's full_access_as_app), named by `value`."""
    roles = []
    for item in r.get("appRoles") or ():
        if isinstance(item, Mapping):
            role = Record(item)
            role_id = role.text("id")
            if role_id:
                roles.append(AppRole(id=role_id.lower(), value=role.text("value"),
                                     allowed_member_types=role.texts("allowedMemberTypes") or ()))
    return ServicePrincipal(
        id=required(r, "id").lower(),
        app_id=(r.text("appId") or "").lower() or None,
        display_name=r.text("displayName"),
        account_enabled=r.flag("accountEnabled"),
        service_principal_type=r.text("servicePrincipalType"),
        app_owner_organization_id=r.text("appOwnerOrganizationId"),
        app_roles=tuple(sorted(roles, key=lambda role: role.id)),
    )


def parse_app_role_assignment(r: Record) -> AppRoleAssignment:
    """Graph v1.0 `appRoleAssignment`: principalId holds appRoleId of resourceId."""
    return AppRoleAssignment(
        id=required(r, "id"),
        principal_id=required(r, "principalId").lower(),
        resource_id=required(r, "resourceId").lower(),
        app_role_id=required(r, "appRoleId").lower(),
        principal_type=r.text("principalType"),
        principal_display_name=r.text("principalDisplayName"),
        resource_display_name=r.text("resourceDisplayName"),
    )


def parse_app_role_assigned_to(
    raw: Mapping[str, Any] | None, skipped: list[SkippedRecord]
) -> tuple[AppRoleAssignment, ...]:
    """`{"<resource servicePrincipal id>": [appRoleAssignment, ...]}` (SPEC section 4)."""
    result: list[AppRoleAssignment] = []
    for resource_id, rows in (raw or {}).items():
        source = f"graph/appRoleAssignedTo[{resource_id}]"
        result += parse_list(source, rows, parse_app_role_assignment, skipped)
    return tuple(sorted(result, key=lambda a: (a.resource_id, a.principal_id, a.id)))
