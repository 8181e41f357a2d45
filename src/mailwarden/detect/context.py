"""What the detection rules know about the tenant, built by the caller from a snapshot.

Every part is optional: `None` means *unknown* (the rules that need it report that they
could not run), an empty tuple means *known to be empty*. Nothing here is read from
disk or the network; the pipeline builds it from the tenant snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

OwnerlessKind = Literal["shared", "room", "equipment", "scheduling", "unlicensed-user"]
GrantRight = Literal["FullAccess", "SendAs", "SendOnBehalf"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnerlessAccount:
    """The backing account of an ownerless mailbox."""

    upn: str
    id: str | None = None
    kind: OwnerlessKind = "shared"
    #: Other names a log may use for the mailbox: SMTP addresses, alias, display name.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DepartedAccount:
    """A person whose account is disabled or who left the organisation."""

    upn: str
    id: str | None = None
    #: When the account was disabled or the person left; None when not known.
    since: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestAccount:
    upn: str
    id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxGrant:
    """A person's access to a mailbox, expanded from groups by the access map."""

    mailbox: str
    trustee: str
    right: GrantRight
    #: False when the grant was removed (it existed before; `removed_at` says when).
    active: bool = True
    removed_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectContext:
    ownerless: tuple[OwnerlessAccount, ...] | None = None
    departed: tuple[DepartedAccount, ...] | None = None
    guests: tuple[GuestAccount, ...] | None = None
    verified_domains: tuple[str, ...] | None = None
    grants: tuple[MailboxGrant, ...] | None = None
    #: Parts that are known but incomplete, each with why: (part, why).
    partial: tuple[tuple[str, str], ...] = ()

    def missing(self, part: str) -> bool:
        """True when the named part is unknown."""
        return getattr(self, part) is None

    def incomplete(self, part: str) -> str | None:
        """Why the named part is known only in part, or None."""
        return next((why for name, why in self.partial if name == part), None)


#: A context that knows nothing: rules that need the tenant report they could not run.
EMPTY_CONTEXT = DetectContext()

CONTEXT_PARTS: tuple[str, ...] = ("ownerless", "departed", "guests", "verified_domains", "grants")
