"""The properties a live collection asks for (`$select`), per source.

These lists are what `parse.py` reads, plus identity properties: keep them in step with
it, or collected tenants will lack what the checks need. The round-trip test (collect an
emulated tenant, parse, compare with the original) fails when they drift apart.
"""

from __future__ import annotations

USER = (
    "id",
    "userPrincipalName",
    "displayName",
    "mail",
    "mailNickname",
    "accountEnabled",
    "userType",
    "createdDateTime",
    "lastPasswordChangeDateTime",
    "signInActivity",
    "assignedLicenses",
    "onPremisesSecurityIdentifier",
    "securityIdentifier",
    "department",
    "jobTitle",
    "employeeLeaveDateTime",
    "externalUserState",
)
GROUP = (
    "id",
    "displayName",
    "mail",
    "mailNickname",
    "securityEnabled",
    "mailEnabled",
    "groupTypes",
    "securityIdentifier",
    "onPremisesSecurityIdentifier",
)
MEMBER = ("id", "displayName", "userPrincipalName")  # Graph adds @odata.type itself
ROLE_ASSIGNMENT = ("id", "principalId", "roleDefinitionId", "directoryScopeId")
ROLE_DEFINITION = ("id", "displayName", "templateId", "isBuiltIn")
CONDITIONAL_ACCESS = ("id", "displayName", "state", "conditions", "grantControls")
DIRECTORY_SETTING = ("id", "displayName", "templateId", "values")
REGISTRATION = ("id", "userPrincipalName", "isMfaRegistered", "isMfaCapable", "methodsRegistered")
ORGANIZATION = ("id", "displayName", "verifiedDomains")
SUBSCRIBED_SKU = ("id", "skuId", "skuPartNumber", "capabilityStatus", "appliesTo", "servicePlans")
ROLE_ELIGIBILITY = (
    "id",
    "principalId",
    "roleDefinitionId",
    "directoryScopeId",
    "status",
    "memberType",
    "scheduleInfo",
)
# identitySecurityDefaultsEnforcementPolicy: one small object, read whole.

MAILBOX = (
    "Identity",
    "Name",
    "Alias",
    "DisplayName",
    "UserPrincipalName",
    "PrimarySmtpAddress",
    "Guid",
    "ExchangeGuid",
    "ExternalDirectoryObjectId",
    "DistinguishedName",
    "RecipientTypeDetails",
    "AuditEnabled",
    "AuditOwner",
    "AuditDelegate",
    "AuditAdmin",
    "ForwardingSmtpAddress",
    "ForwardingAddress",
    "DeliverToMailboxAndForward",
    "GrantSendOnBehalfTo",
    "AccountDisabled",
    "RoomMailboxAccountEnabled",
    "WhenCreated",
    "WhenMailboxCreated",
    "EmailAddresses",
    "LegacyExchangeDN",
    "ArchiveStatus",
    "ArchiveGuid",
    "LitigationHoldEnabled",
    "InPlaceHolds",
)
CAS_MAILBOX = (
    "Identity",
    "Name",
    "PrimarySmtpAddress",
    "Guid",
    "ExchangeGuid",
    "ExternalDirectoryObjectId",
    "ImapEnabled",
    "PopEnabled",
    "EwsEnabled",
    "ActiveSyncEnabled",
    "MAPIEnabled",
    "OWAEnabled",
    "SmtpClientAuthenticationDisabled",
)
MAILBOX_PERMISSION = ("Identity", "User", "AccessRights", "IsInherited", "Deny", "InheritanceType")
RECIPIENT_PERMISSION = ("Identity", "Trustee", "AccessRights", "AccessControlType", "IsInherited")
EXO_USER = (
    "Identity",
    "Name",
    "UserPrincipalName",
    "ExternalDirectoryObjectId",
    "RemotePowerShellEnabled",
    "AuthenticationPolicy",
    "RecipientTypeDetails",
)
INBOX_RULE = (
    "MailboxOwnerId",
    "Identity",
    "Name",
    "Enabled",
    "ForwardTo",
    "ForwardAsAttachmentTo",
    "RedirectTo",
    "DeleteMessage",
    "SoftDeleteMessage",
    "MarkAsRead",
    "MoveToFolder",
    "StopProcessingRules",
    "Description",
)
CALENDAR_PROCESSING = (
    "Identity",
    "AutomateProcessing",
    "ProcessExternalMeetingMessages",
    "AllBookInPolicy",
    "AllRequestInPolicy",
    "ForwardRequestsToDelegates",
    "ResourceDelegates",
)
MAILBOX_STATISTICS = (
    "Identity",
    "MailboxGuid",
    "TotalItemSize",
    "LastInteractionTime",
    "LastUserActionTime",
    "LastLogonTime",
)
#: Get-MailContact and Get-MailUser: enough to resolve a ForwardingAddress (an Exchange
#: identity) or an inbox rule's [EX:legacyExchangeDN] target to where its mail goes.
MAIL_CONTACT = (
    "Identity",
    "Name",
    "Alias",
    "DisplayName",
    "PrimarySmtpAddress",
    "ExternalEmailAddress",
    "EmailAddresses",
    "Guid",
    "ExternalDirectoryObjectId",
    "DistinguishedName",
    "LegacyExchangeDN",
    "RecipientTypeDetails",
)
MAIL_USER = (*MAIL_CONTACT, "UserPrincipalName")
AUDIT_BYPASS = ("Identity", "Name", "ObjectId", "AuditBypassEnabled")
ORGANIZATION_CONFIG = (
    "Identity",
    "Name",
    "AuditDisabled",
    "DefaultAuthenticationPolicy",
    "OAuth2ClientProfileEnabled",
    "RejectDirectSend",
)
#: Graph servicePrincipal: who the app is and, for a resource, the app roles it offers.
SERVICE_PRINCIPAL = ("id", "appId", "displayName", "accountEnabled", "servicePrincipalType",
                     "appOwnerOrganizationId", "appRoles")
#: Graph appRoleAssignment (reference CSDL: appRoleId, principalId, principalType,
#: resourceId and their display names).
APP_ROLE_ASSIGNMENT = ("id", "appRoleId", "createdDateTime", "principalDisplayName",
                       "principalId", "principalType", "resourceDisplayName", "resourceId")

TRANSPORT_CONFIG = ("Identity", "SmtpClientAuthenticationDisabled")
# Get-AuthenticationPolicy: no $select; its AllowBasicAuth* properties are all needed and few.
