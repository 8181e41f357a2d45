"""Fixed facts the generator relies on: Microsoft identifiers, check ids, thresholds.

Role template ids come from the Microsoft Entra built-in roles reference; licence SKU
ids from the Microsoft 365 licensing service plan reference; audit actions from
"Manage mailbox auditing" (Microsoft Purview).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

#: The generator's clock. Every date is computed relative to it, never from the system clock.
COLLECTED_AT: Final = datetime(2026, 11, 1, tzinfo=UTC)

#: Graph records signInActivity.lastSuccessfulSignInDateTime from this day on and did not
#: backfill it: an older success is not on record (Graph's signInActivity resource).
SUCCESS_RECORDED_SINCE: Final = datetime(2023, 12, 1, tzinfo=UTC)
#: How far back Graph keeps the other two: "Microsoft Entra ID maintains interactive
#: sign-ins going back to April 2020" and "non-interactive sign-ins going back to May 2020".
INTERACTIVE_RECORDED_SINCE: Final = datetime(2020, 4, 1, tzinfo=UTC)
NON_INTERACTIVE_RECORDED_SINCE: Final = datetime(2020, 5, 1, tzinfo=UTC)

#: Sizes by name -> total number of Graph user objects.
SIZES: Final[dict[str, int]] = {"small": 200, "medium": 5_000, "large": 50_000}
MIN_USERS: Final = 60

#: SPEC section 5, in catalogue order.
CHECK_IDS: Final[tuple[str, ...]] = (
    "sign-in-enabled",
    "direct-sign-in-observed",
    "password-reset-by-admin",
    "imap-enabled",
    "pop-enabled",
    "ews-enabled",
    "activesync-enabled",
    "smtp-auth-enabled",
    "basic-auth-allowed",
    "legacy-auth-not-blocked",
    "audit-disabled-org",
    "mailbox-audit-disabled",
    "audit-actions-missing",
    "audit-bypass-enabled",
    "stale-delegate",
    "broad-delegation",
    "no-custodian",
    "external-forwarding",
    "hiding-inbox-rule",
    "remote-powershell-enabled",
    "privileged-account",
    "no-mfa-on-enabled-account",
    "weak-smart-lockout",
    "resource-account-enabled",
    "app-mail-access-unscoped",
    "direct-send-allowed",
    "room-external-booking",
    "room-delegate-left",
    "shared-mailbox-needs-licence",
    "shared-mailbox-licence-unused",
    "mailbox-inactive",
    "dormant-delegate",
)
TENANT_CHECK_IDS: Final = frozenset({"audit-disabled-org", "weak-smart-lockout",
                                     "app-mail-access-unscoped", "direct-send-allowed"})

#: RecipientTypeDetails values whose mailbox is ownerless by type (SPEC section 5).
OWNERLESS_TYPES: Final = frozenset(
    {"SharedMailbox", "RoomMailbox", "EquipmentMailbox", "SchedulingMailbox"}
)
RESOURCE_TYPES: Final = frozenset({"RoomMailbox", "EquipmentMailbox"})

# Thresholds the planted ground truth is computed with (see truth.py).
BROAD_GROUP_MIN_MEMBERS: Final = 100
MAX_DELEGATES: Final = 25
PASSWORD_RESET_GRACE_SECONDS: Final = 86_400
LOCKOUT_THRESHOLD_MAX: Final = 10
LOCKOUT_DURATION_MIN_SECONDS: Final = 60

#: Principals that stand for "everyone" in mailbox and recipient permissions.
BROAD_PRINCIPALS: Final = frozenset(
    {"default", "anonymous", "everyone", "nt authority\\authenticated users"}
)

#: Audit actions a mailbox must log per logon type to see abuse.
REQUIRED_AUDIT_ACTIONS: Final[dict[str, frozenset[str]]] = {
    "AuditOwner": frozenset({"MailItemsAccessed", "Send", "UpdateInboxRules", "HardDelete"}),
    "AuditDelegate": frozenset(
        {"MailItemsAccessed", "SendAs", "SendOnBehalf", "UpdateInboxRules", "HardDelete"}
    ),
    "AuditAdmin": frozenset(
        {"MailItemsAccessed", "Send", "SendAs", "SendOnBehalf", "UpdateInboxRules", "HardDelete"}
    ),
}
#: Microsoft's default audited actions per logon type (mailbox auditing on by default).
DEFAULT_AUDIT_ACTIONS: Final[dict[str, tuple[str, ...]]] = {
    "AuditOwner": (
        "Update", "MoveToDeletedItems", "SoftDelete", "HardDelete", "UpdateFolderPermissions",
        "UpdateInboxRules", "UpdateCalendarDelegation", "ApplyRecord", "MailItemsAccessed",
        "Send",
    ),
    "AuditDelegate": (
        "Update", "MoveToDeletedItems", "SoftDelete", "HardDelete", "SendAs", "SendOnBehalf",
        "Create", "UpdateFolderPermissions", "UpdateInboxRules", "ApplyRecord",
        "MailItemsAccessed",
    ),
    "AuditAdmin": (
        "Update", "MoveToDeletedItems", "SoftDelete", "HardDelete", "SendAs", "SendOnBehalf",
        "Create", "UpdateFolderPermissions", "UpdateInboxRules", "UpdateCalendarDelegation",
        "ApplyRecord", "MailItemsAccessed", "Send",
    ),
}

#: userRegistrationDetails.methodsRegistered values that count as a strong second factor,
#: spelled as Graph returns them (its list example and the beta usageAuthMethod members);
#: email only serves self-service password reset.
STRONG_METHODS: Final = frozenset({
    "microsoftAuthenticatorPush", "softwareOneTimePasscode", "hardwareOneTimePasscode",
    "mobilePhone", "fido2SecurityKey", "windowsHelloForBusiness",
    "microsoftAuthenticatorPasswordless", "passKeyDeviceBound",
    "passKeyDeviceBoundAuthenticator", "passKeyDeviceBoundWindowsHello", "passKeySynced",
})
#: The strong methods that also sign in without a password (isPasswordlessCapable).
PASSWORDLESS_METHODS: Final = frozenset({
    "fido2SecurityKey", "windowsHelloForBusiness", "microsoftAuthenticatorPasswordless",
    "passKeyDeviceBound", "passKeyDeviceBoundAuthenticator", "passKeyDeviceBoundWindowsHello",
    "passKeySynced",
})

#: Folders nobody looks at; a rule that moves mail there hides it.
OBSCURE_FOLDERS: Final = frozenset(
    {"rss feeds", "rss subscriptions", "conversation history", "archive", "junk email",
     "deleted items", "sync issues", "notes"}
)
#: Exchange's own hidden rules (lower case): the junk e-mail rule, and the out-of-office
#: rules by prefix. They move junk and answer while away; they hide nothing.
SYSTEM_RULE_NAMES: Final = frozenset({"junk e-mail rule"})
SYSTEM_RULE_PREFIX: Final = "microsoft.exchange.oof."

#: Every AllowBasicAuth* switch of an Exchange Online authentication policy.
BASIC_AUTH_PROTOCOLS: Final[tuple[str, ...]] = (
    "ActiveSync", "Autodiscover", "Imap", "Mapi", "OfflineAddressBook", "OutlookService",
    "Pop", "Powershell", "ReportingWebServices", "Rest", "Rpc", "Smtp", "WebServices",
)

#: displayName -> (templateId, description) of the built-in roles the tenant uses.
ROLES: Final[dict[str, tuple[str, str]]] = {
    "Global Administrator": (
        "62e90394-69f5-4237-9190-012177145e10",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use "
        "Microsoft Entra identities.",
    ),
    "Exchange Administrator": (
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Can manage all aspects of the Exchange product.",
    ),
    "User Administrator": (
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "Can manage all aspects of users and groups, including resetting passwords for "
        "limited admins.",
    ),
    "Helpdesk Administrator": (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Can reset passwords for non-administrators and Helpdesk Administrators.",
    ),
    "Security Administrator": (
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Can read security information and reports, and manage configuration in Microsoft "
        "Entra ID and Office 365.",
    ),
    "Global Reader": (
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Can read everything that a Global Administrator can, but not update anything.",
    ),
}
#: A few real resource actions per role, enough to show the shape.
ROLE_ACTIONS: Final[dict[str, tuple[str, ...]]] = {
    "Global Administrator": (
        "microsoft.directory/users/allProperties/allTasks",
        "microsoft.directory/groups/allProperties/allTasks",
        "microsoft.directory/roleAssignments/allProperties/allTasks",
        "microsoft.office365.exchange/allEntities/allProperties/allTasks",
    ),
    "Exchange Administrator": (
        "microsoft.directory/groups/unified/create",
        "microsoft.office365.exchange/allEntities/basic/allTasks",
        "microsoft.office365.serviceHealth/allEntities/allTasks",
    ),
    "User Administrator": (
        "microsoft.directory/users/create",
        "microsoft.directory/users/delete",
        "microsoft.directory/users/password/update",
    ),
    "Helpdesk Administrator": (
        "microsoft.directory/users/invalidateAllRefreshTokens",
        "microsoft.directory/users/password/update",
    ),
    "Security Administrator": (
        "microsoft.directory/conditionalAccessPolicies/create",
        "microsoft.directory/conditionalAccessPolicies/basic/update",
    ),
    "Global Reader": (
        "microsoft.directory/users/standard/read",
        "microsoft.office365.exchange/allEntities/standard/read",
    ),
}

#: skuPartNumber -> skuId.
SKUS: Final[dict[str, str]] = {
    "SPE_E3": "05e9a617-0261-4cee-bb44-138d3ef5d965",
    "SPE_E5": "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
    "ENTERPRISEPACK": "6fd2c87f-b296-42f0-b197-1e91e994b900",
    "STANDARDPACK": "18181a46-0d4e-45cd-891e-60aabd171b4e",
}

PASSWORD_RULE_TEMPLATE_ID: Final = "5cf42378-d67d-4f36-ba46-e8b86229381d"
