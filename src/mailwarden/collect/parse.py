"""Raw recorded-tenant content -> typed `Snapshot`.

Each source is parsed record by record; a record that cannot be used is kept as a
`SkippedRecord` with its reason (and counted), never dropped silently. A source that is
missing or failed is listed in `Snapshot.problems`, so checks that need it say `error`.
Records are sorted into a canonical order, so the same tenant read from two places
(a generator's files, or a collection through the API) gives equal snapshots.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, is_dataclass
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

from mailwarden.collect.lenient import Record, to_enum, to_flags, to_text
from mailwarden.collect.recorded import (
    ALL_SOURCES,
    RecordedTenant,
    read_recorded_tenant,
)
from mailwarden.gcpause import cyclic_gc_paused
from mailwarden.model.inventory import (
    Account,
    AuditBypass,
    AuthenticationPolicy,
    CasMailbox,
    ConditionalAccessPolicy,
    DirectoryObjectRef,
    DirectorySetting,
    ExoUser,
    Group,
    GroupMembers,
    InboxRule,
    Mailbox,
    MailboxPermission,
    OrganizationConfig,
    RecipientPermission,
    RoleAssignment,
    RoleDefinition,
    SkippedRecord,
    Snapshot,
    TenantInfo,
    TransportConfig,
    UserRegistration,
    UsersCondition,
)

T = TypeVar("T")

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


class RecordError(ValueError):
    """A record lacks what makes it usable (its reason goes into SkippedRecord)."""


def _required(record: Record, *names: str) -> str:
    value = record.text(*names)
    if value is None:
        raise RecordError(f"no {names[0]}")
    return value


def canonical_order(items: list[T]) -> tuple[T, ...]:
    """`items` sorted by their repr, without computing most reprs.

    A dataclass repr starts with the repr of its first field, and reprs of strings (and
    None) are never a prefix of one another, so ordering by that field's repr gives the
    repr order wherever those differ. Only runs of equal first fields are sorted by the
    whole repr. Both sorts are stable, so the result is exactly `sorted(items, key=repr)`.
    """
    first = _first_repr_field(items)
    if first is None:
        return tuple(sorted(items, key=repr))
    keys = list(map(repr, map(attrgetter(first), items)))
    ordered = [items[i] for i in sorted(range(len(items)), key=keys.__getitem__)]
    if len(set(keys)) == len(keys):
        return tuple(ordered)
    result: list[T] = []
    for _, group in groupby(ordered, key=attrgetter(first)):
        run = list(group)
        result.extend(sorted(run, key=repr) if len(run) > 1 else run)
    return tuple(result)


#: Below this many items, checking whether the shortcut applies costs more than it saves.
_SHORTCUT_FROM = 32


def _first_repr_field(items: list[Any]) -> str | None:
    """The first field shown in the items' repr, when the shortcut above is sound for them."""
    if len(items) < _SHORTCUT_FROM:
        return None
    sample, kind = items[0], type(items[0])
    if not is_dataclass(sample) or isinstance(sample, type):
        return None
    shown = [f.name for f in fields(sample) if f.repr]
    if not shown or set(map(type, items)) != {kind}:
        return None
    name = shown[0]
    if not set(map(type, map(attrgetter(name), items))) <= {str, type(None)}:
        return None
    # A class with its own __repr__ may not start with its first field.
    if not repr(sample).startswith(f"{kind.__qualname__}({name}={getattr(sample, name)!r}"):
        return None
    return name


def _parse_list(
    source: str,
    rows: Any,
    parse_one: Callable[[Record], T],
    skipped: list[SkippedRecord],
) -> tuple[T, ...]:
    items: list[T] = []
    for index, row in enumerate(rows or ()):
        if type(row) is not dict and not isinstance(row, Mapping):
            skipped.append(SkippedRecord(source=source, index=index, reason="not an object"))
            continue
        try:
            items.append(parse_one(Record(row)))
        except (RecordError, ValueError, TypeError) as exc:
            sample = {k: row[k] for k in list(row)[:6]}
            skipped.append(
                SkippedRecord(source=source, index=index, reason=str(exc), sample=sample)
            )
    return canonical_order(items)


def parse_tenant(raw: Mapping[str, Any] | None) -> TenantInfo:
    record = Record(raw or {})
    return TenantInfo(
        tenant_id=record.text("tenantId", "id") or "unknown",
        display_name=record.text("displayName"),
        default_domain=record.text("defaultDomain"),
        verified_domains=tuple(d.lower() for d in record.texts("verifiedDomains") or ()),
        collected_at=record.when("collectedAt"),
    )


def parse_account(r: Record) -> Account:
    activity = r.child("signInActivity")
    licenses = r.get("assignedLicenses")
    return Account(
        id=_required(r, "id"),
        user_principal_name=_required(r, "userPrincipalName"),
        display_name=r.text("displayName"),
        mail=r.text("mail"),
        mail_nickname=r.text("mailNickname"),
        account_enabled=r.flag("accountEnabled"),
        user_type=r.text("userType"),
        created=r.when("createdDateTime"),
        last_password_change=r.when("lastPasswordChangeDateTime"),
        last_sign_in=activity.when("lastSignInDateTime"),
        last_non_interactive_sign_in=activity.when("lastNonInteractiveSignInDateTime"),
        last_successful_sign_in=activity.when("lastSuccessfulSignInDateTime"),
        licenses=None
        if licenses is None
        else tuple(
            sorted(
                Record(item).text("skuId") or ""
                for item in (licenses if isinstance(licenses, list) else [licenses])
                if isinstance(item, Mapping)
            )
        ),
        on_premises_sid=r.text("onPremisesSecurityIdentifier"),
        security_identifier=r.text("securityIdentifier"),
        department=r.text("department"),
        job_title=r.text("jobTitle"),
        leave_date=r.when("employeeLeaveDateTime"),
        external_user_state=r.text("externalUserState"),
    )


def parse_group(r: Record) -> Group:
    return Group(
        id=_required(r, "id"),
        display_name=r.text("displayName"),
        mail=r.text("mail"),
        mail_nickname=r.text("mailNickname"),
        security_enabled=r.flag("securityEnabled"),
        mail_enabled=r.flag("mailEnabled"),
        group_types=r.texts("groupTypes") or (),
        security_identifier=r.text("securityIdentifier"),
        on_premises_sid=r.text("onPremisesSecurityIdentifier"),
    )


def parse_member(r: Record) -> DirectoryObjectRef:
    odata_type = r.text("@odata.type") or ""
    return DirectoryObjectRef(
        id=_required(r, "id"),
        object_type=odata_type.rsplit(".", 1)[-1] or "unknown",
        display_name=r.text("displayName"),
        user_principal_name=r.text("userPrincipalName"),
    )


def parse_group_members(
    raw: Mapping[str, Any] | None, skipped: list[SkippedRecord]
) -> tuple[GroupMembers, ...]:
    result = []
    for group_id, members in (raw or {}).items():
        source = f"graph/groupMembers[{group_id}]"
        parsed = _parse_list(source, members, parse_member, skipped)
        result.append(GroupMembers(group_id=str(group_id), members=parsed))
    return tuple(sorted(result, key=lambda g: g.group_id))


def parse_role_definition(r: Record) -> RoleDefinition:
    return RoleDefinition(
        id=_required(r, "id"),
        display_name=r.text("displayName"),
        template_id=r.text("templateId"),
        is_built_in=r.flag("isBuiltIn"),
    )


def parse_role_assignment(r: Record) -> RoleAssignment:
    return RoleAssignment(
        id=_required(r, "id"),
        principal_id=_required(r, "principalId"),
        role_definition_id=_required(r, "roleDefinitionId"),
        directory_scope_id=r.text("directoryScopeId"),
    )


def parse_ca_policy(r: Record) -> ConditionalAccessPolicy:
    conditions = r.child("conditions")
    users = conditions.child("users")
    apps = conditions.child("applications")
    grant = r.child("grantControls")
    return ConditionalAccessPolicy(
        id=_required(r, "id"),
        display_name=r.text("displayName"),
        state=r.text("state"),
        users=UsersCondition(
            include_users=users.texts("includeUsers") or (),
            exclude_users=users.texts("excludeUsers") or (),
            include_groups=users.texts("includeGroups") or (),
            exclude_groups=users.texts("excludeGroups") or (),
            include_roles=users.texts("includeRoles") or (),
            exclude_roles=users.texts("excludeRoles") or (),
        ),
        client_app_types=conditions.texts("clientAppTypes") or (),
        include_applications=apps.texts("includeApplications") or (),
        exclude_applications=apps.texts("excludeApplications") or (),
        grant_operator=grant.text("operator"),
        built_in_controls=grant.texts("builtInControls") or (),
    )


def parse_setting(r: Record) -> DirectorySetting:
    values = []
    for item in r.get("values") or ():
        if isinstance(item, Mapping):
            entry = Record(item)
            name = entry.text("name")
            if name:
                values.append((name, to_text(entry.get("value"))))
    return DirectorySetting(
        id=_required(r, "id"),
        display_name=r.text("displayName"),
        template_id=r.text("templateId"),
        values=tuple(values),
    )


def parse_registration(r: Record) -> UserRegistration:
    return UserRegistration(
        id=_required(r, "id"),
        user_principal_name=r.text("userPrincipalName"),
        is_mfa_registered=r.flag("isMfaRegistered"),
        is_mfa_capable=r.flag("isMfaCapable"),
        methods_registered=r.texts("methodsRegistered") or (),
    )


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
        identity=_required(r, "Identity"),
        user=_required(r, "User"),
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
        identity=_required(r, "Identity"),
        trustee=_required(r, "Trustee"),
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


def parse_audit_bypass(r: Record) -> AuditBypass:
    return AuditBypass(
        identity=_required(r, "Identity", "Name", "ObjectId"),
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
    return AuthenticationPolicy(identity=_required(r, "Identity", "Name"), allow_basic=allow)


def parse_organization_config(raw: Mapping[str, Any] | None) -> OrganizationConfig | None:
    if raw is None:
        return None
    r = Record(raw)
    return OrganizationConfig(
        audit_disabled=r.flag("AuditDisabled"),
        default_authentication_policy=r.text("DefaultAuthenticationPolicy"),
        oauth2_client_profile_enabled=r.flag("OAuth2ClientProfileEnabled"),
    )


def parse_transport_config(raw: Mapping[str, Any] | None) -> TransportConfig | None:
    if raw is None:
        return None
    r = Record(raw)
    return TransportConfig(
        smtp_client_authentication_disabled=r.flag("SmtpClientAuthenticationDisabled")
    )


def _object(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def snapshot_from_recorded(recorded: RecordedTenant) -> Snapshot:
    """Parse every source; missing and failed sources become `problems`."""
    with cyclic_gc_paused():
        return _parse_snapshot(recorded)


def _parse_snapshot(recorded: RecordedTenant) -> Snapshot:
    data = recorded.data
    skipped: list[SkippedRecord] = []

    def rows(source: str, parse_one: Callable[[Record], T]) -> tuple[T, ...]:
        return _parse_list(source, data.get(source), parse_one, skipped)

    problems = {s: p for s in ALL_SOURCES if (p := recorded.problem(s)) is not None}
    return Snapshot(
        tenant=parse_tenant(_object(data.get("tenant"))),
        accounts=rows("graph/users", parse_account),
        groups=rows("graph/groups", parse_group),
        group_members=parse_group_members(_object(data.get("graph/groupMembers")), skipped),
        role_definitions=rows("graph/roleDefinitions", parse_role_definition),
        role_assignments=rows("graph/roleAssignments", parse_role_assignment),
        ca_policies=rows("graph/conditionalAccessPolicies", parse_ca_policy),
        directory_settings=rows("graph/settings", parse_setting),
        registrations=rows("graph/userRegistrationDetails", parse_registration),
        mailboxes=rows("exo/Get-Mailbox", parse_mailbox),
        cas_mailboxes=rows("exo/Get-CASMailbox", parse_cas_mailbox),
        mailbox_permissions=rows("exo/Get-MailboxPermission", parse_mailbox_permission),
        recipient_permissions=rows("exo/Get-RecipientPermission", parse_recipient_permission),
        exo_users=rows("exo/Get-User", parse_exo_user),
        inbox_rules=rows("exo/Get-InboxRule", parse_inbox_rule),
        audit_bypass=rows("exo/Get-MailboxAuditBypassAssociation", parse_audit_bypass),
        authentication_policies=rows("exo/Get-AuthenticationPolicy", parse_authentication_policy),
        organization_config=parse_organization_config(
            _object(data.get("exo/Get-OrganizationConfig"))
        ),
        transport_config=parse_transport_config(_object(data.get("exo/Get-TransportConfig"))),
        problems=problems,
        skipped=tuple(skipped),
    )


def load_snapshot(directory: Path) -> Snapshot:
    """Read a recorded tenant directory into a snapshot."""
    with cyclic_gc_paused():  # across both steps: the raw data would be rescanned between
        return snapshot_from_recorded(read_recorded_tenant(directory))


def skipped_counts(skipped: Iterable[SkippedRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in skipped:
        base = item.source.split("[", 1)[0]
        counts[base] = counts.get(base, 0) + 1
    return counts
