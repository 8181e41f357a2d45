"""Which permission each read needs, so that a refusal can say what to grant.

One table for Microsoft Graph (path -> the least-privileged application permission, and
the higher-privileged ones Microsoft's docs list as also sufficient) and one for
Exchange Online (cmdlet -> the management role that holds it). The 403 message of a
collection and `mailwarden doctor` both read them; each row names the page it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from mailwarden.m365.claims import GrantKind, token_grants

#: The Office 365 Exchange Online application permission app-only Exchange calls need.
EXCHANGE_APP_PERMISSION = "Exchange.ManageAsApp"

_DOCS = "https://learn.microsoft.com/graph/api/"


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphPermission:
    """A Microsoft Graph application permission a read needs: the least-privileged one,
    the higher-privileged ones that also grant the read, and where the docs say so."""

    name: str
    higher: tuple[str, ...] = ()
    note: str = ""  # what else it takes (a licence), or what needs it
    docs: str
    #: True when Graph does not refuse a read without it but leaves the data out, so only
    #: the token's roles can tell that it is missing.
    silent: bool = False

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.name, *self.higher)

    def text(self) -> str:
        return f"{self.name} ({self.note})" if self.note else self.name


_DIRECTORY = ("Directory.Read.All", "Directory.ReadWrite.All")
USERS = GraphPermission(name="User.Read.All", higher=("User.ReadWrite.All", *_DIRECTORY),
                        docs=_DOCS + "user-list")
GROUPS = GraphPermission(
    name="GroupMember.Read.All", higher=(*_DIRECTORY, "Group.Read.All", "Group.ReadWrite.All"),
    docs=_DOCS + "group-list")
GROUP_MEMBERS = GraphPermission(
    name="GroupMember.Read.All",
    higher=("Directory.Read.All", "Group.Read.All", "Group.ReadWrite.All",
            "GroupMember.ReadWrite.All"),
    docs=_DOCS + "group-list-members")
ROLES = GraphPermission(
    name="RoleManagement.Read.Directory",
    higher=("Directory.Read.All", "RoleManagement.ReadWrite.Directory", "Directory.ReadWrite.All"),
    docs=_DOCS + "rbacapplication-list-roleassignments (directory provider)")
ROLE_ELIGIBILITY = GraphPermission(
    name="RoleEligibilitySchedule.Read.Directory",
    higher=("RoleManagement.Read.Directory", "RoleManagement.Read.All",
            "RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"),
    note="and Microsoft Entra ID P2 in the tenant",
    docs=_DOCS + "rbacapplication-list-roleeligibilityschedules")
POLICIES = GraphPermission(name="Policy.Read.All",
                           docs=_DOCS + "conditionalaccessroot-list-policies")
SECURITY_DEFAULTS = GraphPermission(
    name="Policy.Read.All", higher=("Policy.ReadWrite.SecurityDefaults",),
    docs=_DOCS + "identitysecuritydefaultsenforcementpolicy-get")
DIRECTORY_SETTINGS = GraphPermission(
    name="Directory.Read.All", higher=("Directory.ReadWrite.All",),
    docs=_DOCS + "directorysetting-list?view=graph-rest-beta")
ORGANIZATION = GraphPermission(name="Directory.Read.All", higher=("Directory.ReadWrite.All",),
                               docs=_DOCS + "organization-list")
SUBSCRIBED_SKUS = GraphPermission(
    name="Organization.Read.All", higher=(*_DIRECTORY, "Organization.ReadWrite.All"),
    docs=_DOCS + "subscribedsku-list")
CONTACTS = GraphPermission(name="OrgContact.Read.All", higher=_DIRECTORY,
                           docs=_DOCS + "orgcontact-list")
SERVICE_PRINCIPALS = GraphPermission(
    name="Application.Read.All",
    higher=("Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All"),
    docs=_DOCS + "serviceprincipal-list")
DOMAINS = GraphPermission(name="Domain.Read.All", higher=_DIRECTORY, docs=_DOCS + "domain-list")
REGISTRATION = GraphPermission(
    name="AuditLog.Read.All", higher=("UserAuthenticationMethod.Read.All",),
    note="and Microsoft Entra ID P1 or P2 in the tenant",
    docs=_DOCS + "authenticationmethodsroot-list-userregistrationdetails")
SIGN_INS = GraphPermission(name="AuditLog.Read.All",
                           note="and Microsoft Entra ID P1 or P2 in the tenant",
                           docs=_DOCS + "signin-list")
AUDIT_LOGS = GraphPermission(name="AuditLog.Read.All", docs=_DOCS + "directoryaudit-list")
AUDIT_QUERIES = GraphPermission(name="AuditLogsQuery.Read.All",
                                docs=_DOCS + "security-auditcoreroot-post-auditlogqueries")
#: Reading user properties that User.Read.All does not cover.
SIGN_IN_ACTIVITY = GraphPermission(
    name="AuditLog.Read.All",
    note="for signInActivity, which also needs Microsoft Entra ID P1 or P2",
    docs=_DOCS + "user-list (signInActivity)")
LEAVE_DATE = GraphPermission(
    name="User-LifeCycleInfo.Read.All", higher=("User-LifeCycleInfo.ReadWrite.All",),
    note="for employeeLeaveDateTime, which reads as empty without it",
    docs="https://learn.microsoft.com/graph/api/resources/user (employeeLeaveDateTime)",
    silent=True)

#: Graph path prefixes (lower case, after the version) -> the permission; first match wins.
GRAPH_PATHS: tuple[tuple[str, GraphPermission], ...] = (
    ("/users", USERS),
    ("/groups", GROUPS),
    ("/rolemanagement/directory/roleeligibilityschedule", ROLE_ELIGIBILITY),
    ("/rolemanagement", ROLES),
    ("/directoryroles", ROLES),
    ("/identity/conditionalaccess", POLICIES),
    ("/policies/identitysecuritydefaultsenforcementpolicy", SECURITY_DEFAULTS),
    ("/policies", POLICIES),
    ("/settings", DIRECTORY_SETTINGS),
    ("/organization", ORGANIZATION),
    ("/subscribedskus", SUBSCRIBED_SKUS),
    ("/contacts", CONTACTS),
    ("/serviceprincipals", SERVICE_PRINCIPALS),
    ("/domains", DOMAINS),
    ("/reports/authenticationmethods", REGISTRATION),
    ("/auditlogs/signins", SIGN_INS),
    ("/auditlogs", AUDIT_LOGS),
    ("/security/auditlog", AUDIT_QUERIES),
)
#: User properties (lower case) that need more than the users' own permission.
USER_PROPERTIES: tuple[tuple[str, GraphPermission], ...] = (
    ("signinactivity", SIGN_IN_ACTIVITY),
    ("employeeleavedatetime", LEAVE_DATE),
)


def _graph_path(url: str) -> tuple[str, str]:
    """The path after the version segment, and the query, both as sent."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    lowered = path.lower()
    for version in ("/v1.0/", "/beta/"):
        if version in lowered:
            path = path[lowered.index(version) + len(version) - 1 :]
            break
    return path, parts.query


def graph_requirements(url: str) -> tuple[GraphPermission, ...]:
    """Every application permission a Graph GET needs: its resource's, then those of the
    properties it selects. Empty when the resource is not in the table."""
    path, query = _graph_path(url)
    lowered = path.lower()
    if lowered.startswith("/groups/") and lowered.rstrip("/").endswith("/members"):
        found: GraphPermission | None = GROUP_MEMBERS
    else:
        found = next((perm for prefix, perm in GRAPH_PATHS if lowered.startswith(prefix)), None)
    if found is None:
        return ()
    needed = [found]
    if lowered.startswith("/users"):
        options = {k.lower(): v.lower() for k, v in parse_qsl(query, keep_blank_values=True)}
        selected = {p.strip() for p in options.get("$select", "").split(",")}
        needed += [perm for name, perm in USER_PROPERTIES if name in selected]
    return tuple(needed)


def graph_permission(url: str) -> str:
    """The permission a Graph URL (absolute or relative to the version) needs, as text."""
    path, _ = _graph_path(url)
    if path.lower() == "/$batch":
        return "the permissions of its sub-requests"
    needed = graph_requirements(url)
    if not needed:
        return "a Microsoft Graph application permission for this resource"
    return " and ".join(perm.text() for perm in needed)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeRole:
    """The Exchange management role that holds a cmdlet, the built-in Entra roles that
    carry it for an app's service principal, and where that is documented."""

    role: str
    entra: tuple[str, ...]
    docs: str
    note: str = ""  # what the reader roles cannot do here

    def text(self) -> str:
        carriers = " or ".join(self.entra)
        note = f"; {self.note}" if self.note else ""
        return (f"the Exchange role {self.role} (the Entra role {carriers} carries it, or a "
                f"custom role group for the app's service principal{note})")


_EXO_DOCS = "https://learn.microsoft.com/exchange/permissions-exo/permissions-exo"
VIEW_ONLY_RECIPIENTS = ExchangeRole(
    role="View-Only Recipients", entra=("Global Reader",),
    docs=_EXO_DOCS + " (View-Only Organization Management); Microsoft365DSC EXOMailboxPermission")
VIEW_ONLY_CONFIGURATION = ExchangeRole(
    role="View-Only Configuration", entra=("Global Reader",),
    docs=_EXO_DOCS + " (View-Only Organization Management); Microsoft365DSC "
    "EXOMailboxAuditBypassAssociation")
#: Get-InboxRule "doesn't work for members of View-Only Organization Management role group
#: in Exchange Online or the Global Reader role in Microsoft Entra ID" (its cmdlet page);
#: Get-RecipientPermission is in no view-only role (office-docs-powershell issue 9428).
_READERS = "View-Only Organization Management and Global Reader"
MAIL_RECIPIENTS = ExchangeRole(
    role="Mail Recipients", entra=("Exchange Recipient Administrator",),
    note=f"{_READERS} cannot run it",
    docs="https://learn.microsoft.com/powershell/module/exchangepowershell/get-inboxrule; "
    "https://github.com/MicrosoftDocs/office-docs-powershell/issues/9428; "
    "https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2 (Option 3)")

#: Cmdlet -> the role it needs; a cmdlet not listed is assumed to be a recipient read.
EXCHANGE_CMDLETS: dict[str, ExchangeRole] = {
    "Get-Mailbox": VIEW_ONLY_RECIPIENTS,
    "Get-CASMailbox": VIEW_ONLY_RECIPIENTS,
    "Get-User": VIEW_ONLY_RECIPIENTS,
    "Get-Recipient": VIEW_ONLY_RECIPIENTS,
    "Get-MailContact": VIEW_ONLY_RECIPIENTS,
    "Get-MailUser": VIEW_ONLY_RECIPIENTS,
    "Get-MailboxPermission": VIEW_ONLY_RECIPIENTS,
    "Get-MailboxStatistics": VIEW_ONLY_RECIPIENTS,
    "Get-CalendarProcessing": VIEW_ONLY_RECIPIENTS,
    "Get-MailboxAuditBypassAssociation": VIEW_ONLY_CONFIGURATION,
    "Get-AuthenticationPolicy": VIEW_ONLY_CONFIGURATION,
    "Get-OrganizationConfig": VIEW_ONLY_CONFIGURATION,
    "Get-TransportConfig": VIEW_ONLY_CONFIGURATION,
    # Get-ManagementRole -Cmdlet Get-ApplicationAccessPolicy: "Organization Configuration,
    # View-Only Configuration"; role assignments are read with the same role.
    "Get-ApplicationAccessPolicy": VIEW_ONLY_CONFIGURATION,
    "Get-ManagementRoleAssignment": VIEW_ONLY_CONFIGURATION,
    "Get-InboxRule": MAIL_RECIPIENTS,
    "Get-RecipientPermission": MAIL_RECIPIENTS,
}


#: Every change mailwarden makes to a recipient (remediation's Set-*, Disable-*, Remove-*).
RECIPIENT_WRITES = ExchangeRole(
    role="Mail Recipients", entra=("Exchange Recipient Administrator", "Exchange Administrator"),
    note=f"a role that may change recipients: {_READERS} can only read",
    docs=_EXO_DOCS + " (Recipient Management)")


def exchange_role(cmdlet: str) -> ExchangeRole:
    """The role an app's service principal needs to run `cmdlet`."""
    lowered = cmdlet.lower()
    if not lowered.startswith("get-"):
        return RECIPIENT_WRITES
    return next((role for name, role in EXCHANGE_CMDLETS.items() if name.lower() == lowered),
                VIEW_ONLY_RECIPIENTS)


EXCHANGE_PERMISSION = (
    f"the Office 365 Exchange Online application permission {EXCHANGE_APP_PERMISSION} "
    "(admin consented) and Exchange roles for the app's service principal: the Entra role "
    "Global Reader reads recipients and the organisation's configuration, and "
    "Get-InboxRule and Get-RecipientPermission also need Exchange Recipient Administrator "
    "(or a custom role group with the Mail Recipients role)"
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
    """The application permissions in an app-only access token's `roles` claim; None when
    the token carries no such claim (a delegated or unreadable token): nothing can be told
    from it then."""
    grants = token_grants(token)
    return grants.permissions if grants.kind is GrantKind.APPLICATION else None


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
