"""Delegates' last use of each mailbox, from the Unified Audit Log: one SQL pass over the
normalised `mailbox_audits` table (see `tables.py`), for the `dormant-delegate` check.

Which operation shows the use of which right follows Microsoft's "Manage mailbox auditing"
page (learn.microsoft.com/purview/audit-mailboxes, "Mailbox actions for user mailboxes and
shared mailboxes"): a delegate logon (LogonType 2) is "a user who's been assigned the
SendAs, SendOnBehalf, or FullAccess permission to another mailbox"; SendAs and
SendOnBehalf are recorded as their own actions; what a FullAccess delegate does inside
the mailbox is recorded as MailItemsAccessed (reads), FolderBind and MessageBind (legacy
reads), and item and folder actions (Create, Update, Move, Copy, MoveToDeletedItems,
SoftDelete, HardDelete, UpdateInboxRules, UpdateFolderPermissions, ...). The record names
the actor in UserId and the mailbox in MailboxOwnerUPN (SendAsUserSmtp /
SendOnBehalfOfUserSmtp for sends), per the Office 365 Management Activity API schema's
ExchangeMailbox type (learn.microsoft.com/office/office-365-management-api/
office-365-management-activity-api-schema). The logon type itself is not required: a
record by the grant's holder on the mailbox is a use whatever Exchange called the logon.

Only files whose content is Unified Audit Log records are read. Bad rows and unreadable
files are returned as coverage problems: a log with holes cannot prove a grant unused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from mailwarden.detect.engine import Engine
from mailwarden.detect.sniff import sniff
from mailwarden.errors import InputError
from mailwarden.model.usage import AuditCoverage, DelegateUsage, DelegateUse
from mailwarden.text import plural

#: Operations that show a FullAccess delegate at work in the mailbox.
FULL_ACCESS_OPERATIONS = (
    "MailItemsAccessed", "FolderBind", "MessageBind", "Send", "Create", "Update", "Copy",
    "Move", "MoveToDeletedItems", "SoftDelete", "HardDelete", "UpdateInboxRules",
    "UpdateFolderPermissions", "UpdateCalendarDelegation", "ApplyRecord", "RecordDelete",
    "SearchQueryInitiated", "UpdateComplianceTag",
)
#: Operations that show the use of the right of the same name.
SEND_OPERATIONS = ("SendAs", "SendOnBehalf")

_USES_SQL = """
SELECT target_mailbox AS mailbox, actor,
       CASE WHEN operation IN ('SendAs', 'SendOnBehalf') THEN operation ELSE 'FullAccess' END
           AS access_right,
       max(time) AS last_used, arg_max(operation, time) AS operation
FROM mailbox_audits
WHERE time IS NOT NULL AND actor IS NOT NULL AND target_mailbox IS NOT NULL
  AND list_contains($operations, operation)
GROUP BY ALL
"""


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def _is_ual(path: Path) -> bool | str:
    """True for a Unified Audit Log file; the reason it cannot be read when it cannot."""
    try:
        return sniff(path).kind == "ual"
    except (InputError, OSError) as exc:
        return str(exc)


def delegate_usage(paths: Sequence[Path], *, requested_from: datetime | None = None,
                   memory_limit: str = "1GB") -> DelegateUsage:
    """Last use per (mailbox, actor, right) in the Unified Audit Log files among `paths`,
    and what those files cover. Never raises for bad content."""
    problems: list[str] = []
    files: list[str] = []
    with Engine(memory_limit=memory_limit) as engine:
        for path in paths:
            readable = _is_ual(path)
            if isinstance(readable, str):
                problems.append(readable)
                continue
            if not readable:
                continue
            report = engine.load_file(path)
            files.append(str(path))
            if report.unreadable:
                problems.append(f"{path}: {report.unreadable}")
            elif report.bad_rows or report.rows_without_time:
                bad = report.bad_rows + report.rows_without_time
                problems.append(f"{path}: {plural(bad, 'record')} could not be read")
        rows = engine.query(_USES_SQL, {"operations": [*FULL_ACCESS_OPERATIONS,
                                                         *SEND_OPERATIONS]})
        span = engine.query("SELECT count(*) AS n, min(time) AS first, max(time) AS last "
                            "FROM mailbox_audits WHERE time IS NOT NULL")[0]
    uses = tuple(
        DelegateUse(mailbox=row["mailbox"], actor=row["actor"], right=row["access_right"],
                    last_used=row["last_used"].replace(tzinfo=UTC), operation=row["operation"])
        for row in sorted(rows, key=lambda r: (r["mailbox"], r["actor"], r["access_right"]))
    )
    coverage = AuditCoverage(records=int(span["n"]), first=_utc(span["first"]),
                             last=_utc(span["last"]), requested_from=requested_from,
                             files=tuple(files), problems=tuple(problems))
    return DelegateUsage(uses=uses, coverage=coverage)
