"""Per-mailbox Exchange cmdlets for ownerless mailboxes: Get-MailboxPermission, Get-InboxRule
and Get-MailboxStatistics for each, Get-CalendarProcessing for rooms and equipment.

These are the bulk of a collection's Exchange calls (three per ownerless mailbox), so they
start as soon as each page of Get-Mailbox arrives, ten to a `$batch` request, at a lower
priority than the paged cmdlets whose next pages are the critical path. User mailboxes
join once Graph has said which accounts have no licence; when that is unknown they are
all included, because a larger answer loses nothing and a smaller one could hide an
ownerless mailbox.

Get-InboxRule runs with `-IncludeHidden` (hidden rules, where intruders put theirs, are
left out without it) and `-ResultSize Unlimited` (its default stops at 1000 rules).

One mailbox's failure is that mailbox's: a mailbox deleted since Get-Mailbox listed it is
skipped, any other failure is recorded for that mailbox and the source is kept for the
rest. A `$batch` request that fails as a whole (after its retries) fails the calls it
carried, each for its own mailbox, and no other. A source fails as a whole only when
Exchange refuses the cmdlet itself (the app's role lacks it) or when every call so far has
failed. When the collection stops early (its deadline), what was read is kept and the
mailboxes not yet answered are recorded as failed with the reason (`cut_off`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mailwarden.collect import fields
from mailwarden.errors import AuthError, MailwardenError, PermissionDeniedError, ServiceError
from mailwarden.m365.exchange import EXO_BATCH_LIMIT, Call, ExchangeClient, invoke_many
from mailwarden.m365.permissions import exchange_role
from mailwarden.progress import Progress
from mailwarden.tenant.exchange import RECIPIENT_TYPE_DETAILS
from mailwarden.tenant.lenient import Record, to_enum

OWNERLESS_TYPES = frozenset(
    {"sharedmailbox", "roommailbox", "equipmentmailbox", "schedulingmailbox"}
)
#: The calls after the paged list cmdlets in the queue for a connection.
PER_MAILBOX_PRIORITY = 1
#: Failed requests, with no call succeeded, after which a source is given up as a whole. A
#: `$batch` request that failed as a whole counts once for each source it carried calls
#: of: its failure says nothing about the cmdlet, so the first unlucky batches of a busy
#: service do not give a source up.
SOURCE_FAILS_AFTER = EXO_BATCH_LIMIT


def recipient_type(row: Mapping[str, Any]) -> str:
    return (to_enum(Record(row).get("RecipientTypeDetails"), RECIPIENT_TYPE_DETAILS) or "").lower()


def ownerless_by_type(row: Mapping[str, Any]) -> bool:
    return recipient_type(row) in OWNERLESS_TYPES


#: The mailboxes whose calendar processing decides who books them: rooms and equipment.
RESOURCE_TYPES = frozenset({"roommailbox", "equipmentmailbox"})


def resource_mailbox(row: Mapping[str, Any]) -> bool:
    return recipient_type(row) in RESOURCE_TYPES


def licensed_accounts(users: Sequence[Mapping[str, Any]] | None) -> dict[str, bool] | None:
    """Account id (lower case) -> has at least one licence; None when users are unknown."""
    if users is None:
        return None
    result: dict[str, bool] = {}
    for user in users:
        record = Record(user)
        user_id = record.text("id")
        licences = record.get("assignedLicenses")
        if user_id and licences is not None:
            result[user_id.lower()] = bool(licences)
    return result


def unlicensed_user_mailbox(row: Mapping[str, Any], licensed: Mapping[str, bool] | None) -> bool:
    """A UserMailbox whose account has no licence, or whose licence state is unknown."""
    if recipient_type(row) != "usermailbox":
        return False
    account = (Record(row).text("ExternalDirectoryObjectId") or "").lower()
    if licensed is None or account not in licensed:
        return True
    return not licensed[account]


def mailbox_key(row: Mapping[str, Any]) -> str | None:
    """The identity to pass to per-mailbox cmdlets: an address is unambiguous everywhere."""
    return Record(row).text("PrimarySmtpAddress", "UserPrincipalName", "Guid", "Identity")


def _vanished(exc: MailwardenError) -> bool:
    """The mailbox was deleted between Get-Mailbox and this call: not a failure to report."""
    text = str(exc)
    return (isinstance(exc, ServiceError) and exc.status == 404) or (
        "ManagementObjectNotFoundException" in text or "couldn't be found" in text
    )


def _out_of_scope(exc: MailwardenError) -> bool:
    """Exchange ran the cmdlet but the mailbox is outside what the app's role may read
    ("The operation on mailbox ... failed because it's out of the current user's read
    scope"): an access problem of that mailbox, not of the cmdlet."""
    text = str(exc).lower()
    return "read scope" in text or "write scope" in text


def _cmdlet_refused(exc: MailwardenError) -> bool:
    """The call can succeed for no mailbox: the token, or the app's role, is refused."""
    return isinstance(exc, AuthError) or (
        isinstance(exc, PermissionDeniedError) and not _out_of_scope(exc)
    )


@dataclass(slots=True)
class _Source:
    name: str
    cmdlet: str
    parameter: str
    select: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)  # parameters besides the mailbox
    #: Which mailboxes (their Get-Mailbox rows) the cmdlet is called for; None: all.
    wants: Callable[[Mapping[str, Any]], bool] | None = None
    keys: list[str] = field(default_factory=list)  # the mailboxes it is called for, in order
    called: set[str] = field(default_factory=set)  # the same, for lookups
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    error: str | None = None
    failed: dict[str, str] = field(default_factory=dict)  # mailbox -> why its call failed
    vanished: set[str] = field(default_factory=set)  # deleted since Get-Mailbox listed them
    out_of_scope: int = 0  # of those, the mailboxes outside what the app's role may read
    failed_requests: int = 0  # requests that failed (a failed `$batch` once per source)
    done: int = 0

    def parameters(self, key: str) -> dict[str, Any]:
        return {self.parameter: key, **self.options}

    def outcome(self, keys: Sequence[str]) -> SourceOutcome:
        if self.error is None and self.failed and not self.rows:
            self.error = self._all_failed()
        if self.error is not None:
            return SourceOutcome(error=self.error)
        return SourceOutcome(rows=[r for k in keys for r in self.rows.get(k, ())],
                             failed=dict(self.failed))

    def cut_off(self, keys: Sequence[str], reason: str) -> SourceOutcome:
        """The outcome when calls stop early: the rows read are kept and every mailbox not
        yet answered is failed with `reason`; with nothing read, the source fails with it."""
        if self.error is not None:
            return SourceOutcome(error=self.error)
        if not self.rows:
            return SourceOutcome(error=reason)
        failed = dict(self.failed)
        for key in keys:
            if key not in self.rows and key not in failed and key not in self.vanished:
                failed[key] = reason
        return SourceOutcome(rows=[r for k in keys for r in self.rows.get(k, ())],
                             failed=failed)

    def _all_failed(self) -> str:
        first = next(iter(self.failed.values()))
        text = (f"{self.cmdlet} failed for every mailbox it was called for "
                f"({len(self.failed)}); the first: {first}")
        if self.out_of_scope == len(self.failed):
            text += f". {self.cmdlet} needs {exchange_role(self.cmdlet).text()}"
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceOutcome:
    """A per-mailbox source after every call: its rows and the mailboxes whose calls
    failed, or the error that failed the source."""

    rows: list[dict[str, Any]] | None = None
    failed: dict[str, str] = field(default_factory=dict)
    error: str | None = None




class PerMailbox:
    def __init__(
        self,
        exo: ExchangeClient,
        *,
        concurrent: bool,
        select: bool,
        page_size: int | None,
        report: Progress,
    ) -> None:
        self._exo = exo
        self._concurrent = concurrent
        self._select = select
        self._page_size = page_size
        self._report = report
        self.sources = (
            _Source(
                "exo/Get-MailboxPermission",
                "Get-MailboxPermission",
                "Identity",
                fields.MAILBOX_PERMISSION,
            ),
            _Source(
                "exo/Get-InboxRule",
                "Get-InboxRule",
                "Mailbox",
                fields.INBOX_RULE,
                options={"IncludeHidden": True, "ResultSize": "Unlimited"},
            ),
            _Source(
                "exo/Get-MailboxStatistics",
                "Get-MailboxStatistics",
                "Identity",
                fields.MAILBOX_STATISTICS,
            ),
            _Source(
                "exo/Get-CalendarProcessing",
                "Get-CalendarProcessing",
                "Identity",
                fields.CALENDAR_PROCESSING,
                wants=resource_mailbox,
            ),
        )
        self._keys: list[str] = []
        self._seen: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._queued: list[tuple[_Source, str]] = []  # calls waiting to fill a batch
        self.complete = False  # every mailbox has been added (`finish` has begun)

    def add(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Queue these mailboxes (started at once when concurrent)."""
        for row in rows:
            key = mailbox_key(row)
            if key is None or key.lower() in self._seen:
                continue
            self._seen.add(key.lower())
            self._keys.append(key)
            wanted = [s for s in self.sources if s.wants is None or s.wants(row)]
            for source in wanted:
                source.keys.append(key)
                source.called.add(key)
            if self._concurrent:
                self._queued += [(source, key) for source in wanted]
                while len(self._queued) >= EXO_BATCH_LIMIT:
                    self._dispatch(self._queued[:EXO_BATCH_LIMIT])
                    del self._queued[:EXO_BATCH_LIMIT]

    def _dispatch(self, calls: list[tuple[_Source, str]]) -> None:
        self._tasks.append(asyncio.create_task(self._batch(calls)))

    async def finish(self) -> dict[str, SourceOutcome]:
        """Each source's rows (in mailbox order) and failed mailboxes, or its error."""
        self.complete = True
        if self._concurrent:
            if self._queued:
                self._dispatch(self._queued)
                self._queued = []
            await asyncio.gather(*self._tasks)
        else:
            for key in self._keys:
                for source in self.sources:
                    if key in source.called:
                        await self._one(source, key)
        return {source.name: source.outcome(source.keys) for source in self.sources}

    def cut_off(self, reason: str) -> dict[str, SourceOutcome] | None:
        """Each source as far as it got, the mailboxes not yet answered failed with
        `reason`; None while mailboxes may still be added (which ones would be missing is
        not known)."""
        if not self.complete:
            return None
        return {source.name: source.cut_off(source.keys, reason) for source in self.sources}

    async def stop(self) -> None:
        """Cancel the calls still running. A call that ended in an error other than a
        service's (a sign-in failure, a fault in mailwarden) raises it: never lost."""
        for task in self._tasks:
            task.cancel()
        ended = await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._queued = []
        for outcome in ended:
            if isinstance(outcome, Exception):  # not a cancellation (a BaseException)
                raise outcome

    async def _batch(self, calls: list[tuple[_Source, str]]) -> None:
        wanted = {f"{source.name}|{key}": (source, key) for source, key in calls
                  if source.error is None}
        outcomes: Mapping[str, list[dict[str, Any]] | MailwardenError]
        try:
            outcomes = await invoke_many(
                self._exo,
                {
                    name: Call(
                        cmdlet=source.cmdlet,
                        parameters=source.parameters(key),
                        select=source.select if self._select else None,
                    )
                    for name, (source, key) in wanted.items()
                },
                page_size=self._page_size,
                priority=PER_MAILBOX_PRIORITY,
            )
        except AuthError:
            raise  # every call would be refused the same way: the collection ends
        except MailwardenError as exc:
            outcomes = dict.fromkeys(wanted, exc)  # the calls it carried fail, no others
        # Calls that share one error failed in one request (their `$batch`): it counts once.
        counted: set[tuple[str, int]] = set()
        for name, outcome in outcomes.items():
            source, key = wanted[name]
            if isinstance(outcome, MailwardenError):
                request = (source.name, id(outcome))
                self._failed(source, key, outcome, counted=request not in counted)
                counted.add(request)
            else:
                self._done(source, key, outcome)

    def _failed(
        self, source: _Source, key: str, exc: MailwardenError, *, counted: bool = True
    ) -> None:
        if _vanished(exc):
            source.vanished.add(key)
            return
        if source.error is not None:
            return
        message = f"{source.cmdlet} -{source.parameter} {key}: {exc}"
        if _cmdlet_refused(exc):
            source.error = message  # every other call would be refused the same way
            return
        source.failed[key] = message
        source.out_of_scope += _out_of_scope(exc)
        source.failed_requests += counted
        if not source.rows and source.failed_requests >= SOURCE_FAILS_AFTER:
            source.error = source._all_failed()  # nothing has worked: stop calling

    def _done(self, source: _Source, key: str, rows: list[dict[str, Any]]) -> None:
        source.rows[key] = rows
        source.done += 1
        self._report(source.name, source.done, len(source.keys))

    async def _one(self, source: _Source, key: str) -> None:
        if source.error is not None:
            return  # the source already failed; more calls would only fail the same way
        try:
            rows = await self._exo.invoke(
                source.cmdlet,
                source.parameters(key),
                select=source.select if self._select else None,
                page_size=self._page_size,
                priority=PER_MAILBOX_PRIORITY,
            )
        except MailwardenError as exc:
            self._failed(source, key, exc)
            return
        self._done(source, key, rows)
