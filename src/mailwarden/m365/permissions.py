"""Which permission a call needs, so that a 403 can say what to grant."""

from __future__ import annotations

import base64
import json
from urllib.parse import unquote, urlsplit

EXCHANGE_PERMISSION = (
    "the Office 365 Exchange Online application permission Exchange.ManageAsApp (admin "
    "consented) and an Exchange role for the app's service principal, such as "
    "View-Only Organization Management or the Entra role Global Reader"
)

#: Graph path prefixes (after the version segment) -> the least-privileged permission.
_GRAPH: tuple[tuple[str, str], ...] = (
    ("/users", "User.Read.All"),
    ("/groups", "GroupMember.Read.All (or Group.Read.All)"),
    ("/rolemanagement", "RoleManagement.Read.Directory"),
    ("/directoryroles", "RoleManagement.Read.Directory"),
    ("/identity/conditionalaccess", "Policy.Read.All"),
    ("/policies", "Policy.Read.All"),
    ("/settings", "Directory.Read.All"),
    ("/organization", "Organization.Read.All (or Directory.Read.All)"),
    ("/domains", "Domain.Read.All (or Directory.Read.All)"),
    (
        "/reports/authenticationmethods",
        "AuditLog.Read.All (and an Entra ID P1 or P2 licence in the tenant)",
    ),
    ("/auditlogs/signins", "AuditLog.Read.All (and an Entra ID P1 or P2 licence)"),
    ("/auditlogs", "AuditLog.Read.All"),
    ("/security/auditlog", "AuditLogsQuery.Read.All"),
)


def graph_permission(url: str) -> str:
    """The permission a Graph URL (absolute or relative to the version) needs."""
    parts = urlsplit(url)
    path = unquote(parts.path).lower()
    for version in ("/v1.0", "/beta"):
        if version + "/" in path:
            path = path.split(version, 1)[1]
            break
    if path == "/$batch":
        return "the permissions of its sub-requests"
    needed = next((perm for prefix, perm in _GRAPH if path.startswith(prefix)), None)
    if needed is None:
        return "a Microsoft Graph application permission for this resource"
    query = unquote(parts.query).lower()
    if path.startswith("/users"):
        extra = [perm for name, perm in _USER_PROPERTIES if name in query]
        if extra:
            return " and ".join([needed, *extra])
    return needed


#: Selecting these user properties needs more than User.Read.All.
_USER_PROPERTIES = (
    ("signinactivity", "AuditLog.Read.All (signInActivity also needs Entra ID P1 or P2)"),
    ("employeeleavedatetime", "User-LifeCycleInfo.Read.All (for employeeLeaveDateTime)"),
)


#: User properties Graph answers with null, not an error, when the app lacks a permission:
#: property -> (permissions that unlock it, least privileged first). employeeLeaveDateTime:
#: "To read this property, the calling app must be assigned the User-LifeCycleInfo.Read.All
#: permission" (Graph user resource); without it the one public report shows the property
#: as null in a 200 answer.
WITHHELD_USER_PROPERTIES: dict[str, tuple[str, ...]] = {
    "employeeLeaveDateTime": ("User-LifeCycleInfo.Read.All", "User-LifeCycleInfo.ReadWrite.All"),
}


def token_roles(token: str) -> frozenset[str] | None:
    """The application permissions in an app-only access token's `roles` claim.

    None when the token is not a JWT that carries the claim (a delegated token carries
    `scp` instead, and opaque tokens say nothing): then nothing can be told from it. The
    signature is not checked: the token is our own, only read to explain what Graph does."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    roles = payload.get("roles") if isinstance(payload, dict) else None
    if not isinstance(roles, list):
        return None
    return frozenset(str(role) for role in roles)


def withheld_user_properties(roles: frozenset[str] | None) -> dict[str, str]:
    """User properties Graph silently returns as null to a token with these `roles`, each
    with the reason; empty when the roles are unknown."""
    if roles is None:
        return {}
    granted = {role.lower() for role in roles}
    return {
        name: f"the app lacks {needed[0]}, so Graph returns {name} as null"
        for name, needed in WITHHELD_USER_PROPERTIES.items()
        if not granted & {permission.lower() for permission in needed}
    }
