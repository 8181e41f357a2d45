"""Incremental collection of the logs detection reads: Entra sign-ins and directory audits
from Graph's `auditLogs`, and the Unified Audit Log through Graph's audit log query API.

    batch = await collect_logs(http, settings, checkpoint=LogCheckpoint.starting(since))
    append_log_batch(directory, batch)       # DIR/logs/*.json, JSON Lines, 0600
    save_checkpoint(path, batch.checkpoint)   # only once the records are safely handled

Each kind is read from its checkpoint (see `logs_checkpoint`) up to `until` (now), at
the largest page size. Sign-ins and directory audits share Graph's reports throttle of
5 requests per 10 s per tenant: requests are paced to it before they are sent, and a
429 that comes all the same is honoured by the wire's Retry-After handling. The UAL is
read by creating a query, polling it until it has succeeded (or the timeout passes),
then paging its records. A kind that fails is recorded in `errors` with its message and
keeps its old mark; it is never returned as an empty read.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from mailwarden.collect.logs_checkpoint import (
    KindMark,
    LogCheckpoint,
    load_checkpoint,
    save_checkpoint,
)
from mailwarden.errors import AuthError, MailwardenError, RetriesExhaustedError, ServiceError
from mailwarden.m365.http import M365Http, Service, page_items
from mailwarden.progress import Progress
from mailwarden.settings import Settings
from mailwarden.tenant.logs import LOG_FILE_NAMES, LOG_KINDS, LogKind, append_log_batch
from mailwarden.times import as_utc, iso, parse_time

__all__ = [
    "LOG_FILE_NAMES", "LOG_KINDS", "KindMark", "LogBatch", "LogCheckpoint", "LogKind",
    "LogOptions", "Pacer", "Sent", "append_log_batch", "collect_logs", "load_checkpoint",
    "save_checkpoint",
]

#: Each kind's time property, and where Graph serves it (relative to the version).
TIME_FIELDS: Mapping[LogKind, str] = {"signIns": "createdDateTime",
                                      "directoryAudits": "activityDateTime",
                                      "ual": "createdDateTime"}
_REPORT_PATHS: Mapping[LogKind, str] = {"signIns": "/auditLogs/signIns",
                                        "directoryAudits": "/auditLogs/directoryAudits"}
LABELS: Mapping[LogKind, str] = {"signIns": "sign-ins", "directoryAudits": "directory audits",
                                 "ual": "unified audit log"}
#: The UAL record types detection reads (Exchange admin and mailbox audit records), as
#: members of Graph's auditLogRecordType enum: the v1.0 schema spells them in PascalCase.
EXCHANGE_RECORD_TYPES = ("ExchangeAdmin", "ExchangeItem", "ExchangeItemGroup",
                         "ExchangeItemAggregated")


@dataclass(frozen=True, slots=True, kw_only=True)
class LogOptions:
    kinds: tuple[LogKind, ...] = LOG_KINDS
    #: How far before the last record read the next read starts (late records).
    overlap: timedelta = timedelta(minutes=30)
    page_size: int = 1000  # Graph's largest $top for sign-ins, audits and query records
    #: Graph's reports throttle: requests per window (seconds) per tenant.
    reports_limit: int = 5
    reports_window: float = 10.0
    #: Audit log query: the first wait between polls doubles up to `poll_interval`
    #: (small queries finish in seconds, large ones in minutes); the longest wait overall.
    first_poll: float = 0.5
    poll_interval: float = 10.0
    query_timeout: float = 1800.0
    record_types: tuple[str, ...] = EXCHANGE_RECORD_TYPES
    version: str = "v1.0"


@dataclass(frozen=True, slots=True, kw_only=True)
class LogBatch:
    """One collection: per kind the new records (oldest first), the kinds that failed, the
    overlap duplicates skipped, and the checkpoint to save once the records are handled."""

    records: Mapping[LogKind, tuple[dict[str, Any], ...]]
    errors: Mapping[LogKind, str]
    duplicates: Mapping[LogKind, int]
    checkpoint: LogCheckpoint
    until: datetime
    #: Failed kinds whose service kept throttling or failing until the retries ran out
    #: (worth reading again later), as opposed to a refusal.
    transient: frozenset[LogKind] = frozenset()

    def count(self, kind: LogKind) -> int:
        return len(self.records.get(kind, ()))


@dataclass(slots=True)
class Sent:
    """One paced request: in flight until `at` is set to when its answer came."""

    at: float = math.inf


class Pacer:
    """At most `limit` requests in any `window` seconds: waits before sending, so the
    service's throttle is not met instead of being met and obeyed.

    A request counts from when its answer came back, not from when it was sent: the
    service counted it on arrival, somewhere in between, so counting from the answer
    never lets the window close early, whatever the network's delays."""

    def __init__(self, limit: int, window: float, *, sleep: Callable[[float], Awaitable[Any]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._sleep = sleep
        self._clock = clock
        self._sent: list[Sent] = []
        self._lock = asyncio.Lock()

    async def ready(self) -> Sent:
        """Wait for a free place in the window; `settle` the returned request when answered."""
        sent = Sent()
        if self.limit <= 0 or self.window <= 0:
            return sent
        async with self._lock:
            while True:
                now = self._clock()
                self._sent = [s for s in self._sent if s.at > now - self.window]
                if len(self._sent) < self.limit:
                    self._sent.append(sent)
                    return sent
                soonest = min(s.at for s in self._sent)
                finite = soonest != math.inf
                await self._sleep(soonest + self.window - now if finite else self.window / 10)

    def settle(self, sent: Sent) -> None:
        sent.at = self._clock()


def _floor(moment: datetime) -> str:
    return iso(moment, timespec="seconds")


class _Run:
    def __init__(self, http: M365Http, settings: Settings, checkpoint: LogCheckpoint,
                 until: datetime, options: LogOptions, progress: Progress | None) -> None:
        self.http = http
        self.base = f"{settings.endpoints.graph_url}/{options.version}"
        self.checkpoint = checkpoint
        self.until = until
        self.options = options
        self.progress = progress
        self.pacer = Pacer(options.reports_limit, options.reports_window, sleep=http.wait)

    def report(self, kind: LogKind, done: int) -> None:
        if self.progress is not None:
            self.progress(LABELS[kind], done, None)

    async def reports(self, kind: LogKind) -> list[dict[str, Any]]:
        field_name = TIME_FIELDS[kind]
        since = self.checkpoint.since(kind, self.options.overlap)
        expression = (f"{field_name} ge {_floor(since)} and "
                      f"{field_name} lt {_floor(self.until)}")
        url = (f"{self.base}{_REPORT_PATHS[kind]}?$filter={quote(expression, safe=':')}"
               f"&$top={self.options.page_size}")
        rows: list[dict[str, Any]] = []
        pages = self.http.pages(Service.GRAPH, url)
        while True:
            sent = await self.pacer.ready()
            try:
                page = await anext(pages)
            except StopAsyncIteration:
                return rows
            finally:
                self.pacer.settle(sent)
            rows += page_items(page)
            self.report(kind, len(rows))

    async def audit_query(self) -> list[dict[str, Any]]:
        since = self.checkpoint.since("ual", self.options.overlap)
        queries = f"{self.base}/security/auditLog/queries"
        created = await self.http.send(Service.GRAPH, "POST", queries, json_body={
            "@odata.type": "#microsoft.graph.security.auditLogQuery",
            "displayName": f"mailwarden {iso(since)} to {iso(self.until)}",
            "filterStartDateTime": iso(since), "filterEndDateTime": iso(self.until),
            "recordTypeFilters": list(self.options.record_types)})
        if not isinstance(created, Mapping) or not created.get("id"):
            raise ServiceError("Microsoft Graph created an audit log query without an id",
                               service=Service.GRAPH.value)
        query_url = f"{queries}/{quote(str(created['id']), safe='')}"
        await self.wait_for(query_url, str(created.get("status") or ""))
        rows: list[dict[str, Any]] = []
        async for page in self.http.pages(
                Service.GRAPH, f"{query_url}/records?$top={self.options.page_size}"):
            rows += page_items(page)
            self.report("ual", len(rows))
        return rows

    async def wait_for(self, query_url: str, status: str) -> None:
        deadline = time.monotonic() + self.options.query_timeout
        polls = 0
        while status != "succeeded":
            if status in {"failed", "cancelled"}:
                raise ServiceError(f"the audit log query {query_url} {status}; run again, and "
                                   "if it keeps failing check the audit log search in Purview",
                                   service=Service.GRAPH.value)
            if time.monotonic() >= deadline:
                raise ServiceError(
                    f"the audit log query {query_url} did not finish within "
                    f"{self.options.query_timeout:g} s (last status: {status or 'unknown'}); "
                    "the audit log is busy or the window is large: run again later, or read "
                    "a shorter window", service=Service.GRAPH.value)
            if polls:
                pause = self.options.first_poll * 2.0 ** (polls - 1)
                await self.http.wait(min(self.options.poll_interval, pause))
            polls += 1
            answer = await self.http.send(Service.GRAPH, "GET", query_url)
            status = str(answer.get("status") if isinstance(answer, Mapping) else "")

    async def read(self, kind: LogKind) -> list[dict[str, Any]]:
        if self.checkpoint.since(kind, self.options.overlap) >= self.until:
            return []  # read up to `until` already: an empty window is no request
        return await (self.audit_query() if kind == "ual" else self.reports(kind))


@dataclass(slots=True)
class _Outcome:
    records: dict[LogKind, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    errors: dict[LogKind, str] = field(default_factory=dict)
    duplicates: dict[LogKind, int] = field(default_factory=dict)
    transient: set[LogKind] = field(default_factory=set)


def _new_records(kind: LogKind, rows: list[dict[str, Any]], checkpoint: LogCheckpoint,
                 overlap: timedelta) -> tuple[list[dict[str, Any]], int, LogCheckpoint]:
    """The rows not read before (oldest first), how many were skipped, the moved mark."""
    seen = set(checkpoint.seen(kind))
    fresh: list[tuple[datetime, dict[str, Any]]] = []
    read: list[tuple[str | None, datetime]] = []
    skipped = 0
    oldest = datetime.min.replace(tzinfo=UTC)
    for row in rows:
        record_id = str(row["id"]) if row.get("id") is not None else None
        moment = parse_time(row.get(TIME_FIELDS[kind]))
        if record_id is not None and record_id in seen:
            skipped += 1
            continue
        if record_id is not None:
            seen.add(record_id)
        if moment is not None:
            read.append((record_id, moment))
        fresh.append((moment or oldest, row))
    fresh.sort(key=lambda pair: pair[0])
    return [row for _, row in fresh], skipped, checkpoint.advanced(kind, read, overlap)


async def collect_logs(http: M365Http, settings: Settings, *, checkpoint: LogCheckpoint,
                       until: datetime | None = None, progress: Progress | None = None,
                       options: LogOptions | None = None) -> LogBatch:
    """Read every kind in `options.kinds` since `checkpoint`, concurrently; see the module
    docstring. An authentication failure ends the collection (every kind would fail)."""
    options = options or LogOptions()
    end = as_utc(until or datetime.now(UTC))
    run = _Run(http, settings, checkpoint, end, options, progress)
    outcome = _Outcome()

    async def one(kind: LogKind) -> tuple[LogKind, list[dict[str, Any]] | None]:
        try:
            return kind, await run.read(kind)
        except AuthError:
            raise
        except MailwardenError as exc:
            outcome.errors[kind] = str(exc)
            if isinstance(exc, RetriesExhaustedError):
                outcome.transient.add(kind)
            return kind, None

    moved = checkpoint
    for kind, rows in await asyncio.gather(*(one(k) for k in options.kinds)):
        if rows is None:
            continue
        fresh, skipped, moved = _new_records(kind, rows, moved, options.overlap)
        outcome.records[kind] = tuple(fresh)
        outcome.duplicates[kind] = skipped
    return LogBatch(records=outcome.records, errors=outcome.errors,
                    duplicates=outcome.duplicates, checkpoint=moved, until=end,
                    transient=frozenset(outcome.transient))
