"""Enqueueing the fleet's jobs: each job into the history database (one per tenant, kind and
schedule slot, `store.fleet_jobs`) and a message naming it onto the Redis queue that the
workers read (Dramatiq's Redis broker).

The message carries the job id, with its tenant and run; a worker reads the rest from the
store and starts the job there first, which succeeds once (`FleetJobs.start`). So a
message is sent again for a job that is still queued, which repairs a send that failed
after the job was stored, and a duplicate does no harm; a job that runs or has finished
gets none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dramatiq import Broker, Message

from mailwarden.model.fleet import FleetJob, FleetTenant, JobKind, JobState
from mailwarden.store.fleet import FleetStore

#: The queue the fleet's workers read, and the actor its messages name.
QUEUE = "mailwarden-fleet"
ACTOR = "run_fleet_job"


@dataclass(frozen=True, slots=True, kw_only=True)
class Enqueued:
    run_id: str
    sent: tuple[FleetJob, ...]  # queued jobs, a message sent for each
    busy: tuple[FleetJob, ...]  # the slot's job runs or has finished: nothing sent
    paused: tuple[str, ...]  # disabled tenants, skipped


def slot_of(now: datetime) -> datetime:
    """The slot `--now` names: the current minute, so that asking twice in one minute
    names the same jobs."""
    return now.replace(second=0, microsecond=0)


def job_message(job: FleetJob) -> Message[Any]:
    """The message naming a job, as the workers' actor takes it: the job's id, and its
    tenant and fleet run, which the worker checks against the store (and logs and
    metrics can show without reading it)."""
    return Message(queue_name=QUEUE, actor_name=ACTOR, args=(job.job_id,),
                   kwargs={"tenant_id": job.tenant_id, "run_id": job.run_id}, options={})


def enqueue_now(store: FleetStore, broker: Broker, *, tenants: Sequence[str] = (),
                kinds: Sequence[JobKind] = tuple(JobKind), by: str,
                now: datetime) -> Enqueued:
    """Enqueue `kinds` for the named tenants (every enabled one when none is named; a
    disabled tenant runs only when named). InputError for a tenant not in the fleet,
    before anything is enqueued."""
    named = tuple(store.tenant(name) for name in tenants)
    chosen: tuple[FleetTenant, ...] = named or store.tenants()
    paused = tuple(t.tenant_id for t in chosen if not t.enabled and not named)
    run_id = store.jobs.new_run(trigger="now", by=by, at=now)
    sent: list[FleetJob] = []
    busy: list[FleetJob] = []
    for tenant in chosen:
        if tenant.tenant_id in paused:
            continue
        for kind in kinds:
            job, _ = store.jobs.enqueue(run_id=run_id, tenant_id=tenant.tenant_id, kind=kind,
                                        due_at=slot_of(now), at=now)
            if job.state is JobState.QUEUED:
                broker.enqueue(job_message(job))
                store.jobs.mark_sent(job.job_id, at=now)
                sent.append(job)
            else:
                busy.append(job)
    return Enqueued(run_id=run_id, sent=tuple(sent), busy=tuple(busy), paused=paused)
