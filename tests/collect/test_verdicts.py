"""What a refusal means, told by the codes and messages the services publish.

- Exchange, cmdlet outside the roles: 401 "User is not allowed to call Get-Mailbox"
  (https://github.com/MicrosoftDocs/office-docs-powershell/issues/7970).
- No Exchange.ManageAsApp: the app-only token's `roles` lack it and Exchange answers 401
  (rknightion/graph2otel, docs/collectors.md; the claim: access-token claims reference).
- Graph without P1: 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant, with either
  published message ("Neither tenant is B2C or tenant doesn't have premium license",
  microsoft-graph-docs-contrib#3033; "Tenant is not a B2C tenant and doesn't have premium
  license", microsoft/woodgrove-groceries#51).
- Graph without P2: 400 AadPremiumLicenseRequired (maester365/maester#1421).
- Graph naming the permission: 403 Authentication_MSGraphPermissionMissing "Calling
  principal does not have required MSGraph permissions AuditLog.Read.All"
  (microsoftgraph/microsoft-graph-explorer-v4#2731).
"""

from __future__ import annotations

import pytest

from mailwarden.collect.verdicts import (
    Verdict,
    exchange_app_permission,
    exchange_refusal,
    graph_refusal,
    missing_graph,
    silently_missing,
)
from mailwarden.errors import (
    AuthError,
    PermissionDeniedError,
    RetriesExhaustedError,
    ServiceError,
)
from mailwarden.m365.claims import GrantKind, TokenGrants

USERS = "https://graph.microsoft.com/v1.0/users?$select=id,signInActivity,employeeLeaveDateTime"
APP = TokenGrants(kind=GrantKind.APPLICATION, permissions=frozenset({"User.Read.All"}))


def refused(status: int, code: str, message: str) -> ServiceError:
    kind = PermissionDeniedError if status == 403 else ServiceError
    return kind(f"Microsoft Graph refused GET ...: HTTP {status} ({code}: {message})",
                status=status, service="graph")


@pytest.mark.parametrize("message", [
    "Neither tenant is B2C or tenant doesn't have premium license",
    "Tenant is not a B2C tenant and doesn't have premium license",
])
def test_no_p1_is_a_licence_whatever_the_wording(message: str) -> None:
    found = graph_refusal(USERS, refused(
        403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", message), APP)
    assert found.verdict is Verdict.LICENCE
    assert "P1" in found.grant and "Directory.Read.All" in found.detail


def test_no_p2_is_a_licence() -> None:
    found = graph_refusal(
        "https://graph.microsoft.com/v1.0/roleManagement/directory/roleEligibilitySchedules",
        refused(400, "AadPremiumLicenseRequired", "The tenant needs to have Microsoft Entra "
                "ID P2 or Microsoft Entra ID Governance license."), APP)
    assert found.verdict is Verdict.LICENCE and "P2" in found.grant


def test_a_graph_403_names_what_the_token_lacks() -> None:
    found = graph_refusal(USERS, refused(403, "Authorization_RequestDenied",
                                         "Insufficient privileges to complete the operation."),
                          APP)
    assert found.verdict is Verdict.MISSING_PERMISSION
    assert found.grant.startswith("AuditLog.Read.All") and "User-LifeCycleInfo" in found.grant
    assert "User.Read.All" not in found.grant


def test_without_readable_roles_the_permission_the_service_names_is_granted() -> None:
    said = str(refused(403, "Authentication_MSGraphPermissionMissing",
                       "Calling principal does not have required MSGraph permissions "
                       "AuditLog.Read.All"))
    lacking = missing_graph(USERS, TokenGrants.unknown(), said)
    assert [p.name for p in lacking] == ["AuditLog.Read.All"]
    assert [p.name for p in missing_graph(USERS, TokenGrants.unknown())] == [
        "User.Read.All", "AuditLog.Read.All", "User-LifeCycleInfo.Read.All"]


def test_a_silent_permission_is_missing_only_by_an_app_tokens_roles() -> None:
    assert silently_missing(USERS, APP) is not None
    delegated = TokenGrants(kind=GrantKind.DELEGATED, permissions=frozenset({"User.Read.All"}))
    assert silently_missing(USERS, delegated) is None
    assert silently_missing(USERS, TokenGrants.unknown()) is None


def test_failures_that_are_not_refusals() -> None:
    exhausted = RetriesExhaustedError("failed 4 times", service="graph")
    assert graph_refusal(USERS, exhausted, APP).verdict is Verdict.UNREACHABLE
    assert graph_refusal(USERS, AuthError("HTTP 401"), APP).verdict is Verdict.SIGN_IN
    assert graph_refusal(USERS, refused(400, "BadRequest", "bad"), APP).verdict is Verdict.FAILED


def test_exchange_refusals() -> None:
    not_allowed = AuthError("Exchange Online refused POST ...: HTTP 401 (Unauthorized: User "
                            "is not allowed to call Get-InboxRule). The token was not accepted")
    found = exchange_refusal("Get-InboxRule", not_allowed)
    assert found.verdict is Verdict.MISSING_ROLE and "Mail Recipients" in found.grant
    token = exchange_refusal("Get-Mailbox", AuthError("HTTP 401 (Unauthorized: invalid token)"))
    assert token.verdict is Verdict.SIGN_IN and "Exchange.ManageAsApp" in token.grant
    denied = PermissionDeniedError("HTTP 403", status=403, service="exchange")
    assert exchange_refusal("Get-Mailbox", denied).verdict is Verdict.MISSING_ROLE
    assert "Global Reader" in exchange_refusal("Get-Mailbox", denied).grant
    assert exchange_refusal("Get-User", RetriesExhaustedError("x")).verdict is Verdict.UNREACHABLE


def test_an_exchange_token_without_manage_as_app_is_named() -> None:
    none = TokenGrants(kind=GrantKind.APPLICATION)
    assert exchange_app_permission(none).verdict is Verdict.MISSING_PERMISSION
    assert exchange_app_permission(none).grant.startswith("Exchange.ManageAsApp")
    granted = TokenGrants(kind=GrantKind.APPLICATION,
                          permissions=frozenset({"Exchange.ManageAsApp"}))
    assert exchange_app_permission(granted).verdict is Verdict.OK
    assert exchange_app_permission(TokenGrants.unknown()).verdict is Verdict.OK
