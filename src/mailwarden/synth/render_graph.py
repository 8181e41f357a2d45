"""Spell the tenant in Microsoft Graph v1.0 shapes (camelCase, ISO dates with 'Z')."""

from __future__ import annotations

from typing import Any

from mailwarden.synth.constants import (
    COLLECTED_AT,
    PASSWORD_RULE_TEMPLATE_ID,
    PASSWORDLESS_METHODS,
    ROLE_ACTIONS,
    ROLES,
    STRONG_METHODS,
)
from mailwarden.synth.ids import (
    cloud_sid,
    derived_guid,
    derived_guids,
    derived_token,
    graph_date,
)
from mailwarden.synth.model import Account, Group, Tenant
from mailwarden.synth.render_licences import (
    role_eligibility_schedules,
    security_defaults,
    subscribed_skus,
)


def _date(value: Any) -> str | None:
    return graph_date(value) if value is not None else None


def user(account: Account) -> dict[str, Any]:
    guest = account.user_type == "Guest"
    interactive, non_interactive, successful = derived_guids(3, account.id, "sign-in")
    return {
        "id": account.id,
        "userPrincipalName": account.upn,
        "displayName": account.display_name,
        "givenName": account.given_name,
        "surname": account.surname,
        "mail": account.mail,
        "mailNickname": account.mail_nickname,
        "accountEnabled": account.enabled,
        "userType": account.user_type,
        "creationType": "Invitation" if guest else None,
        "externalUserState": account.guest_state,
        "externalUserStateChangeDateTime": _date(account.created) if guest else None,
        "createdDateTime": graph_date(account.created),
        "lastPasswordChangeDateTime": graph_date(account.password_changed),
        "signInActivity": {
            "lastSignInDateTime": _date(account.recorded_sign_in),
            "lastSignInRequestId": interactive if account.recorded_sign_in else None,
            "lastNonInteractiveSignInDateTime": _date(account.recorded_non_interactive),
            "lastNonInteractiveSignInRequestId":
                non_interactive if account.recorded_non_interactive else None,
            "lastSuccessfulSignInDateTime": _date(account.recorded_success),
            "lastSuccessfulSignInRequestId": successful if account.recorded_success else None,
        },
        "assignedLicenses": [{"disabledPlans": [], "skuId": sku} for sku in account.skus],
        "usageLocation": "GB" if account.skus else None,
        "department": account.department,
        "jobTitle": account.job_title,
        "employeeLeaveDateTime": _date(account.left_at),
        "onPremisesSyncEnabled": True if account.onprem_sid else None,
        "onPremisesSecurityIdentifier": account.onprem_sid,
        "securityIdentifier": cloud_sid(account.id),
    }


def group(item: Group) -> dict[str, Any]:
    return {
        "id": item.id,
        "displayName": item.display_name,
        "description": item.description,
        "mail": item.mail,
        "mailEnabled": item.mail_enabled,
        "mailNickname": item.mail_nickname,
        "securityEnabled": item.security_enabled,
        "groupTypes": ["Unified"] if item.unified else [],
        "visibility": "Private" if item.unified else None,
        "membershipRule": None,
        "createdDateTime": graph_date(item.created),
        "onPremisesSyncEnabled": None,
        "securityIdentifier": cloud_sid(item.id),
    }


def group_members(tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    people = {account.id: account for account in tenant.accounts}
    groups = {item.id: item for item in tenant.groups}
    result: dict[str, list[dict[str, Any]]] = {}
    for item in tenant.groups:
        members: list[dict[str, Any]] = [
            {"@odata.type": "#microsoft.graph.user", "id": member,
             "displayName": people[member].display_name,
             "userPrincipalName": people[member].upn}
            for member in item.users
        ]
        members += [
            {"@odata.type": "#microsoft.graph.group", "id": member,
             "displayName": groups[member].display_name, "mail": groups[member].mail}
            for member in item.groups
        ]
        result[item.id] = members
    return result


def role_definitions(tenant: Tenant) -> list[dict[str, Any]]:
    held = tenant.role_assignments + tenant.role_eligibilities
    used = sorted({role for _principal, role in held})
    return [{
        "id": ROLES[name][0],
        "displayName": name,
        "description": ROLES[name][1],
        "isBuiltIn": True,
        "isEnabled": True,
        "resourceScopes": ["/"],
        "templateId": ROLES[name][0],
        "version": "1",
        "rolePermissions": [{"allowedResourceActions": list(ROLE_ACTIONS[name]),
                             "condition": None}],
    } for name in used]


def role_assignments(tenant: Tenant) -> list[dict[str, Any]]:
    return [{
        "id": derived_token(principal, role),
        "principalId": principal,
        "roleDefinitionId": ROLES[role][0],
        "directoryScopeId": "/",
    } for principal, role in tenant.role_assignments]


def conditional_access(tenant: Tenant) -> list[dict[str, Any]]:
    return [{
        "id": policy.id,
        "templateId": None,
        "displayName": policy.display_name,
        "createdDateTime": graph_date(policy.created),
        "modifiedDateTime": graph_date(policy.created),
        "state": policy.state,
        "sessionControls": None,
        "conditions": {
            "userRiskLevels": [], "signInRiskLevels": [], "servicePrincipalRiskLevels": [],
            "clientAppTypes": list(policy.client_app_types),
            "platforms": None, "locations": None, "devices": None, "clientApplications": None,
            "applications": {
                "includeApplications": list(policy.include_applications),
                "excludeApplications": [], "includeUserActions": [],
                "includeAuthenticationContextClassReferences": [], "applicationFilter": None,
            },
            "users": {
                "includeUsers": list(policy.include_users),
                "excludeUsers": list(policy.exclude_users),
                "includeGroups": list(policy.include_groups),
                "excludeGroups": list(policy.exclude_groups),
                "includeRoles": list(policy.include_roles),
                "excludeRoles": list(policy.exclude_roles),
                "includeGuestsOrExternalUsers": None, "excludeGuestsOrExternalUsers": None,
            },
        },
        "grantControls": {
            "operator": "OR", "builtInControls": list(policy.built_in_controls),
            "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength": None,
        },
    } for policy in tenant.policies]


def settings(tenant: Tenant) -> list[dict[str, Any]]:
    values = {
        "BannedPasswordCheckOnPremisesMode": "Audit",
        "EnableBannedPasswordCheckOnPremises": "False",
        "EnableBannedPasswordCheck": "True",
        "LockoutDurationInSeconds": str(tenant.lockout_duration_seconds),
        "LockoutThreshold": str(tenant.lockout_threshold),
        "BannedPasswordList": "",
    }
    return [{
        "id": derived_guid(tenant.tenant_id, "password-rule-settings"),
        "displayName": "Password Rule Settings",
        "templateId": PASSWORD_RULE_TEMPLATE_ID,
        "values": [{"name": name, "value": value} for name, value in values.items()],
    }]


#: methodsRegistered -> the userDefaultAuthenticationMethod it offers as a second factor
#: (that enum's members: push, oath, voiceMobile, voiceAlternateMobile, voiceOffice, sms,
#: none); a passkey or Windows Hello signs in without one.
_SECOND_FACTOR = {"microsoftAuthenticatorPush": "push", "softwareOneTimePasscode": "oath",
                  "hardwareOneTimePasscode": "oath", "mobilePhone": "sms"}


def registration_details(tenant: Tenant) -> list[dict[str, Any]]:
    admins = {principal for principal, _role in tenant.role_assignments}
    result = []
    for account in tenant.accounts:
        methods = list(account.mfa_methods)
        strong = not STRONG_METHODS.isdisjoint(methods)
        passwordless = not PASSWORDLESS_METHODS.isdisjoint(methods)
        preferred = next((_SECOND_FACTOR[m] for m in methods if m in _SECOND_FACTOR), "none")
        result.append({
            "id": account.id,
            "userPrincipalName": account.upn,
            "userDisplayName": account.display_name,
            "userType": "guest" if account.user_type == "Guest" else "member",
            "isAdmin": account.id in admins,
            "isSsprRegistered": strong,
            "isSsprEnabled": account.user_type == "Member",
            "isSsprCapable": strong and account.user_type == "Member",
            "isMfaRegistered": strong,
            "isMfaCapable": strong,
            "isPasswordlessCapable": passwordless,
            "methodsRegistered": methods,
            "isSystemPreferredAuthenticationMethodEnabled": True,
            "systemPreferredAuthenticationMethods": [] if preferred == "none" else [preferred],
            "userPreferredMethodForSecondaryAuthentication": preferred,
            "lastUpdatedDateTime": graph_date(COLLECTED_AT),
        })
    return result


def render_graph(tenant: Tenant) -> dict[str, Any]:
    """The Graph sources as a collection of the tenant records them: without Entra ID P1,
    users without signInActivity and no registration report; without P2, no PIM
    eligibility (render_licences.limitations says why)."""
    users = [user(account) for account in tenant.accounts]
    if not tenant.entra_p1:
        users = [{k: v for k, v in item.items() if k != "signInActivity"} for item in users]
    data: dict[str, Any] = {
        "graph/users": users,
        "graph/groups": [group(item) for item in tenant.groups],
        "graph/groupMembers": group_members(tenant),
        "graph/roleAssignments": role_assignments(tenant),
        "graph/roleDefinitions": role_definitions(tenant),
        "graph/conditionalAccessPolicies": conditional_access(tenant),
        "graph/settings": settings(tenant),
    }
    if tenant.entra_p1:
        data["graph/userRegistrationDetails"] = registration_details(tenant)
    if tenant.entra_p2:
        data["graph/roleEligibilitySchedules"] = role_eligibility_schedules(tenant)
    data["graph/subscribedSkus"] = subscribed_skus(tenant)
    data["graph/securityDefaults"] = security_defaults(tenant)
    return data
