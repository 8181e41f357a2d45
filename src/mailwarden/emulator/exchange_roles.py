"""Exchange RBAC of the calling application: which cmdlets Exchange lets it run.

An app reaches the Exchange admin API with Exchange.ManageAsApp and runs only the cmdlets
of the roles given to its service principal. `EmulatorConfig.exchange_role` names one of
the profiles below (or its slug); each says what Exchange answers that caller:

- Exchange Administrator: runs every cmdlet.
- View-Only Organization Management: runs the read cmdlets except Get-RecipientPermission
  and Get-InboxRule (HTTP 401 "User is not allowed to call ..."); no write cmdlet.
- Global Reader: likewise refused Get-RecipientPermission; Get-InboxRule runs but fails
  for every mailbox with Exchange's read-scope error; no write cmdlet.
- Exchange Recipient Administrator + Global Reader: runs every cmdlet mailwarden uses.
The other read cmdlets (Get-Mailbox, Get-CASMailbox, Get-User, Get-MailboxPermission,
Get-MailboxAuditBypassAssociation, Get-AuthenticationPolicy, Get-OrganizationConfig,
Get-TransportConfig, Get-MailboxStatistics, Get-CalendarProcessing,
Get-ApplicationAccessPolicy, Get-ManagementRoleAssignment) run under every profile.
mailwarden's own role table (m365/permissions.py) puts Get-MailboxStatistics and
Get-CalendarProcessing in View-Only Recipients; Get-ApplicationAccessPolicy and
Get-ManagementRoleAssignment are in the View-Only Configuration role, which View-Only
Organization Management and Global Reader hold (Get-ManagementRole -Cmdlet
Get-ApplicationAccessPolicy: "Organization Configuration, View-Only Configuration";
Microsoft365DSC's EXOApplicationAccessPolicy and EXOManagementRoleAssignment resources
read with Global Reader / View-Only Configuration); writing them (New-/Remove-
ApplicationAccessPolicy, Set-OrganizationConfig) takes Organization Configuration.

Sources:
- "The Global Administrator and Exchange Administrator roles provide the required
  permissions for any task in Exchange Online PowerShell" (app-only-auth-powershell-v2,
  https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2); the same
  page lists Global Reader and Exchange Recipient Administrator among the roles an app may
  hold, and recommends extending Exchange Recipient Administrator with more roles.
- Get-InboxRule "doesn't work for members of View-Only Organization Management role group
  in Exchange Online or the Global Reader role in Microsoft Entra ID" (Get-InboxRule
  reference, MicrosoftDocs/office-docs-powershell). A Global Reader met it per mailbox:
  "The operation on mailbox "User" failed because it's out of the current user's read
  scope. ..." (MicrosoftDocs/OfficeDocs-O365ITPro#780, 2019). One project measured
  Global Reader running it app-only in 2026 (rknightion/graph2otel); the sources disagree,
  so this profile keeps Microsoft's word and the published error.
- Get-RecipientPermission "requires the mail recipients admin role ... so global reader and
  view-only users cannot see these (send-as) permissions" (office-docs-powershell#9428);
  a Global Reader got HTTP 401 "User is not allowed to call ..." (#7365). Full Access and
  Send on Behalf stay readable to them (#9428).
- A cmdlet outside the caller's roles: HTTP 401 `{"error":{"code":"Unauthorized","message":
  "User is not allowed to call Get-Mailbox","innererror":{"message":"User is not allowed to
  call Get-Mailbox","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException"}}}`
  (office-docs-powershell#7970, verbatim).
The status and exception type of the read-scope error over REST are not published; it is
answered as a 403 cmdlet error with the published message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailwarden.errors import ConfigError

Answer = tuple[int, dict[str, str], dict[str, Any]]

EXCHANGE_ADMINISTRATOR = "Exchange Administrator"
VIEW_ONLY_ORGANIZATION_MANAGEMENT = "View-Only Organization Management"
GLOBAL_READER = "Global Reader"
RECIPIENT_ADMINISTRATOR_AND_GLOBAL_READER = "Exchange Recipient Administrator + Global Reader"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleProfile:
    name: str
    slug: str
    not_allowed: frozenset[str] = frozenset()  # read cmdlets outside the roles (lower case)
    out_of_scope: frozenset[str] = frozenset()  # per-mailbox cmdlets every mailbox refuses
    writes: bool = True  # may run the write cmdlets remediation uses


_READ_ONLY_GAPS = frozenset({"get-recipientpermission"})
PROFILES: tuple[RoleProfile, ...] = (
    RoleProfile(name=EXCHANGE_ADMINISTRATOR, slug="exchange-administrator"),
    RoleProfile(
        name=VIEW_ONLY_ORGANIZATION_MANAGEMENT,
        slug="view-only-organization-management",
        not_allowed=_READ_ONLY_GAPS | {"get-inboxrule"},
        writes=False,
    ),
    RoleProfile(
        name=GLOBAL_READER,
        slug="global-reader",
        not_allowed=_READ_ONLY_GAPS,
        out_of_scope=frozenset({"get-inboxrule"}),
        writes=False,
    ),
    RoleProfile(
        name=RECIPIENT_ADMINISTRATOR_AND_GLOBAL_READER,
        slug="recipient-administrator-and-global-reader",
    ),
)


def role_profile(name: str) -> RoleProfile:
    """The profile a name or slug (any case) names."""
    wanted = name.strip().lower()
    for profile in PROFILES:
        if wanted in {profile.name.lower(), profile.slug}:
            return profile
    known = ", ".join(f"'{p.slug}'" for p in PROFILES)
    raise ConfigError(f"unknown Exchange role '{name}'; use one of {known}")


def not_allowed(cmdlet: str) -> Answer:
    """Exchange's answer to a cmdlet outside the caller's roles (verbatim shape)."""
    message = f"User is not allowed to call {cmdlet}"
    return 401, {}, {
        "error": {
            "code": "Unauthorized",
            "message": message,
            "innererror": {
                "message": message,
                "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
            },
        }
    }


def out_of_read_scope(mailbox: str) -> Answer:
    """Exchange's answer for a mailbox outside what the caller's roles may read."""
    detail = (
        f"|Microsoft.Exchange.Data.Directory.ADScopeException|The operation on mailbox "
        f"\"{mailbox}\" failed because it's out of the current user's read scope. You may "
        f"need elevated permissions. '{mailbox}' isn't within your current write scopes. "
        "Can't perform save operation."
    )
    return 403, {}, {
        "error": {
            "code": "Forbidden",
            "message": "Error executing cmdlet",
            "details": [{"code": "Client", "target": "", "message": detail}],
            "innererror": {
                "message": "Error executing cmdlet",
                "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
            },
        },
        "adminapi.warnings@odata.type": "#Collection(String)",
        "@adminapi.warnings": [],
    }


def role_refusal(profile: RoleProfile, cmdlet: str, *, write: bool) -> Answer | None:
    """The refusal of a cmdlet the profile may not call at all, or None."""
    if (write and not profile.writes) or cmdlet.lower() in profile.not_allowed:
        return not_allowed(cmdlet)
    return None


def scope_refusal(profile: RoleProfile, cmdlet: str, mailbox: str) -> Answer | None:
    """The per-mailbox refusal of a cmdlet that runs but may not read this mailbox."""
    if cmdlet.lower() in profile.out_of_scope:
        return out_of_read_scope(mailbox)
    return None
