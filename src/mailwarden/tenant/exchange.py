"""Exchange Online cmdlet output of a recorded tenant (PascalCase, as `ConvertTo-Json`
writes it, enums as names or integers) -> the model's mailbox values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.model.inventory import (
    ApplicationAccessPolicy,
    AuditBypass,
    AuthenticationPolicy,
    CasMailbox,
    ExoUser,
    InboxRule,
    Mailbox,
    MailboxPermission,
    MailRecipient,
    ManagementRoleAssignment,
    OrganizationConfig,
    RecipientPermission,
    TransportConfig,
)
from mailwarden.tenant.lenient import Record, to_enum, to_flags
from mailwarden.tenant.records import RecordError, required

# Exchange enums as PowerShell 5's ConvertTo-Json writes them (integers).
RECIPIENT_TYPE_DETAILS = {
    1: "UserMailbox",
    2: "LinkedMailbox",
    4: "SharedMailbox",
    8: "LegacyMailbox",
    16: "RoomMailbox",
    32: "EquipmentMailbox",
    64: "MailContact",
    128: "MailUser",
    536870912: "DiscoveryMailbox",
}
MAILBOX_RIGHTS = {
    1: "FullAccess",
    2: "SendAs",
    4: "ExternalAccount",
    65536: "DeleteItem",
    131072: "ReadPermission",
    262144: "ChangePermission",
    524288: "ChangeOwner",
}
RECIPIENT_RIGHTS = {1: "SendAs"}
ACCESS_CONTROL_TYPE = {0: "Allow", 1: "Deny"}
INHERITANCE_TYPE = {0: "None", 1: "All", 2: "Descendents", 3: "SelfAndChildren", 4: "Children"}

_BASIC_AUTH_PREFIX = "allowbasicauth"


def parse_mailbox(r: Record) -> Mailbox:
    mailbox = Mailbox(
        identity=r.text("Identity"),
        name=r.text("Name"),
        alias=r.text("Alias"),
        display_name=r.text("DisplayName"),
        user_principal_name=r.text("UserPrincipalName"),
        primary_smtp_address=r.text("PrimarySmtpAddress"),
        guid=r.text("Guid", "ExchangeGuid"),
        external_directory_object_id=r.text("ExternalDirectoryObjectId"),
        distinguished_name=r.text("DistinguishedName"),
        recipient_type_details=to_enum(r.get("RecipientTypeDetails"), RECIPIENT_TYPE_DETAILS),
        audit_enabled=r.flag("AuditEnabled"),
        audit_owner=r.texts("AuditOwner"),
        audit_delegate=r.texts("AuditDelegate"),
        audit_admin=r.texts("AuditAdmin"),
        forwarding_smtp_address=r.text("ForwardingSmtpAddress"),
        forwarding_address=r.text("ForwardingAddress"),
        deliver_to_mailbox_and_forward=r.flag("DeliverToMailboxAndForward"),
        grant_send_on_behalf_to=r.texts("GrantSendOnBehalfTo"),
        account_disabled=r.flag("AccountDisabled"),
        room_mailbox_account_enabled=r.flag("RoomMailboxAccountEnabled"),
        when_created=r.when("WhenCreated", "WhenMailboxCreated"),
        email_addresses=r.texts("EmailAddresses") or (),
        legacy_exchange_dn=r.text("LegacyExchangeDN"),
        archive_status=r.text("ArchiveStatus"),
        archive_guid=r.text("ArchiveGuid"),
        litigation_hold_enabled=r.flag("LitigationHoldEnabled"),
        in_place_holds=r.texts("InPlaceHolds"),
    )
    # Identity is one of the keys; building all of them is only needed without it.
    if not mailbox.identity and not mailbox.keys():
        raise RecordError("no identity (Identity, Name, Guid, UserPrincipalName ...)")
    return mailbox


def parse_cas_mailbox(r: Record) -> CasMailbox:
    cas = CasMailbox(
        identity=r.text("Identity"),
        name=r.text("Name"),
        primary_smtp_address=r.text("PrimarySmtpAddress"),
        guid=r.text("Guid", "ExchangeGuid"),
        external_directory_object_id=r.text("ExternalDirectoryObjectId"),
        imap_enabled=r.flag("ImapEnabled"),
        pop_enabled=r.flag("PopEnabled"),
        ews_enabled=r.flag("EwsEnabled"),
        activesync_enabled=r.flag("ActiveSyncEnabled"),
        mapi_enabled=r.flag("MAPIEnabled"),
        owa_enabled=r.flag("OWAEnabled"),
        smtp_client_authentication_disabled=r.flag("SmtpClientAuthenticationDisabled"),
    )
    if not cas.identity and not cas.keys():
        raise RecordError("no identity (Identity, Name, Guid, PrimarySmtpAddress ...)")
    return cas


def parse_mailbox_permission(r: Record) -> MailboxPermission:
    rights = to_flags(r.get("AccessRights"), MAILBOX_RIGHTS)
    if not rights:
        raise RecordError("no AccessRights")
    return MailboxPermission(
        identity=required(r, "Identity"),
        user=required(r, "User"),
        access_rights=rights,
        is_inherited=bool(r.flag("IsInherited")),
        deny=bool(r.flag("Deny")),
        inheritance_type=to_enum(r.get("InheritanceType"), INHERITANCE_TYPE),
    )


def parse_recipient_permission(r: Record) -> RecipientPermission:
    rights = to_flags(r.get("AccessRights"), RECIPIENT_RIGHTS)
    if not rights:
        raise RecordError("no AccessRights")
    return RecipientPermission(
        identity=required(r, "Identity"),
        trustee=required(r, "Trustee"),
        access_rights=rights,
        access_control_type=to_enum(r.get("AccessControlType"), ACCESS_CONTROL_TYPE) or "Allow",
        is_inherited=bool(r.flag("IsInherited")),
    )


def parse_exo_user(r: Record) -> ExoUser:
    user = ExoUser(
        identity=r.text("Identity", "Name"),
        user_principal_name=r.text("UserPrincipalName"),
        external_directory_object_id=r.text("ExternalDirectoryObjectId"),
        remote_powershell_enabled=r.flag("RemotePowerShellEnabled"),
        authentication_policy=r.text("AuthenticationPolicy"),
        recipient_type_details=to_enum(r.get("RecipientTypeDetails"), RECIPIENT_TYPE_DETAILS),
    )
    if not (user.identity or user.user_principal_name or user.external_directory_object_id):
        raise RecordError("no identity (Identity, UserPrincipalName, ExternalDirectoryObjectId)")
    return user


def parse_inbox_rule(r: Record) -> InboxRule:
    identity = r.text("Identity")
    mailbox = r.text("MailboxOwnerId")
    if mailbox is None and identity and "\\" in identity:
        mailbox = identity.rsplit("\\", 1)[0]
    if mailbox is None:
        raise RecordError("no MailboxOwnerId, and Identity does not name the mailbox")
    return InboxRule(
        mailbox=mailbox,
        identity=identity,
        name=r.text("Name"),
        enabled=r.flag("Enabled"),
        forward_to=r.texts("ForwardTo") or (),
        forward_as_attachment_to=r.texts("ForwardAsAttachmentTo") or (),
        redirect_to=r.texts("RedirectTo") or (),
        delete_message=r.flag("DeleteMessage"),
        soft_delete_message=r.flag("SoftDeleteMessage"),
        mark_as_read=r.flag("MarkAsRead"),
        move_to_folder=r.text("MoveToFolder"),
        stop_processing_rules=r.flag("StopProcessingRules"),
        description=r.text("Description"),
    )


def parse_mail_recipient(r: Record) -> MailRecipient:
    """A Get-MailContact or Get-MailUser row. ExternalEmailAddress keeps its "SMTP:" prefix,
    as Exchange writes it."""
    recipient = MailRecipient(
        identity=r.text("Identity"),
        name=r.text("Name"),
        alias=r.text("Alias"),
        display_name=r.text("DisplayName"),
        primary_smtp_address=r.text("PrimarySmtpAddress"),
        external_email_address=r.text("ExternalEmailAddress"),
        user_principal_name=r.text("UserPrincipalName"),
        guid=r.text("Guid"),
        external_directory_object_id=r.text("ExternalDirectoryObjectId"),
        distinguished_name=r.text("DistinguishedName"),
        legacy_exchange_dn=r.text("LegacyExchangeDN"),
        recipient_type_details=to_enum(r.get("RecipientTypeDetails"), RECIPIENT_TYPE_DETAILS),
        email_addresses=r.texts("EmailAddresses") or (),
    )
    if not (recipient.identity or recipient.name or recipient.guid or recipient.legacy_exchange_dn
            or recipient.external_directory_object_id):
        raise RecordError("no identity (Identity, Name, Guid, LegacyExchangeDN ...)")
    return recipient


def parse_audit_bypass(r: Record) -> AuditBypass:
    return AuditBypass(
        identity=required(r, "Identity", "Name", "ObjectId"),
        audit_bypass_enabled=r.flag("AuditBypassEnabled"),
    )


def parse_authentication_policy(r: Record) -> AuthenticationPolicy:
    allow = tuple(
        sorted(
            (str(key)[len(_BASIC_AUTH_PREFIX) :], r.flag(str(key)))
            for key in r.raw
            if str(key).lower().startswith(_BASIC_AUTH_PREFIX)
        )
    )
    return AuthenticationPolicy(identity=required(r, "Identity", "Name"), allow_basic=allow)


def parse_organization_config(raw: Mapping[str, Any] | None) -> OrganizationConfig | None:
    if raw is None:
        return None
    r = Record(raw)
    return OrganizationConfig(
        audit_disabled=r.flag("AuditDisabled"),
        default_authentication_policy=r.text("DefaultAuthenticationPolicy"),
        oauth2_client_profile_enabled=r.flag("OAuth2ClientProfileEnabled"),
        reject_direct_send=r.flag("RejectDirectSend"),
    )


def parse_transport_config(raw: Mapping[str, Any] | None) -> TransportConfig | None:
    if raw is None:
        return None
    r = Record(raw)
    return TransportConfig(
        smtp_client_authentication_disabled=r.flag("SmtpClientAuthenticationDisabled")
    )




def parse_application_access_policy(r: Record) -> ApplicationAccessPolicy:
    """Get-ApplicationAccessPolicy (New-ApplicationAccessPolicy.md, office-docs-powershell;
    published output: ScopeName, ScopeIdentity, Identity, AppId, ScopeIdentityRaw
    "<group SID>;<group object id>", Description, AccessRight, ShardType, IsValid)."""
    raw_scope = r.text("ScopeIdentityRaw") or ""
    group_id = raw_scope.split(";", 1)[1].strip().lower() if ";" in raw_scope else None
    return ApplicationAccessPolicy(
        identity=r.text("Identity"),
        app_id=required(r, "AppId").lower(),
        access_right=r.text("AccessRight"),
        scope_name=r.text("ScopeName"),
        scope_identity=r.text("ScopeIdentity"),
        scope_group_id=group_id or None,
        description=r.text("Description"),
    )


def parse_management_role_assignment(r: Record) -> ManagementRoleAssignment:
    """Get-ManagementRoleAssignment (office-docs-powershell Get-ManagementRoleAssignment.md;
    RBAC for Applications rows: RoleAssigneeType ServicePrincipal, Role "Application
    Mail.Read", a CustomResourceScope or RecipientAdministrativeUnitScope when scoped)."""
    return ManagementRoleAssignment(
        identity=r.text("Identity"),
        name=r.text("Name"),
        role=required(r, "Role"),
        role_assignee=r.text("RoleAssignee"),
        role_assignee_name=r.text("RoleAssigneeName"),
        role_assignee_type=r.text("RoleAssigneeType"),
        enabled=r.flag("Enabled"),
        custom_resource_scope=r.text("CustomResourceScope"),
        recipient_write_scope=r.text("RecipientWriteScope"),
        custom_recipient_write_scope=r.text("CustomRecipientWriteScope"),
        recipient_administrative_unit_scope=r.text("RecipientAdministrativeUnitScope"),
        recipient_group_scope=r.text("RecipientGroupScope"),
    )
