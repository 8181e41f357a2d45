"""What the Unified Audit Log says about delegates' use of mailboxes: the last use of each
right by each actor on each mailbox, and how much of time the log covers.

`detect.usage` reads it from a recorded tenant's `logs/`; `assess` judges grants with it
(`dormant-delegate`). A `DelegateUsage` is small: one row per (mailbox, actor, right).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DelegateUse:
    """The last time `actor` used `right` on `mailbox`, by the Unified Audit Log."""

    mailbox: str  # the mailbox as the record names it (MailboxOwnerUPN, SendAs address), lower
    actor: str  # UserId of the record, lower case
    right: str  # FullAccess, SendAs or SendOnBehalf: the right the operation needs
    last_used: datetime
    operation: str  # the operation of that last use, e.g. MailItemsAccessed


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditCoverage:
    """How much of time the audit log read covers.

    `first`/`last` are the earliest and the newest Exchange mailbox record read;
    `requested_from` is where a `collect-logs` checkpoint says the read of the Unified
    Audit Log began (None without one). `problems` name files or rows that could not be
    read: a log with holes does not prove a grant unused."""

    records: int
    first: datetime | None = None
    last: datetime | None = None
    requested_from: datetime | None = None
    files: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DelegateUsage:
    uses: tuple[DelegateUse, ...]
    coverage: AuditCoverage
