"""The access map: who can read or send as an ownerless mailbox, and how."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Right(StrEnum):
    FULL_ACCESS = "FullAccess"
    SEND_AS = "SendAs"
    SEND_ON_BEHALF = "SendOnBehalf"
    CHANGE_PERMISSION = "ChangePermission"  # can grant itself FullAccess
    CHANGE_OWNER = "ChangeOwner"
    DELETE_ITEM = "DeleteItem"


class TrusteeKind(StrEnum):
    USER = "user"
    GROUP = "group"
    BROAD = "broad"  # Everyone, Default, Anonymous, Authenticated Users, ...
    ORPHANED = "orphaned"  # a SID or name that matches nothing left in the tenant
    AMBIGUOUS = "ambiguous"  # a name several objects carry
    SELF = "self"  # NT AUTHORITY\SELF: the mailbox's own account
    SYSTEM = "system"  # service principals of Exchange itself (SYSTEM, Exchange Servers, ...)


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """One permission entry as Exchange lists it, with its trustee resolved."""

    right: str
    trustee: str  # as written in the source
    kind: TrusteeKind
    source: str  # "exo/Get-MailboxPermission", "exo/Get-RecipientPermission", "exo/Get-Mailbox"
    name: str | None = None  # UPN of a user, display name of a group
    object_id: str | None = None
    deny: bool = False
    inherited: bool = False
    people: int | None = None  # users reached through a group (None: unknown)
    broad_reason: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonAccess:
    """A person's effective access to one mailbox, after groups and Deny entries."""

    upn: str
    account_id: str
    display_name: str | None
    rights: tuple[str, ...]
    via: tuple[str, ...]  # "direct", or the display names of the groups that grant it
    enabled: bool | None
    guest: bool
    external: bool
    licensed: bool | None
    left_recently: bool
    left_at: datetime | None = None
    last_sign_in: datetime | None = None

    @property
    def direct(self) -> bool:
        return "direct" in self.via

    def stale_reasons(self) -> tuple[str, ...]:
        """Why this person should not hold access any more (empty when they may)."""
        reasons = []
        if self.enabled is False:
            reasons.append("left recently" if self.left_recently else "disabled")
        if self.guest:
            reasons.append("guest")
        elif self.external:
            reasons.append("external")
        if self.licensed is False:
            reasons.append("unlicensed")
        return tuple(reasons)


class UseState(StrEnum):
    USED = "used"  # used inside the window
    DORMANT = "dormant"  # not used inside the window, and the audit log would have shown it
    UNKNOWN = "unknown"  # not seen used, but the audit log could not have shown it


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantUse:
    """When a grant was last used (`dormant-delegate`): by its holder, or for a group grant
    by any member who holds the right through it."""

    right: str
    trustee: str  # as written in the source
    name: str | None  # UPN of a user, display name of a group
    kind: TrusteeKind
    state: UseState
    window_days: int
    last_used: datetime | None = None  # the last use on record, inside the window or not
    operation: str | None = None  # the operation of that use
    used_by: str | None = None  # who used it (a group's member)
    reason: str | None = None  # why the state is unknown

    def describe(self) -> str:
        """In words, for the access map: "last used 2026-08-01 (SendAs)"."""
        last = (f"last used {self.last_used.date().isoformat()} ({self.operation}"
                + (f" by {self.used_by}" if self.used_by and self.used_by != self.name else "")
                + ")") if self.last_used is not None else None
        if self.state is UseState.USED:
            return last or "used"
        if self.state is UseState.DORMANT:
            unused = f"not used in {self.window_days} days"
            return f"{unused}; {last}" if last else unused
        unknown = f"unknown: {self.reason}" if self.reason else "unknown"
        return f"{unknown}; {last}" if last else unknown


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxAccess:
    """Everything that grants access to one mailbox."""

    upn: str
    grants: tuple[Grant, ...]
    people: tuple[PersonAccess, ...]
    orphaned: tuple[Grant, ...]  # grants to SIDs or names nothing in the tenant answers to
    broad: tuple[Grant, ...]  # grants to everyone-like principals or large groups
    ignored: int  # inherited system entries and NT AUTHORITY\SELF, left out on purpose
    unknown: tuple[str, ...]  # why the map may be incomplete (a source or group not read)
    #: Last use of each FullAccess / SendAs / SendOnBehalf grant to a user or a group, from
    #: the Unified Audit Log (empty when the grants were not judged).
    usage: tuple[GrantUse, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unknown
