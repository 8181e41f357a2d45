"""The fleet: the tenants one mailwarden installation looks after, how it signs in to each
(by reference: a certificate's path or the name of an environment variable, never a secret),
how often it runs each kind of job, and the jobs themselves.

A job is one run of one kind for one tenant in one schedule slot (`due_at`). The slot is
its identity: a message about the same tenant, kind and slot that is delivered twice names
the same job, so whatever runs jobs can be idempotent. Nothing here reads a clock: the
moment a status is judged at is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

#: An environment variable's name as POSIX shells write one in upper case. A secret's value
#: (Entra's contain "~", "." and lower case) is not one, so it cannot be stored by mistake.
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
#: A tenant id (a GUID) or a verified domain, lower case.
TENANT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,126}[a-z0-9])?")


_INTERVAL = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
#: The shortest interval a schedule takes: a job every minute is already a busy tenant.
SHORTEST_INTERVAL = timedelta(minutes=1)


def parse_interval(text: str) -> timedelta:
    """"24h", "15m", "1d", "1h30m" as a timedelta; ValueError when it is not one of those,
    or shorter than a minute."""
    found = _INTERVAL.fullmatch(text.strip().lower())
    if not text.strip() or found is None or not any(found.groups()):
        raise ValueError(f"{text!r} is not an interval: write it as 24h, 15m, 1d or 1h30m")
    days, hours, minutes = (int(part or 0) for part in found.groups())
    interval = timedelta(days=days, hours=hours, minutes=minutes)
    if interval < SHORTEST_INTERVAL:
        raise ValueError(f"{text!r} is shorter than a minute")
    return interval


def interval_text(interval: timedelta) -> str:
    """The interval as `parse_interval` reads it: 1d, 12h, 1h30m, 15m."""
    minutes = int(interval.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (
        f"{minutes}m" if minutes else "")
    return text or "0m"


class JobKind(StrEnum):
    POSTURE = "posture"  # collect the tenant and assess it
    LOGS = "logs"  # pull new log records and detect


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class Freshness(StrEnum):
    FRESH = "fresh"  # the last success is within its interval
    STALE = "stale"  # it is older than its interval allows
    NEVER = "never"  # no job of the kind has succeeded yet
    PAUSED = "paused"  # the tenant is disabled


@dataclass(frozen=True, slots=True, kw_only=True)
class Credential:
    """How to sign in to a tenant: an app's client id and either a certificate (its path)
    or the name of the environment variable holding the client secret. `multi_tenant`
    says the app is the fleet's one multi-tenant app, consented in many tenants."""

    client_id: str
    certificate_path: Path | None = None
    secret_env: str | None = None
    multi_tenant: bool = False

    def __post_init__(self) -> None:
        if (self.certificate_path is None) == (self.secret_env is None):
            raise ValueError("a credential names a certificate path or a secret's variable")
        if self.secret_env is not None and not ENV_NAME.fullmatch(self.secret_env):
            raise ValueError(f"{self.secret_env!r} is not an environment variable's name")

    @property
    def described(self) -> str:
        """For people: which app, and where its key is (never the key)."""
        app = "multi-tenant app" if self.multi_tenant else "app"
        where = (f"certificate {self.certificate_path}" if self.certificate_path is not None
                 else f"secret in ${self.secret_env}")
        return f"{app} {self.client_id}, {where}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    posture_every: timedelta = timedelta(hours=24)
    logs_every: timedelta = timedelta(minutes=15)

    def every(self, kind: JobKind) -> timedelta:
        return self.posture_every if kind is JobKind.POSTURE else self.logs_every


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetTenant:
    tenant_id: str  # lower case
    display_name: str | None = None
    credential: Credential
    schedule: Schedule = Schedule()
    routing_path: Path | None = None
    custodians_path: Path | None = None
    enabled: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetJob:
    job_id: str
    run_id: str
    tenant_id: str
    kind: JobKind
    due_at: datetime  # the schedule slot: with tenant and kind, the job's identity
    state: JobState
    attempts: int = 0
    worker_id: str | None = None
    queued_at: datetime
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    sent_at: datetime | None = None  # the last message sent for it
    retry_at: datetime | None = None  # put back (throttled, tenant busy) until then
    history_run_id: int | None = None  # the stored run it made


@dataclass(frozen=True, slots=True, kw_only=True)
class KindStatus:
    """One kind of job of one tenant, as `fleet status` shows it."""

    kind: JobKind
    every: timedelta
    last_success: datetime | None
    running: FleetJob | None
    last_failure: FleetJob | None  # only when it is newer than the last success
    freshness: Freshness
    #: A job put back to run again later (throttled, or its state folder busy), with why.
    waiting: FleetJob | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantStatus:
    tenant: FleetTenant
    kinds: tuple[KindStatus, ...]


def kind_status(tenant: FleetTenant, kind: JobKind, jobs: tuple[FleetJob, ...],
                now: datetime) -> KindStatus:
    """How one kind of job of a tenant stands at `now`, from its jobs (any order)."""
    own = [j for j in jobs if j.tenant_id == tenant.tenant_id and j.kind is kind]
    successes = [j.finished_at for j in own
                 if j.state is JobState.SUCCEEDED and j.finished_at is not None]
    last_success = max(successes, default=None)
    running = max((j for j in own if j.state is JobState.RUNNING),
                  key=lambda j: j.started_at or j.queued_at, default=None)
    failures = [j for j in own if j.state is JobState.FAILED and j.finished_at is not None
                and (last_success is None or j.finished_at > last_success)]
    last_failure = max(failures, key=lambda j: j.finished_at or j.queued_at, default=None)
    every = tenant.schedule.every(kind)
    if not tenant.enabled:
        freshness = Freshness.PAUSED
    elif last_success is None:
        freshness = Freshness.NEVER
    else:
        freshness = Freshness.FRESH if now - last_success <= every else Freshness.STALE
    waiting = max((j for j in own if j.state is JobState.QUEUED and j.retry_at is not None),
                  key=lambda j: j.due_at, default=None)
    return KindStatus(kind=kind, every=every, last_success=last_success, running=running,
                      last_failure=last_failure, freshness=freshness, waiting=waiting)


def tenant_status(tenant: FleetTenant, jobs: tuple[FleetJob, ...], now: datetime
                  ) -> TenantStatus:
    return TenantStatus(tenant=tenant,
                        kinds=tuple(kind_status(tenant, kind, jobs, now) for kind in JobKind))
