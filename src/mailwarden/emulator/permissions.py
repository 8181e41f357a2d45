"""Graph application permissions, as the service enforces them on the reads emulated here.

The token endpoint writes the permissions granted to the app (`EmulatorConfig.
graph_permissions`, all of these by default) into the token's `roles` claim, as Entra
does for the client-credentials flow; Graph reads them from the token and refuses a read
none of whose permissions it holds, with the body Graph sends:

    403 {"error": {"code": "Authorization_RequestDenied",
                   "message": "Insufficient privileges to complete the operation.",
                   "innerError": {"date": ..., "request-id": ..., "client-request-id": ...}}}

(an app-only GET of a user without User.Read.All, published in
https://github.com/BakkerJan/M365Portal/issues/1). Selecting `signInActivity` without
AuditLog.Read.All, and the authentication-methods reports without it, are refused by
the reporting service in its own words (`Authentication_MSGraphPermissionMissing`,
"Calling principal does not have required MSGraph permissions AuditLog.Read.All":
microsoftgraph/microsoft-graph-explorer-v4#2731, microsoft-graph-docs-contrib#8997).
`employeeLeaveDateTime` without User-LifeCycleInfo.Read.All is not refused: it reads as
null (the one published observation, Azure/LogicAppsUX#4925).

Which permissions grant which read is Microsoft's documentation of each API (least
privileged first); the emulator keeps its own copy, as a service would.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mailwarden.emulator.answers import graph_error_body

_DIRECTORY = ("Directory.Read.All", "Directory.ReadWrite.All")
#: Path prefixes (lower case, after the version) -> the permissions that grant the read.
GRAPH_READS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("users", ("User.Read.All", "User.ReadWrite.All", *_DIRECTORY)),
    ("groups/*/members", ("GroupMember.Read.All", "Directory.Read.All", "Group.Read.All",
                          "Group.ReadWrite.All", "GroupMember.ReadWrite.All")),
    ("groups", ("GroupMember.Read.All", *_DIRECTORY, "Group.Read.All", "Group.ReadWrite.All")),
    ("rolemanagement/directory/roleeligibilityschedule",
     ("RoleEligibilitySchedule.Read.Directory", "RoleManagement.Read.Directory",
      "RoleManagement.Read.All", "RoleEligibilitySchedule.ReadWrite.Directory",
      "RoleManagement.ReadWrite.Directory")),
    ("rolemanagement/directory", ("RoleManagement.Read.Directory", "Directory.Read.All",
                                  "RoleManagement.ReadWrite.Directory",
                                  "Directory.ReadWrite.All")),
    ("identity/conditionalaccess", ("Policy.Read.All",)),
    ("policies/identitysecuritydefaultsenforcementpolicy",
     ("Policy.Read.All", "Policy.ReadWrite.SecurityDefaults")),
    ("policies", ("Policy.Read.All",)),
    ("settings", _DIRECTORY),
    ("organization", _DIRECTORY),
    ("subscribedskus", ("Organization.Read.All", *_DIRECTORY, "Organization.ReadWrite.All")),
    ("contacts", ("OrgContact.Read.All", *_DIRECTORY)),
    ("serviceprincipals", ("Application.Read.All", "Application.ReadWrite.OwnedBy",
                           "Application.ReadWrite.All", "Directory.Read.All")),
    ("reports/authenticationmethods", ("AuditLog.Read.All", "UserAuthenticationMethod.Read.All")),
    ("auditlogs", ("AuditLog.Read.All",)),
)
#: Reads answered by the reporting service, which words its refusal differently.
_REPORTING = ("reports/",)
SIGN_IN_ACTIVITY = "AuditLog.Read.All"
LEAVE_DATE = "User-LifeCycleInfo.Read.All"
LEAVE_DATE_PROPERTY = "employeeLeaveDateTime"
#: What an app consented to every read above holds: the least-privileged permission of each.
ALL_GRAPH_PERMISSIONS: frozenset[str] = frozenset(
    {accepted[0] for _, accepted in GRAPH_READS} | {SIGN_IN_ACTIVITY, LEAVE_DATE}
)

#: Write permissions an app consented by default holds besides: the conditional-access
#: change remediation makes (Policy.ReadWrite.ConditionalAccess, with Policy.Read.All).
GRAPH_WRITE_PERMISSIONS: frozenset[str] = frozenset({"Policy.ReadWrite.ConditionalAccess"})
DEFAULT_GRAPH_PERMISSIONS: frozenset[str] = ALL_GRAPH_PERMISSIONS | GRAPH_WRITE_PERMISSIONS

Answer = tuple[int, dict[str, str], dict[str, Any]]


def granted_by(claims: Mapping[str, Any]) -> frozenset[str]:
    """The Graph permissions a token carries: application ones in `roles`, delegated
    ones in `scp` (space-separated)."""
    roles = claims.get("roles")
    names = [str(r) for r in roles] if isinstance(roles, list) else []
    scopes = claims.get("scp")
    if isinstance(scopes, str):
        names += scopes.split()
    return frozenset(names)


def _holds(granted: frozenset[str], accepted: Iterable[str]) -> bool:
    lowered = {g.lower() for g in granted}
    return any(a.lower() in lowered for a in accepted)


def _accepted(path: str) -> tuple[str, ...] | None:
    """The permissions that grant a read of `path` (lower case); the first prefix that
    matches wins, `*` standing for one segment."""
    for prefix, accepted in GRAPH_READS:
        if re.match(re.escape(prefix).replace(r"\*", "[^/]+"), path):
            return accepted
    return None


def missing_permission(name: str) -> Answer:
    """The reporting service's refusal of a read that needs `name`."""
    return 403, {}, graph_error_body(
        "Authentication_MSGraphPermissionMissing",
        f"Calling principal does not have required MSGraph permissions {name}",
    )


def denied() -> Answer:
    """The directory's refusal of a read none of whose permissions the token holds."""
    return 403, {}, graph_error_body(
        "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def read_refusal(
    granted: frozenset[str] | None, segments: Sequence[str], select: Sequence[str] | None
) -> Answer | None:
    """Why a GET of `segments` is refused for a token holding `granted` (None: the
    caller holds everything), or None when it is allowed. Paths not listed are allowed."""
    if granted is None:
        return None
    path = "/".join(segments).lower()
    accepted = _accepted(path)
    if accepted is not None and not _holds(granted, accepted):
        if path.startswith(_REPORTING):
            return missing_permission(accepted[0])
        return denied()
    wanted = {s.strip().lower() for s in select or ()}
    if segments and segments[0].lower() == "users" and "signinactivity" in wanted \
            and not _holds(granted, (SIGN_IN_ACTIVITY,)):
        return missing_permission(SIGN_IN_ACTIVITY)
    return None


def blank_leave_dates(body: dict[str, Any], granted: frozenset[str] | None) -> None:
    """Users' employeeLeaveDateTime reads as null for a token without User-LifeCycleInfo
    permission: set it so in a users page or user object (answered bodies are copies)."""
    if granted is None or _holds(granted, (LEAVE_DATE, "User-LifeCycleInfo.ReadWrite.All")):
        return
    items = body.get("value") if "value" in body else [body]
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and LEAVE_DATE_PROPERTY in item:
            item[LEAVE_DATE_PROPERTY] = None
