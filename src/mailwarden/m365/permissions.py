"""Which permission a call needs, so that a 403 can say what to grant."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

EXCHANGE_PERMISSION = (
    "the Office 365 Exchange Online application permission Exchange.ManageAsApp (admin "
    "consented) and Exchange roles for the app's service principal: the Entra roles Global "
    "Reader and Exchange Recipient Administrator (or Exchange Administrator)"
)

#: The Exchange role a read cmdlet needs beyond Global Reader / View-Only Organization
#: Management, which cannot run these: Get-InboxRule's reference page says it "doesn't work
#: for members of View-Only Organization Management role group in Exchange Online or the
#: Global Reader role in Microsoft Entra ID"; Get-RecipientPermission answers Global Reader
#: "User is not allowed to call" (office-docs-powershell issues 7365 and 9428).
EXCHANGE_ROLE_NEEDED: dict[str, str] = {
    "get-inboxrule": "Mail Recipients",
    "get-recipientpermission": "Mail Recipients",
}
_READER_ROLES = "View-Only Organization Management and Global Reader"


def exchange_role(cmdlet: str) -> str:
    """What to grant so that the app may run `cmdlet`: a sentence fragment."""
    role = EXCHANGE_ROLE_NEEDED.get(cmdlet.lower())
    if role is None and not cmdlet.lower().startswith("get-"):
        return (
            f"{cmdlet} needs an Exchange role that may change recipients (Mail Recipients): "
            "the Entra role Exchange Recipient Administrator or Exchange Administrator "
            f"({_READER_ROLES} can only read)"
        )
    if role is None:
        return (
            f"{cmdlet} needs an Exchange role that includes it: the Entra role Global Reader "
            "covers the read cmdlets mailwarden uses except Get-InboxRule and "
            "Get-RecipientPermission"
        )
    return (
        f"{cmdlet} needs the Exchange role {role}: give the app's service principal the Entra "
        f"role Exchange Recipient Administrator (beside Global Reader), Exchange Administrator,"
        f" or a custom role group holding {role} ({_READER_ROLES} cannot run it)"
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
