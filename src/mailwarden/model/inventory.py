"""What a tenant looks like to mailwarden: typed, immutable records and the `Snapshot`.

Every field that the source did not provide is `None` (unknown), never a default such as
False or an empty tuple: a check must be able to tell "off" from "not collected".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: A part of a source a licence can withhold while the rest is read: Graph refuses
#: `$select=signInActivity` on /users without Entra ID P1, and the users are read without it.
SIGN_IN_ACTIVITY = "graph/users.signInActivity"
#: Every such part: a check may need one as it needs a source.
LIMITABLE_PARTS: tuple[str, ...] = (SIGN_IN_ACTIVITY,)


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantInfo:
    tenant_id: str
    display_name: str | None = None
    default_domain: str | None = None
    verified_domains: tuple[str, ...] = ()
    collected_at: datetime | None = None
    #: Properties the collector could not read although the service answered, e.g.
    #: ("graph/users.employeeLeaveDateTime", why): their nulls mean "unknown", not "none".
    unreadable: tuple[tuple[str, str], ...] = ()

    def why_unreadable(self, name: str) -> str | None:
        """Why `name` ("graph/users.employeeLeaveDateTime") could not be read, or None."""
        wanted = name.lower()
        return next((why for key, why in self.unreadable if key.lower() == wanted), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """An Entra ID user (Graph `user`)."""

    id: str
    user_principal_name: str
    display_name: str | None = None
    mail: str | None = None
    mail_nickname: str | None = None
    account_enabled: bool | None = None
    user_type: str | None = None  # "Member" | "Guest"
    created: datetime | None = None
    last_password_change: datetime | None = None
    last_sign_in: datetime | None = None
    last_non_interactive_sign_in: datetime | None = None
    last_successful_sign_in: datetime | None = None
    licenses: tuple[str, ...] | None = None  # skuIds; None = not collected
    on_premises_sid: str | None = None
    security_identifier: str | None = None
    department: str | None = None
    job_title: str | None = None
    leave_date: datetime | None = None
    external_user_state: str | None = None

    @property
    def upn(self) -> str:
        return self.user_principal_name.lower()

    @property
    def is_guest(self) -> bool:
        return (self.user_type or "").lower() == "guest" or "#ext#" in self.upn


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    id: str
    display_name: str | None = None
    mail: str | None = None
    mail_nickname: str | None = None
    security_enabled: bool | None = None
    mail_enabled: bool | None = None
    group_types: tuple[str, ...] = ()
    security_identifier: str | None = None
    on_premises_sid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryObjectRef:
    """A member of a group: a user, a group, a service principal, a contact, a device."""

    id: str
    object_type: str  # "user" | "group" | "servicePrincipal" | "orgContact" | "device" | ...
    display_name: str | None = None
    user_principal_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupMembers:
    group_id: str
    members: tuple[DirectoryObjectRef, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleDefinition:
    id: str
    display_name: str | None = None
    template_id: str | None = None
    is_built_in: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleAssignment:
    id: str
    principal_id: str
    role_definition_id: str
    directory_scope_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UsersCondition:
    include_users: tuple[str, ...] = ()  # ids, or "All", "GuestsOrExternalUsers", "None"
    exclude_users: tuple[str, ...] = ()
    include_groups: tuple[str, ...] = ()
    exclude_groups: tuple[str, ...] = ()
    include_roles: tuple[str, ...] = ()  # role template ids
    exclude_roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionalAccessPolicy:
    id: str
    display_name: str | None = None
    state: str | None = None  # "enabled" | "disabled" | "enabledForReportingButNotEnforced"
    users: UsersCondition = field(default_factory=UsersCondition)
    client_app_types: tuple[str, ...] = ()
    include_applications: tuple[str, ...] = ()
    exclude_applications: tuple[str, ...] = ()
    grant_operator: str | None = None
    built_in_controls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectorySetting:
    id: str
    display_name: str | None = None
    template_id: str | None = None
    values: tuple[tuple[str, str | None], ...] = ()

    def value(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.values if k.lower() == wanted), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleEligibility:
    """Graph `unifiedRoleEligibilitySchedule` (PIM, Entra ID P2): a principal may activate
    a directory role when it wants it."""

    id: str
    principal_id: str
    role_definition_id: str
    directory_scope_id: str | None = None
    status: str | None = None  # "Provisioned" while it holds
    member_type: str | None = None  # "Direct" or "Group"
    end: datetime | None = None  # scheduleInfo.expiration.endDateTime; None: no end


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityDefaults:
    """Graph `identitySecurityDefaultsEnforcementPolicy`: with it on, Entra ID blocks legacy
    authentication for everyone and makes every user register for MFA."""

    enabled: bool | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribedSku:
    """Graph `subscribedSku`: a subscription the tenant holds and the plans it provides."""

    sku_id: str
    sku_part_number: str | None = None
    capability_status: str | None = None  # "Enabled", "Warning", "Suspended", ...
    service_plans: tuple[str, ...] = ()  # servicePlanName of plans not disabled


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRegistration:
    """Graph `userRegistrationDetails`: which authentication methods a user registered."""

    id: str
    user_principal_name: str | None = None
    is_mfa_registered: bool | None = None
    is_mfa_capable: bool | None = None
    methods_registered: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Mailbox:
    """Exchange `Get-Mailbox` output."""

    identity: str | None = None
    name: str | None = None
    alias: str | None = None
    display_name: str | None = None
    user_principal_name: str | None = None
    primary_smtp_address: str | None = None
    guid: str | None = None
    external_directory_object_id: str | None = None
    distinguished_name: str | None = None
    recipient_type_details: str | None = None
    audit_enabled: bool | None = None
    audit_owner: tuple[str, ...] | None = None
    audit_delegate: tuple[str, ...] | None = None
    audit_admin: tuple[str, ...] | None = None
    forwarding_smtp_address: str | None = None
    forwarding_address: str | None = None
    deliver_to_mailbox_and_forward: bool | None = None
    grant_send_on_behalf_to: tuple[str, ...] | None = None
    account_disabled: bool | None = None
    room_mailbox_account_enabled: bool | None = None
    when_created: datetime | None = None
    email_addresses: tuple[str, ...] = ()
    legacy_exchange_dn: str | None = None  # what an inbox rule's [EX:...] target names
    #: What needs an Exchange Online Plan 2 licence on a shared mailbox (see
    #: assess/checks/upkeep.py): an archive (ArchiveStatus "Active", or an ArchiveGuid other
    #: than the zero GUID) and holds (LitigationHoldEnabled, InPlaceHolds).
    archive_status: str | None = None
    archive_guid: str | None = None
    litigation_hold_enabled: bool | None = None
    in_place_holds: tuple[str, ...] | None = None

    def keys(self) -> tuple[str, ...]:
        """Every string Exchange accepts as this mailbox's identity, lower case."""
        values = (
            self.identity,
            self.name,
            self.alias,
            self.display_name,
            self.user_principal_name,
            self.primary_smtp_address,
            self.guid,
            self.external_directory_object_id,
            self.distinguished_name,
        )
        return tuple(dict.fromkeys(v.lower() for v in values if v))


@dataclass(frozen=True, slots=True, kw_only=True)
class CasMailbox:
    """Exchange `Get-CASMailbox` output: client access protocols of one mailbox."""

    identity: str | None = None
    name: str | None = None
    primary_smtp_address: str | None = None
    guid: str | None = None
    external_directory_object_id: str | None = None
    imap_enabled: bool | None = None
    pop_enabled: bool | None = None
    ews_enabled: bool | None = None
    activesync_enabled: bool | None = None
    mapi_enabled: bool | None = None
    owa_enabled: bool | None = None
    smtp_client_authentication_disabled: bool | None = None  # None: the organisation decides

    def keys(self) -> tuple[str, ...]:
        values = (
            self.identity,
            self.name,
            self.primary_smtp_address,
            self.guid,
            self.external_directory_object_id,
        )
        return tuple(dict.fromkeys(v.lower() for v in values if v))


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxPermission:
    """One `Get-MailboxPermission` entry: `user` holds `access_rights` on mailbox `identity`."""

    identity: str
    user: str
    access_rights: tuple[str, ...]
    is_inherited: bool = False
    deny: bool = False
    inheritance_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientPermission:
    """One `Get-RecipientPermission` entry (SendAs)."""

    identity: str
    trustee: str
    access_rights: tuple[str, ...]
    access_control_type: str = "Allow"
    is_inherited: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ExoUser:
    """Exchange `Get-User` output."""

    identity: str | None = None
    user_principal_name: str | None = None
    external_directory_object_id: str | None = None
    remote_powershell_enabled: bool | None = None
    authentication_policy: str | None = None
    recipient_type_details: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxRule:
    """Exchange `Get-InboxRule` output (only the parts that matter for abuse)."""

    mailbox: str  # MailboxOwnerId, or the mailbox part of Identity
    identity: str | None = None
    name: str | None = None
    enabled: bool | None = None
    forward_to: tuple[str, ...] = ()
    forward_as_attachment_to: tuple[str, ...] = ()
    redirect_to: tuple[str, ...] = ()
    delete_message: bool | None = None
    soft_delete_message: bool | None = None
    mark_as_read: bool | None = None
    move_to_folder: str | None = None
    stop_processing_rules: bool | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarProcessing:
    """Exchange `Get-CalendarProcessing` output for a room or equipment mailbox (the
    properties are those of Set-CalendarProcessing's parameters)."""

    mailbox: str  # Identity: the mailbox the row belongs to
    automate_processing: str | None = None  # AutoAccept, AutoUpdate or None
    process_external_meeting_messages: bool | None = None
    all_book_in_policy: bool | None = None
    all_request_in_policy: bool | None = None
    forward_requests_to_delegates: bool | None = None
    resource_delegates: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxStatistics:
    """Exchange `Get-MailboxStatistics` output: size and last activity of a mailbox."""

    mailbox: str  # Identity (or MailboxGuid): the mailbox the row belongs to
    total_item_size: int | None = None  # bytes
    last_interaction_time: datetime | None = None
    last_user_action_time: datetime | None = None
    last_logon_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MailRecipient:
    """Exchange `Get-MailContact` or `Get-MailUser` output: a recipient of the organisation
    whose mail is delivered to `external_email_address` ("SMTP:a@b"), outside Exchange
    Online. Guests are mail users too (RecipientTypeDetails GuestMailUser)."""

    identity: str | None = None
    name: str | None = None
    alias: str | None = None
    display_name: str | None = None
    primary_smtp_address: str | None = None
    external_email_address: str | None = None
    user_principal_name: str | None = None  # mail users only
    guid: str | None = None
    external_directory_object_id: str | None = None
    distinguished_name: str | None = None
    legacy_exchange_dn: str | None = None
    recipient_type_details: str | None = None
    email_addresses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditBypass:
    """Exchange `Get-MailboxAuditBypassAssociation` output."""

    identity: str
    audit_bypass_enabled: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationPolicy:
    """Exchange `Get-AuthenticationPolicy`: `allow_basic` maps a protocol to allowed or not."""

    identity: str
    allow_basic: tuple[tuple[str, bool | None], ...] = ()

    def allows_basic(self, protocol: str) -> bool | None:
        wanted = protocol.lower()
        return next((v for k, v in self.allow_basic if k.lower() == wanted), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrganizationConfig:
    audit_disabled: bool | None = None
    default_authentication_policy: str | None = None
    oauth2_client_profile_enabled: bool | None = None
    #: Set-OrganizationConfig -RejectDirectSend: anonymous mail from an accepted domain
    #: that matches no inbound connector is rejected (None: the property was not read).
    reject_direct_send: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AppRole:
    """One of the application permissions a resource service principal offers."""

    id: str
    value: str | None = None  # "Mail.Read", "full_access_as_app", ...
    allowed_member_types: tuple[str, ...] = ()  # ("Application",) for app permissions


@dataclass(frozen=True, slots=True, kw_only=True)
class ServicePrincipal:
    """Graph `servicePrincipal`: an application's instance in the tenant."""

    id: str
    app_id: str | None = None
    display_name: str | None = None
    account_enabled: bool | None = None
    service_principal_type: str | None = None  # "Application", "ManagedIdentity", ...
    app_owner_organization_id: str | None = None
    app_roles: tuple[AppRole, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AppRoleAssignment:
    """Graph `appRoleAssignment`: `principal_id` holds application permission
    `app_role_id` of resource service principal `resource_id`."""

    id: str
    principal_id: str
    resource_id: str
    app_role_id: str
    principal_type: str | None = None  # "ServicePrincipal", "User", "Group"
    principal_display_name: str | None = None
    resource_display_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationAccessPolicy:
    """Exchange `Get-ApplicationAccessPolicy`: limits app `app_id` to the members of a
    group (RestrictAccess) or keeps it from them (DenyAccess)."""

    identity: str | None = None
    app_id: str
    access_right: str | None = None  # "RestrictAccess" | "DenyAccess"
    scope_name: str | None = None
    scope_identity: str | None = None
    scope_group_id: str | None = None  # Entra object id, from ScopeIdentityRaw "<sid>;<id>"
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagementRoleAssignment:
    """Exchange `Get-ManagementRoleAssignment` row; RBAC for Applications when
    `role_assignee_type` is "ServicePrincipal" and the role an "Application ..." one."""

    identity: str | None = None
    name: str | None = None
    role: str
    role_assignee: str | None = None
    role_assignee_name: str | None = None
    role_assignee_type: str | None = None
    enabled: bool | None = None
    custom_resource_scope: str | None = None
    recipient_write_scope: str | None = None
    custom_recipient_write_scope: str | None = None
    recipient_administrative_unit_scope: str | None = None
    recipient_group_scope: str | None = None

    @property
    def scope(self) -> str | None:
        """What limits the assignment to some mailboxes, or None when nothing does."""
        for value in (self.custom_resource_scope, self.recipient_administrative_unit_scope,
                      self.recipient_group_scope, self.custom_recipient_write_scope):
            if value:
                return value
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransportConfig:
    smtp_client_authentication_disabled: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """A tenant as read at one moment. `problems` lists every source that cannot be used."""

    tenant: TenantInfo
    accounts: tuple[Account, ...] = ()
    groups: tuple[Group, ...] = ()
    group_members: tuple[GroupMembers, ...] = ()
    role_definitions: tuple[RoleDefinition, ...] = ()
    role_assignments: tuple[RoleAssignment, ...] = ()
    role_eligibilities: tuple[RoleEligibility, ...] = ()
    ca_policies: tuple[ConditionalAccessPolicy, ...] = ()
    directory_settings: tuple[DirectorySetting, ...] = ()
    registrations: tuple[UserRegistration, ...] = ()
    mailboxes: tuple[Mailbox, ...] = ()
    cas_mailboxes: tuple[CasMailbox, ...] = ()
    mailbox_permissions: tuple[MailboxPermission, ...] = ()
    recipient_permissions: tuple[RecipientPermission, ...] = ()
    exo_users: tuple[ExoUser, ...] = ()
    inbox_rules: tuple[InboxRule, ...] = ()
    calendar_processing: tuple[CalendarProcessing, ...] = ()
    mailbox_statistics: tuple[MailboxStatistics, ...] = ()
    audit_bypass: tuple[AuditBypass, ...] = ()
    mail_contacts: tuple[MailRecipient, ...] = ()
    mail_users: tuple[MailRecipient, ...] = ()
    authentication_policies: tuple[AuthenticationPolicy, ...] = ()
    organization_config: OrganizationConfig | None = None
    transport_config: TransportConfig | None = None
    security_defaults: SecurityDefaults | None = None
    subscribed_skus: tuple[SubscribedSku, ...] = ()
    service_principals: tuple[ServicePrincipal, ...] = ()
    app_role_assignments: tuple[AppRoleAssignment, ...] = ()
    application_access_policies: tuple[ApplicationAccessPolicy, ...] = ()
    management_role_assignments: tuple[ManagementRoleAssignment, ...] = ()
    problems: Mapping[str, str] = field(default_factory=dict)
    #: The problems a licence the tenant lacks explains (source or part -> reason), e.g.
    #: SIGN_IN_ACTIVITY -> "needs Entra ID P1 (signInActivity)". Each is in `problems` too.
    limitations: Mapping[str, str] = field(default_factory=dict)
    skipped: tuple[SkippedRecord, ...] = ()
    #: Per-mailbox sources collected for most mailboxes but not these: source -> mailbox
    #: identity (lower case) -> why its calls failed.
    mailbox_problems: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def available(self, source: str) -> bool:
        return source not in self.problems

    def problem(self, source: str) -> str | None:
        return self.problems.get(source)

    def limitation(self, source: str) -> str | None:
        """Why a licence keeps `source` (or a part of one) from being read, or None."""
        return self.limitations.get(source)

    def mailbox_problem(self, source: str, mailbox: Mailbox) -> str | None:
        """Why `source` is missing for this one mailbox, or None when it was read."""
        failed = self.mailbox_problems.get(source)
        if not failed:
            return None
        identities = mailbox.keys()
        return next((failed[key] for key in identities if key in failed), None)

    @property
    def collected_at(self) -> datetime | None:
        return self.tenant.collected_at


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedRecord:
    """A record the reader could not use, with where it was and why."""

    source: str
    index: int  # position in the source's array (0-based)
    reason: str
    sample: Mapping[str, Any] | None = None
    #: The mailbox (or other object) the record belongs to, when the record still names it.
    subject: str | None = None
