"""Accepted exceptions: a failing finding someone decided to live with, for a while.

An exception names a check (or every check, `*`, for one exact mailbox), a mailbox (an
exact address, a glob pattern such as `room-*@contoso.com`, or none for a tenant-wide
finding), why it is accepted, who answers for it and until when. A `fail` finding it
covers is reported `accepted`, never `pass`; from the day after its expiry it fails again.
Nothing here reads a clock: the moment a run judges expiry by is always passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from fnmatch import fnmatchcase

#: Exceptions that expire within this many days are listed as expiring soon.
EXPIRING_DAYS = 14
ANY_CHECK = "*"
_GLOB = frozenset("*?[")


class ExceptionSource(StrEnum):
    FILE = "file"  # an exceptions file (--exceptions, exceptions_file, MAILWARDEN_EXCEPTIONS)
    STORE = "store"  # the history database (`mailwarden exceptions add|import`)


def is_pattern(mailbox: str) -> bool:
    return any(c in _GLOB for c in mailbox)


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingException:
    check: str  # a check id, or "*" (every check) for one exact mailbox
    mailbox: str | None  # lower case: an address or a glob; None: the tenant-wide finding
    reason: str
    owner: str
    expires: date  # accepted through the end of this day (UTC)
    ticket: str | None = None
    source: ExceptionSource = ExceptionSource.FILE
    origin: str = ""  # where it was declared: "exceptions.yaml:12" or "store #3"
    tenant_id: str | None = None  # the store's exceptions belong to one tenant
    id: int | None = None  # the store's row id
    created_at: datetime | None = None
    created_by: str | None = None

    @property
    def pattern(self) -> bool:
        return self.mailbox is not None and is_pattern(self.mailbox)

    @property
    def label(self) -> str:
        """"imap-enabled on room-*@contoso.com": what it accepts, in a few words."""
        return f"{self.check} on {self.mailbox or 'the tenant'}"

    def covers(self, check_id: str, upn: str | None) -> bool:
        """Whether it names this check on this mailbox (None: the tenant-wide finding)."""
        if self.check not in (ANY_CHECK, check_id):
            return False
        if self.mailbox is None or upn is None:
            return self.mailbox is None and upn is None
        return fnmatchcase(upn.lower(), self.mailbox) if self.pattern else upn.lower() == (
            self.mailbox)

    @property
    def specificity(self) -> int:
        """Larger is more specific: an exact check on an exact mailbox beats a pattern,
        which beats every check of a mailbox."""
        return (2 if self.check != ANY_CHECK else 0) + (0 if self.pattern else 1)

    def expired(self, at: datetime) -> bool:
        return at.date() > self.expires

    def days_left(self, at: datetime) -> int:
        """Days from `at` to the expiry date: 0 on the last day, negative once expired."""
        return (self.expires - at.date()).days


class ExceptionState(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"  # active, and expires within EXPIRING_DAYS
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionUse:
    """One exception as a run saw it: its state and the findings it accepted (or, expired,
    would have accepted), as "check_id mailbox" keys."""

    exception: FindingException
    state: ExceptionState
    days_left: int
    matched: tuple[str, ...] = ()

    @property
    def unused(self) -> bool:
        return not self.matched


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionsReport:
    """What the run's exceptions did, for the reports' Exceptions section."""

    at: datetime  # the moment expiry was judged by
    uses: tuple[ExceptionUse, ...] = ()
    warn_days: int = EXPIRING_DAYS

    def of_state(self, state: ExceptionState) -> tuple[ExceptionUse, ...]:
        return tuple(u for u in self.uses if u.state is state)

    @property
    def active(self) -> tuple[ExceptionUse, ...]:
        """Unexpired ones, expiring soon included."""
        return tuple(u for u in self.uses if u.state is not ExceptionState.EXPIRED)

    @property
    def expiring(self) -> tuple[ExceptionUse, ...]:
        return self.of_state(ExceptionState.EXPIRING)

    @property
    def expired(self) -> tuple[ExceptionUse, ...]:
        return self.of_state(ExceptionState.EXPIRED)

    @property
    def unused(self) -> tuple[ExceptionUse, ...]:
        """Unexpired ones that matched no failing finding: fixed, misspelt, or gone."""
        return tuple(u for u in self.active if u.unused)
