"""The fleet's scheduler: each tenant's jobs enqueued as their slots fall due, lost messages
sent again, and the jobs of dead workers reaped.

Slots. A tenant's slots of one kind are its interval apart, shifted by an offset of its
own (its id's SHA-256 modulo the interval, to the second), so that 200 tenants on a 24h
schedule start spread over the day instead of at the same minute, and a tenant keeps its
time from day to day. The slot due at `now` is the latest that started at or before it; it
is due while the tenant has no job of that kind for it or a later slot (a `fleet run
--now` in the meantime counts). A scheduler that was stopped for a while enqueues the
current slot only, not every one it missed.

One scheduler at a time. `SchedulerLock` is a Redis key taken with `SET NX PX`, naming
its holder (host and process id), renewed and released only by its holder (a Lua script
compares the value first). Without it nothing is enqueued twice either (a slot has one job
and only its creator sends its message; a re-send is claimed in the database first), but
a second scheduler would make empty runs and confusing output.

`tick` does one round: reap, enqueue the due slots (one `fleet_runs` record, trigger
"schedule", when a job is made) with a message for each, and send again the messages of
jobs queued for longer than `resend_after` since their last one (Redis may lose a message:
one not persisted before a restart, or dropped by an operator; a job must not wait
forever).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import redis
from dramatiq import Broker
from redis.exceptions import RedisError

from mailwarden.errors import ConfigError, InputError, MailwardenError
from mailwarden.fleet.lease import Lease
from mailwarden.fleet.queue import job_message
from mailwarden.model.fleet import FleetJob, FleetTenant, JobKind
from mailwarden.store.fleet import FleetStore

#: Defaults of `fleet scheduler` and `fleet reap`.
TICK = timedelta(seconds=30)
REAP_AFTER = timedelta(minutes=10)
RESEND_AFTER = timedelta(minutes=30)
#: A worker sends a heartbeat every 15 s, and another worker takes over a job whose
#: heartbeat is a minute old; reaping sooner than twice that would fail jobs that are fine.
SHORTEST_REAP_AFTER = timedelta(minutes=2)
#: The lock's key, under the broker's namespace (beside the queue it guards).
LOCK_NAME = "mailwarden-fleet.scheduler"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> timedelta:
    """"30s", "10m", "1h30m", "1d" as a timedelta; ValueError when it is none of those or
    is zero."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not text.strip() or found is None or not any(found.groups()):
        raise ValueError(f"{text!r} is not a duration: write it as 30s, 10m, 1h or 1h30m")
    days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not duration:
        raise ValueError(f"{text!r} is zero")
    return duration


def duration_text(duration: timedelta) -> str:
    """As `parse_duration` reads it: 1d, 1h30m, 10m, 30s."""
    rest = int(duration.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def offset_of(tenant_id: str, every: timedelta) -> timedelta:
    """The tenant's offset within `every`: stable, and spread evenly over tenants."""
    seconds = max(1, int(every.total_seconds()))
    digest = hashlib.sha256(tenant_id.lower().encode("utf-8")).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % seconds)


def slot_start(tenant_id: str, every: timedelta, now: datetime) -> datetime:
    """The start of the tenant's latest slot at or before `now`, for a job every `every`."""
    seconds = max(1, int(every.total_seconds()))
    offset = int(offset_of(tenant_id, every).total_seconds())
    elapsed = (now - _EPOCH) // timedelta(seconds=1)
    return _EPOCH + timedelta(seconds=(elapsed - offset) // seconds * seconds + offset)


def due_slots(tenants: Iterable[FleetTenant], jobs: Mapping[tuple[str, JobKind], datetime],
              now: datetime) -> tuple[tuple[str, JobKind, datetime], ...]:
    """(tenant, kind, slot) for every enabled tenant and kind whose current slot has no job:
    `jobs` gives per tenant and kind the latest slot with a job (`FleetJobs.latest_slots`)."""
    due = []
    for tenant in tenants:
        if not tenant.enabled:
            continue
        for kind in JobKind:
            start = slot_start(tenant.tenant_id, tenant.schedule.every(kind), now)
            latest = jobs.get((tenant.tenant_id, kind))
            if latest is None or latest < start:
                due.append((tenant.tenant_id, kind, start))
    return tuple(due)


# -- the lock --------------------------------------------------------------------------------

def this_process() -> str:
    """host/pid, as the lock shows its holder."""
    return f"{socket.gethostname()}/{os.getpid()}"


class SchedulerLock(Lease):
    """The one-scheduler lock: `hold()` takes it or keeps it (True), or says another holds
    it (False; `holder()` names them). It lapses `ttl` after the last `hold()` when its
    holder dies without `release()`."""

    def __init__(self, client: redis.Redis, key: str, *, ttl: timedelta,
                 holder: str | None = None) -> None:
        super().__init__(client, key, ttl_ms=max(1, int(ttl.total_seconds() * 1000)),
                         holder=holder or this_process())

    @classmethod
    def of(cls, broker: Broker, *, ttl: timedelta, holder: str | None = None
           ) -> SchedulerLock:
        """The lock beside the broker's queues (its Redis client and namespace)."""
        client = cast(redis.Redis, cast(Any, broker).client)
        namespace = cast(str, cast(Any, broker).namespace)
        return cls(client, f"{namespace}:{LOCK_NAME}", ttl=ttl, holder=holder)

    def hold(self) -> bool:
        """Renew the lock if this holder has it, else take it if it is free."""
        return self.renew() or self.acquire()


# -- one round -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class TickReport:
    run_id: str | None  # the run recorded for the jobs queued, None when none was
    queued: tuple[FleetJob, ...]  # new jobs, a message sent for each
    resent: tuple[FleetJob, ...]  # queued jobs whose message was sent again (as they were)
    reaped: tuple[FleetJob, ...]  # running jobs failed for want of a heartbeat

    @property
    def idle(self) -> bool:
        return not (self.queued or self.resent or self.reaped)


def tick(store: FleetStore, broker: Broker, now: datetime, *, by: str = "scheduler",
         resend_after: timedelta = RESEND_AFTER, reap_after: timedelta = REAP_AFTER
         ) -> TickReport:
    """One round of the scheduler at `now`: reap, enqueue and send the due slots, send
    again the messages older than `resend_after` of jobs still queued."""
    jobs = store.jobs
    reaped = jobs.reap(now - reap_after, now)
    due = due_slots(store.tenants(), jobs.latest_slots(), now)
    run_id: str | None = None
    queued: list[FleetJob] = []
    if due:
        run_id = jobs.new_run(trigger="schedule", by=by, at=now)
        for tenant_id, kind, slot in due:
            try:
                job, created = jobs.enqueue(run_id=run_id, tenant_id=tenant_id, kind=kind,
                                            due_at=slot, at=now)
            except InputError:  # the tenant was removed since the list was read
                continue
            if created:  # only the maker of a job sends its first message
                broker.enqueue(job_message(job))
                jobs.mark_sent(job.job_id, at=now)
                queued.append(job)
        if not queued and jobs.discard_run(run_id):
            run_id = None  # every slot was filled meanwhile (by another scheduler)
    before = now - resend_after
    resent: list[FleetJob] = []
    for job in jobs.resend_due(before):
        if jobs.mark_resent(job.job_id, before=before, at=now):
            broker.enqueue(job_message(job))
            resent.append(job)
    return TickReport(run_id=run_id, queued=tuple(queued), resent=tuple(resent),
                      reaped=reaped)


# -- the loop --------------------------------------------------------------------------------

def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def report_lines(report: TickReport) -> list[str]:
    """What one round did, a line each, for people."""
    lines = [f"reaped {j.kind.value} of {j.tenant_id} (job {j.job_id}): {j.error}"
             for j in report.reaped]
    lines += [f"queued {j.kind.value} of {j.tenant_id} for {_when(j.due_at)} "
              f"(job {j.job_id})" for j in report.queued]
    if report.queued:
        lines.append(f"run {report.run_id}: {len(report.queued)} "
                     f"job{'s' if len(report.queued) != 1 else ''} queued")
    lines += [f"re-sent {j.kind.value} of {j.tenant_id} (job {j.job_id}): still queued, "
              f"its last message was due at {_when(j.retry_at or j.sent_at or j.queued_at)}"
              for j in report.resent]
    return lines


@dataclass(frozen=True, slots=True, kw_only=True)
class Loop:
    """How `serve` runs: a round every `every`; `reap_after` and `resend_after` as `tick`
    takes them; `by` is recorded as who made each run."""

    every: timedelta = TICK
    reap_after: timedelta = REAP_AFTER
    resend_after: timedelta = RESEND_AFTER
    by: str = "scheduler"


def serve(store: FleetStore, broker: Broker, lock: SchedulerLock, loop: Loop, *,
          stop: threading.Event, say: Callable[[str], None], warn: Callable[[str], None],
          once: bool = False, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
          ) -> bool:
    """Run rounds while this process holds `lock`, every `loop.every` until `stop` is set,
    saying what each did; waits (saying who holds it) while another scheduler has the
    lock. A round that fails (the database or Redis down) is reported with `warn` and
    tried again at the next. With `once`, one round, and its errors raised (a Redis error
    as a ConfigError): returns False when another scheduler held the lock (nothing done).
    The lock is released on leaving."""
    waiting_for: str | None = None  # the holder last reported
    try:
        while True:
            try:
                held, holder = _hold(lock)
                if held:
                    if waiting_for is not None:
                        say(f"took the scheduler lock from {waiting_for}; scheduling")
                    waiting_for = None
                    report = tick(store, broker, clock(), by=loop.by,
                                  resend_after=loop.resend_after, reap_after=loop.reap_after)
                    for line in report_lines(report):
                        say(line)
                elif once:
                    say(f"another scheduler holds the lock: {holder}; doing nothing")
                    return False
                elif holder != waiting_for:
                    say(f"another scheduler holds the lock: {holder}; waiting")
                    waiting_for = holder
            except (RedisError, MailwardenError) as exc:
                reason = f"Redis stopped answering ({exc})" if isinstance(
                    exc, RedisError) else str(exc)
                if once and isinstance(exc, RedisError):
                    raise ConfigError(reason) from None
                if once:
                    raise
                warn(f"this round failed: {reason}; trying again in "
                     f"{duration_text(loop.every)}")
            if once or stop.wait(loop.every.total_seconds()):
                return True
    finally:
        with contextlib.suppress(RedisError):  # unreachable: the lock lapses after its ttl
            lock.release()


def _hold(lock: SchedulerLock) -> tuple[bool, str]:
    """(True, "") when this process holds the lock, else (False, its holder)."""
    for _ in range(3):  # the holder may let go between the two questions
        if lock.hold():
            return True, ""
        holder = lock.holder()
        if holder is not None:
            return False, holder
    return False, "a scheduler that keeps letting go"
