"""The generator's own model of a tenant, before it is spelled in Microsoft's shapes.

Every decision is made once, here; `render_graph`/`render_exo` only spell these values,
and `truth` evaluates the SPEC checks over the same values. That is what keeps
planted.json consistent with the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from mailwarden.synth.apps import PlantedApp
from mailwarden.synth.constants import (
    INTERACTIVE_RECORDED_SINCE,
    NON_INTERACTIVE_RECORDED_SINCE,
    SUCCESS_RECORDED_SINCE,
)

#: What an account is for. Mailbox-backing kinds carry their RecipientTypeDetails.
AccountKind = Literal[
    "member", "guest", "leaver", "service", "admin", "breakglass",
    "shared", "room", "equipment", "scheduling",
]
Right = Literal["FullAccess", "SendAs", "SendOnBehalf"]
PrincipalKind = Literal["user", "group", "sid", "special"]


def _recorded(moment: datetime | None, since: datetime) -> datetime | None:
    return moment if moment is not None and moment >= since else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """A Graph user and, when it has one, its Exchange recipient."""

    id: str
    upn: str
    display_name: str
    given_name: str | None
    surname: str | None
    mail: str | None
    mail_nickname: str
    kind: AccountKind
    enabled: bool
    skus: tuple[str, ...]
    user_type: Literal["Member", "Guest"]
    created: datetime
    password_changed: datetime
    last_sign_in: datetime | None  # last interactive attempt, successful or not
    last_non_interactive: datetime | None
    last_success: datetime | None  # what happened; Graph shows it from December 2023 only
    department: str | None
    job_title: str | None
    left_at: datetime | None
    onprem_sid: str | None
    mfa_methods: tuple[str, ...]
    guest_state: str | None
    recipient_type: str | None  # RecipientTypeDetails of its mailbox, None without one
    exo_name: str  # Exchange Name / Identity
    exo_guid: str
    exchange_guid: str
    exo_sid: str
    remote_powershell: bool
    auth_policy: str | None

    @property
    def licensed(self) -> bool:
        return bool(self.skus)

    @property
    def recorded_success(self) -> datetime | None:
        """lastSuccessfulSignInDateTime as Graph shows it: none before it began recording."""
        return _recorded(self.last_success, SUCCESS_RECORDED_SINCE)

    @property
    def recorded_sign_in(self) -> datetime | None:
        """lastSignInDateTime as Graph shows it."""
        return _recorded(self.last_sign_in, INTERACTIVE_RECORDED_SINCE)

    @property
    def recorded_non_interactive(self) -> datetime | None:
        """lastNonInteractiveSignInDateTime as Graph shows it."""
        return _recorded(self.last_non_interactive, NON_INTERACTIVE_RECORDED_SINCE)

    def attempts_of_unknown_outcome(self) -> tuple[tuple[str, datetime], ...]:
        """Sign-in attempts on record from before Graph recorded successes, when none is
        recorded since: whether they succeeded cannot be told from the files."""
        if self.recorded_success is not None:
            return ()
        attempts = (("lastSignInDateTime", self.recorded_sign_in),
                    ("lastNonInteractiveSignInDateTime", self.recorded_non_interactive))
        return tuple((name, moment) for name, moment in attempts
                     if moment is not None and moment < SUCCESS_RECORDED_SINCE)

    @property
    def ownerless(self) -> bool:
        """SPEC section 5: shared/resource types, or a user mailbox without a licence."""
        if self.recipient_type is None:
            return False
        if self.recipient_type == "UserMailbox":
            return not self.skus
        return self.recipient_type in {
            "SharedMailbox", "RoomMailbox", "EquipmentMailbox", "SchedulingMailbox"
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MailContact:
    """An Exchange mail contact: in the address book, a recipient like any other, but its
    mail goes to `external_address`, outside the organisation."""

    id: str  # its Entra object id (Graph orgContact), Exchange's ExternalDirectoryObjectId
    name: str  # Exchange Name and Identity: what a ForwardingAddress shows
    alias: str
    display_name: str
    external_address: str
    exo_guid: str
    created: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    id: str
    display_name: str
    description: str
    mail_nickname: str
    mail: str | None
    security_enabled: bool
    unified: bool
    created: datetime
    users: tuple[str, ...]  # direct user members (account ids)
    groups: tuple[str, ...]  # direct group members (group ids)
    exo_sid: str

    @property
    def mail_enabled(self) -> bool:
        return self.mail is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """One permission entry on a mailbox (Get-MailboxPermission, Get-RecipientPermission,
    or GrantSendOnBehalfTo). `principal` is an account id, a group id, a SID, or a
    special name such as "Everyone", depending on `principal_kind`."""

    right: Right
    principal_kind: PrincipalKind
    principal: str
    deny: bool = False
    inherited: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleTarget:
    display_name: str
    address: str
    internal_dn: str | None = None  # legacyExchangeDN for internal recipients


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxRule:
    name: str
    enabled: bool
    priority: int
    rule_identity: int
    subject_contains: tuple[str, ...] = ()
    from_contains: tuple[str, ...] = ()
    forward_to: tuple[RuleTarget, ...] = ()
    forward_as_attachment_to: tuple[RuleTarget, ...] = ()
    redirect_to: tuple[RuleTarget, ...] = ()
    delete: bool = False
    soft_delete: bool = False
    mark_as_read: bool = False
    move_to_folder: str | None = None
    stop_processing: bool = False
    hidden: bool = False  # returned by Get-InboxRule only with -IncludeHidden


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxSettings:
    """Settings of one mailbox that differ between mailboxes."""

    imap: bool = True
    pop: bool = True
    ews: bool = True
    activesync: bool = True
    mapi: bool = True
    owa: bool = True
    smtp_auth_disabled: bool | None = None
    audit_enabled: bool = True
    audit_owner: tuple[str, ...] = ()
    audit_delegate: tuple[str, ...] = ()
    audit_admin: tuple[str, ...] = ()
    default_audit_set: tuple[str, ...] = ("Admin", "Delegate", "Owner")
    forwarding_smtp: str | None = None
    forwarding_address: str | None = None  # Exchange identity of a mailbox or mail contact
    deliver_and_forward: bool = False
    archive: bool = False  # an in-place archive (ArchiveStatus Active)
    litigation_hold: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Booking:
    """How a room or equipment mailbox takes bookings (Get-CalendarProcessing)."""

    automate: str = "AutoAccept"
    external: bool = False  # ProcessExternalMeetingMessages
    forward_to_delegates: bool = True
    delegates: tuple[str, ...] = ()  # account ids of the ResourceDelegates


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnerlessMailbox:
    """The per-mailbox data the collector reads only for ownerless mailboxes."""

    account_id: str
    settings: MailboxSettings
    grants: tuple[Grant, ...]
    rules: tuple[InboxRule, ...]
    system_rows: bool  # the inherited system entries older mailboxes still show
    hardened: bool
    size_bytes: int = 0  # Get-MailboxStatistics TotalItemSize
    last_interaction: datetime | None = None  # Get-MailboxStatistics LastInteractionTime
    booking: Booking | None = None  # rooms and equipment only


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionalAccess:
    id: str
    display_name: str
    state: Literal["enabled", "disabled", "enabledForReportingButNotEnforced"]
    created: datetime
    include_users: tuple[str, ...] = ()
    exclude_users: tuple[str, ...] = ()
    include_groups: tuple[str, ...] = ()
    exclude_groups: tuple[str, ...] = ()
    include_roles: tuple[str, ...] = ()
    exclude_roles: tuple[str, ...] = ()
    client_app_types: tuple[str, ...] = ("all",)
    include_applications: tuple[str, ...] = ("All",)
    built_in_controls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Custodian:
    mailbox: str  # mailbox UPN, lower case
    custodian: str  # custodian UPN, lower case
    team: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Tenant:
    """Everything generated, in the generator's own terms."""

    tenant_id: str
    display_name: str
    default_domain: str
    initial_domain: str
    verified_domains: tuple[str, ...]
    exo_forest: str  # e.g. EURPR07A123, the prefix of Exchange's DNs
    exo_domain_sid: str
    accounts: tuple[Account, ...]
    groups: tuple[Group, ...]
    ownerless: tuple[OwnerlessMailbox, ...]
    role_assignments: tuple[tuple[str, str], ...]  # (principal id, role display name)
    policies: tuple[ConditionalAccess, ...]
    auth_policies: Mapping[str, frozenset[str]] = field(default_factory=dict)
    default_auth_policy: str | None = None
    transport_smtp_auth_disabled: bool = True
    audit_disabled_org: bool = False
    bypass_account_ids: frozenset[str] = frozenset()
    lockout_threshold: int = 10
    lockout_duration_seconds: int = 60
    custodians: tuple[Custodian, ...] = ()
    #: SendAs between licensed users' own mailboxes (deputies): (mailbox, trustee) ids.
    user_send_as: tuple[tuple[str, str], ...] = ()
    #: The licence profile (synth.licensing) and what it provides.
    profile: str = "mixed"
    entra_p1: bool = True
    entra_p2: bool = True
    security_defaults: bool = False
    #: PIM eligibility schedules: (principal id, role display name).
    role_eligibilities: tuple[tuple[str, str], ...] = ()
    contacts: tuple[MailContact, ...] = ()
    #: Applications with application permissions (synth.apps) and the groups they name.
    apps: tuple[PlantedApp, ...] = ()
    #: Set-OrganizationConfig -RejectDirectSend.
    reject_direct_send: bool = False
