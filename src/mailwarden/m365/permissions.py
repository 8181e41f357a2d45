"""Which permission a call needs, so that a 403 can say what to grant."""

from __future__ import annotations

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
    (
        "/rolemanagement/directory/roleeligibility",
        "RoleEligibilitySchedule.Read.Directory (or RoleManagement.Read.Directory)",
    ),
    ("/rolemanagement", "RoleManagement.Read.Directory"),
    ("/directoryroles", "RoleManagement.Read.Directory"),
    ("/identity/conditionalaccess", "Policy.Read.All"),
    ("/policies", "Policy.Read.All"),
    ("/settings", "Directory.Read.All"),
    ("/organization", "Organization.Read.All (or Directory.Read.All)"),
    ("/subscribedskus", "Organization.Read.All (or LicenseAssignment.Read.All)"),
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
