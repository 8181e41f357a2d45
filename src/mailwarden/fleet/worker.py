"""Running one fleet job: what a worker does with a message naming it.

A job is one kind (posture, logs) for one tenant in one schedule slot. Running it is one
watch cycle (`mailwarden.watch.cycle`) in the tenant's own state folder under the
workers' state root, through a session signed in from the registry's credential
(`fleet.signin`) whose requests take the tenant's slots shared by every worker
(`fleet.shared`):

- a posture job collects the tenant unless it was collected since its slot began, then
  assesses it, detects over its log window as it is (it reads no new log records: the
  logs job does), stores the run and notifies;
- a logs job pulls the log records since its checkpoint, detects, stores and notifies;
  it collects the posture only when the tenant has none yet.

Every step decides from the store and Redis, so that a message delivered twice, or again
after its worker died, does no harm:

1. the job is read: gone, finished, or queued for later (`retry_at`, when a delayed
   message is on its way) means the message is dropped;
2. the tenant's lease (`fleet.lease`, one job per tenant at a time across every worker)
   is taken, or the message is sent again with a delay;
3. the job is started in the store: queued, or running under a worker whose heartbeat
   is older than `dead_after` (that worker died and its message came back); a job
   running under a live worker gets the message again later, in case it dies;
4. while it runs, a heartbeat every `heartbeat_every` seconds renews the store's record
   and the lease; when the store says the job is no longer this worker's (cancelled,
   reaped, taken over) the cycle stops at its next phase;
5. the cycle stores its run under the job's id (`runs.job_key`: a job run twice stores
   one run) and hands its notices to the tenant's outbox (a notice already there is not
   sent again);
6. the job finishes: succeeded (with the run it made), failed with a one-line reason, or,
   when the service throttled it or its state folder was busy, put back in the queue with
   a delayed message (exponential, up to `max_attempts` runs), never retried in a loop.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import httpx
import redis

from mailwarden.errors import (
    MailwardenError,
    RetriesExhaustedError,
    ServiceError,
    StateInUseError,
)
from mailwarden.fleet.lease import Lease
from mailwarden.fleet.limits import TenantLimiter
from mailwarden.fleet.shared import RedisTenantSlots
from mailwarden.fleet.signin import tenant_settings, tenant_tokens
from mailwarden.m365.session import M365Session, Transport
from mailwarden.model.fleet import FleetJob, FleetTenant, JobKind, JobState
from mailwarden.notify import Senders, load_routing
from mailwarden.notify.routing import Routing
from mailwarden.settings import Settings
from mailwarden.store.fleet import FleetStore
from mailwarden.watch.api import ApiSource
from mailwarden.watch.cycle import FirstCycle, WatchConfig, run_cycle
from mailwarden.watch.report import CycleReport

log = logging.getLogger("mailwarden.fleet")

#: Prefix of the fleet's Redis keys: the tenants' leases, the services' pauses and rate
#: budgets.
KEY_PREFIX = "mailwarden:fleet"
#: A logs job collects the posture only when the tenant has none.
_ONLY_WHEN_MISSING = timedelta(days=36500)
#: Service answers that are worth another try later rather than a failure now.
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PUT_BACK = "put-back"  # throttled or busy: queued again with a delayed message
    DEFERRED = "deferred"  # not started: its tenant or the job is busy; sent again later
    STOPPED = "stopped"  # the job stopped being this worker's (cancelled, reaped)
    DROPPED = "dropped"  # nothing to do: no such job, finished, or an early copy


@dataclass(frozen=True, slots=True, kw_only=True)
class JobResult:
    job_id: str
    outcome: Outcome
    detail: str = ""
    history_run_id: int | None = None
    report: CycleReport | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerOptions:
    """How a worker runs jobs. The defaults suit a production fleet; tests shorten them."""

    db_url: str | None
    state_root: Path
    settings: Settings = field(default_factory=Settings)  # endpoints, CA, retry policy
    #: A job whose heartbeat is older than this is its worker's no more: its message, which
    #: Redis gives back after the same time, may start it again.
    dead_after: timedelta = timedelta(seconds=60)
    heartbeat_every: float = 15.0
    #: The tenant was busy with another job: try again after this.
    busy_retry: timedelta = timedelta(seconds=30)
    #: Throttled beyond the retry policy: try again after this, doubled per attempt...
    throttle_retry: timedelta = timedelta(seconds=60)
    throttle_retry_max: timedelta = timedelta(minutes=30)  # ... up to this
    max_attempts: int = 5  # runs of one job, the first included, before it fails
    first_cycle: FirstCycle = FirstCycle.SUMMARY
    key_prefix: str = KEY_PREFIX

    def __post_init__(self) -> None:
        if self.heartbeat_every * 2 > self.dead_after.total_seconds():
            raise ValueError("the heartbeat must come at least twice within dead_after")


def worker_name() -> str:
    """This worker thread, as the store records who runs a job: host/pid/thread."""
    return f"{socket.gethostname()}/{os.getpid()}/{threading.current_thread().name}"


class JobStopped(Exception):
    """The job is no longer this worker's; raised between the cycle's phases."""


#: Sends the message of a job again, after a delay in seconds.
SendLater = Callable[[FleetJob, float], None]


class JobRunner:
    """Runs the jobs of one worker process; one per process, shared by its threads."""

    def __init__(self, options: WorkerOptions, *, store: FleetStore, redis_client: redis.Redis,
                 limiter: TenantLimiter, send_later: SendLater,
                 http: httpx.Client | None = None,
                 env: Mapping[str, str] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.options = options
        self.store = store
        self.redis = redis_client
        self.limiter = limiter
        self.send_later = send_later
        self.http = http or httpx.Client(timeout=30)
        self.env = env
        self.clock = clock
        # Each worker thread's event loop and HTTP client, kept from one job to the next:
        # the services' hosts are every tenant's, so their connections serve the next job.
        self._local = threading.local()
        self._transports: list[Transport] = []
        self._transports_lock = threading.Lock()

    def _transport(self) -> Transport:
        transport: Transport | None = getattr(self._local, "transport", None)
        if transport is None or transport.closed:
            transport = Transport()
            self._local.transport = transport
            with self._transports_lock:
                self._transports.append(transport)
        return transport

    def close(self) -> None:
        """Close the threads' event loops and clients (when no job runs)."""
        with self._transports_lock:
            transports, self._transports = self._transports, []
        for transport in transports:
            transport.close()

    def run(self, job_id: str, *, tenant_id: str | None = None,
            worker_id: str | None = None) -> JobResult:
        """Run the job the message names, if it is this worker's to run now (`tenant_id`:
        the tenant the message names, which must be the job's)."""
        worker = worker_id or worker_name()
        now = self.clock()
        job = self.store.jobs.job(job_id)
        if job is None:
            return JobResult(job_id=job_id, outcome=Outcome.DROPPED, detail="no such job")
        if tenant_id is not None and tenant_id != job.tenant_id:
            return JobResult(job_id=job_id, outcome=Outcome.DROPPED,
                             detail=f"the message names tenant {tenant_id}, the job is of "
                             f"{job.tenant_id}")
        if job.state.finished:
            return JobResult(job_id=job_id, outcome=Outcome.DROPPED,
                             detail=f"already {job.state.value}")
        if (job.state is JobState.QUEUED and job.retry_at is not None
                and job.retry_at > now + timedelta(seconds=1)):
            return JobResult(job_id=job_id, outcome=Outcome.DROPPED,
                             detail="an early copy: a delayed message runs it later")
        lease = Lease(self.redis, f"{self.options.key_prefix}:tenant:{job.tenant_id}",
                      ttl_ms=int(self.options.dead_after.total_seconds() * 1000),
                      holder=worker)
        if not lease.acquire():
            return self._defer(job, now, f"tenant {job.tenant_id} is busy with another job "
                               f"({lease.holder() or 'just finished'})")
        try:
            started = self.store.jobs.start(job_id, worker_id=worker, at=now,
                                            dead_before=now - self.options.dead_after)
            if started is None:
                current = self.store.jobs.job(job_id)
                if current is not None and current.state is JobState.RUNNING:
                    # Running under a worker that looks alive: if it dies, this copy runs it.
                    self.send_later(current, self.options.dead_after.total_seconds())
                    return JobResult(job_id=job_id, outcome=Outcome.DEFERRED,
                                     detail=f"running under {current.worker_id}")
                state = current.state.value if current is not None else "gone"
                return JobResult(job_id=job_id, outcome=Outcome.DROPPED, detail=state)
            if job.state is JobState.RUNNING:
                log.warning("job %s: taking over from %s, whose heartbeat stopped", job_id,
                            job.worker_id)
            return self._run_started(started, worker, lease)
        finally:
            lease.release()
            self._hand_over(job.tenant_id, job_id)

    def _hand_over(self, tenant_id: str, done: str) -> None:
        """Send the messages of the tenant's jobs that waited for its lease now, rather
        than when their delayed copies come (`busy_retry`)."""
        for waiting in self.store.jobs.waiting_for_tenant(tenant_id):
            if waiting.job_id != done:
                self.store.jobs.mark_sent(waiting.job_id, at=self.clock())
                self.send_later(waiting, 0)

    def _defer(self, job: FleetJob, now: datetime, why: str) -> JobResult:
        """The tenant is busy: the job waits for its lease (the holder sends its message
        when done, `_hand_over`), with a delayed copy in case that message is lost."""
        delay = self.options.busy_retry
        if job.state is JobState.QUEUED:
            self.store.jobs.mark_sent(job.job_id, at=now)
        self.send_later(job, delay.total_seconds())
        return JobResult(job_id=job.job_id, outcome=Outcome.DEFERRED, detail=why)

    def _run_started(self, job: FleetJob, worker: str, lease: Lease) -> JobResult:
        stop = threading.Event()
        with self._heartbeat(job, worker, lease, stop):
            try:
                report = self._cycle(job, stop)
            except JobStopped:
                return JobResult(job_id=job.job_id, outcome=Outcome.STOPPED,
                                 detail="cancelled, reaped or taken over while it ran")
            except Exception as exc:  # every failure ends the job, saying why
                return self._failed(job, worker, exc)
        if report.run_id is not None:
            self.store.jobs.record_run(job.job_id, worker_id=worker,
                                       history_run_id=report.run_id)
        finished = self.store.jobs.finish(job.job_id, worker_id=worker,
                                          state=JobState.SUCCEEDED, at=self.clock())
        if not finished:
            return JobResult(job_id=job.job_id, outcome=Outcome.STOPPED,
                             detail="the job stopped being this worker's as it finished")
        return JobResult(job_id=job.job_id, outcome=Outcome.SUCCEEDED,
                         history_run_id=report.run_id, report=report)

    def _failed(self, job: FleetJob, worker: str, exc: Exception) -> JobResult:
        now = self.clock()
        if isinstance(exc, MailwardenError):
            reason = str(exc)
        else:
            log.exception("job %s: internal error", job.job_id)
            reason = f"internal error ({type(exc).__name__}: {exc})"
        retry = self._retry_delay(job, exc)
        if retry is not None:
            if self.store.jobs.put_back(job.job_id, worker_id=worker, at=now,
                                        retry_at=now + retry, error=reason):
                self.send_later(job, retry.total_seconds())
                return JobResult(job_id=job.job_id, outcome=Outcome.PUT_BACK, detail=reason)
            return JobResult(job_id=job.job_id, outcome=Outcome.STOPPED, detail=reason)
        self.store.jobs.finish(job.job_id, worker_id=worker, state=JobState.FAILED, at=now,
                               error=reason)
        return JobResult(job_id=job.job_id, outcome=Outcome.FAILED, detail=reason)

    def _retry_delay(self, job: FleetJob, exc: Exception) -> timedelta | None:
        """How long to wait before running the job again; None: it fails now."""
        if job.attempts >= self.options.max_attempts:
            return None
        if isinstance(exc, StateInUseError):
            return self.options.busy_retry
        transient = isinstance(exc, RetriesExhaustedError) or (
            isinstance(exc, ServiceError) and exc.status in _TRANSIENT_STATUS)
        if not transient:
            return None
        delay = self.options.throttle_retry * (1 << max(0, job.attempts - 1))
        return min(delay, self.options.throttle_retry_max)

    @contextmanager
    def _heartbeat(self, job: FleetJob, worker: str, lease: Lease,
                   stop: threading.Event) -> Iterator[None]:
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.options.heartbeat_every):
                try:
                    ours = self.store.jobs.heartbeat(job.job_id, worker_id=worker,
                                                     at=self.clock())
                    lease.renew()
                except MailwardenError as exc:  # the store or Redis is down for a moment
                    log.warning("job %s: heartbeat not recorded: %s", job.job_id, exc)
                    continue
                except redis.RedisError as exc:
                    log.warning("job %s: lease not renewed: %s", job.job_id, exc)
                    continue
                if not ours:
                    log.warning("job %s is no longer this worker's; stopping it",
                                job.job_id)
                    stop.set()
                    return

        thread = threading.Thread(target=beat, name=f"heartbeat-{job.job_id[:8]}",
                                  daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _cycle(self, job: FleetJob, stop: threading.Event) -> CycleReport:
        tenant = self.store.tenant(job.tenant_id)
        settings = tenant_settings(tenant, self.options.settings)
        tokens = tenant_tokens(tenant, settings, self.env)
        state_dir = self.options.state_root / tenant.tenant_id
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        routing = _routing(tenant)
        config = WatchConfig(
            state_dir=state_dir, routing=routing, db_url=self.options.db_url,
            custodians_file=tenant.custodians_path, first_cycle=self.options.first_cycle,
            posture_every=_ONLY_WHEN_MISSING,
            posture_since=job.due_at if job.kind is JobKind.POSTURE else None,
            pull_logs=job.kind is JobKind.LOGS, run_key=job.job_id)

        def phase(name: str) -> None:
            if stop.is_set():
                raise JobStopped(name)

        slots = RedisTenantSlots(self.limiter, self.redis, tenant.tenant_id,
                                 pause_prefix=f"{self.options.key_prefix}:pause",
                                 rate_prefix=f"{self.options.key_prefix}:rate")
        senders = Senders(client=self.http, redact=routing.redactor)
        with M365Session(settings, tokens=tokens, shared=slots,
                         transport=self._transport()) as session:
            source = ApiSource(session, state_dir)
            report = run_cycle(config, source, senders.send, on_phase=phase)
        log.info("job %s (%s of %s): %d new records, %d alerts, run %s%s", job.job_id,
                 job.kind.value, tenant.tenant_id, report.records_new, report.alerts,
                 report.run_id, "" if report.run_stored else " (unchanged)")
        return report


def _routing(tenant: FleetTenant) -> Routing:
    if tenant.routing_path is None:
        return Routing(source="(no routing file)", channels={}, routes=())
    return load_routing(tenant.routing_path)
