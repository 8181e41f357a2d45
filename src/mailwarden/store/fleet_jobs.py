"""The fleet's runs and jobs in the history database (tables `fleet_runs`, `fleet_jobs`).

A job is one kind (posture, logs) for one tenant in one schedule slot (`due_at`), and that
slot is unique per tenant and kind. Every step is written so that a message delivered
twice, or a worker that restarts, does no harm:

- `enqueue` of a slot that has a job returns that job (created False) and adds nothing;
- `start` moves a job from queued to running only once: a second worker, or the same
  message redelivered, gets None and must not run it;
- `heartbeat` and `finish` change a job only while it runs under the worker that started
  it: a late answer from a worker presumed dead changes nothing (False).

Errors are stored as given, cut to `ERROR_LIMIT` characters: whoever finishes a job must
pass a message without secrets (mailwarden's errors never carry them).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from mailwarden.errors import InputError, StoreError
from mailwarden.model.fleet import FleetJob, JobKind, JobState
from mailwarden.store import tables
from mailwarden.store.history import History
from mailwarden.times import as_utc

ERROR_LIMIT = 2000
_JOBS = tables.fleet_jobs
_RUNS = tables.fleet_runs


def _aware(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def _job(row: Mapping[Any, Any]) -> FleetJob:
    return FleetJob(
        job_id=row["job_id"], run_id=row["run_id"], tenant_id=row["tenant_id"],
        kind=JobKind(row["kind"]), due_at=as_utc(row["due_at"]), state=JobState(row["state"]),
        attempts=row["attempts"], worker_id=row["worker_id"],
        queued_at=as_utc(row["queued_at"]), started_at=_aware(row["started_at"]),
        heartbeat_at=_aware(row["heartbeat_at"]), finished_at=_aware(row["finished_at"]),
        error=row["error"], sent_at=_aware(row.get("sent_at")),
        retry_at=_aware(row.get("retry_at")), history_run_id=row.get("history_run_id"))


class FleetJobs:
    """Runs and jobs of one history database (opened by `FleetStore`)."""

    def __init__(self, history: History) -> None:
        self.history = history

    def new_run(self, *, trigger: str, by: str, at: datetime) -> str:
        """Record a run (what one trigger enqueues); returns its id."""
        run_id = uuid.uuid4().hex
        with self.history._connection("record the fleet run", write=True) as connection:
            connection.execute(insert(_RUNS).values(run_id=run_id, trigger=trigger,
                                                    created_at=at, created_by=by))
        return run_id

    def enqueue(self, *, run_id: str, tenant_id: str, kind: JobKind, due_at: datetime,
                at: datetime) -> tuple[FleetJob, bool]:
        """The job of this tenant, kind and slot: a new one (True), or the one already
        there (False). InputError when the fleet has no such tenant."""
        row = {"job_id": uuid.uuid4().hex, "run_id": run_id, "tenant_id": tenant_id,
               "kind": kind.value, "due_at": due_at, "state": JobState.QUEUED.value,
               "attempts": 0, "queued_at": at, "worker_id": None, "started_at": None,
               "heartbeat_at": None, "finished_at": None, "error": None, "sent_at": None,
               "retry_at": None, "history_run_id": None}
        slot = select(_JOBS).where(_JOBS.c.tenant_id == tenant_id, _JOBS.c.kind == kind.value,
                                   _JOBS.c.due_at == due_at)
        try:
            with self.history._connection("enqueue the job", write=True) as connection:
                known = connection.execute(
                    select(tables.fleet_tenants.c.tenant_id)
                    .where(tables.fleet_tenants.c.tenant_id == tenant_id)).first()
                if known is None:
                    raise InputError(f"tenant {tenant_id} is not in the fleet; "
                                     "`mailwarden fleet add` adds it")
                found = connection.execute(slot).mappings().first()
                if found is not None:  # a redelivery: the slot has its job
                    return _job(found), False
                connection.execute(insert(_JOBS).values(**row))
            return _job(row), True
        except StoreError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
        # Another enqueue of the same slot committed between the read and the insert.
        with self.history._connection("read the job") as connection:
            return _job(connection.execute(slot).mappings().one()), False

    def start(self, job_id: str, *, worker_id: str, at: datetime,
              dead_before: datetime | None = None) -> FleetJob | None:
        """Run the job under `worker_id`: a queued one, or with `dead_before` one that runs
        under a worker whose last heartbeat is older than that (the worker died: its
        message came back). None when it may not run now (another worker has it, it
        finished, or it was cancelled): then it must not be run."""
        runnable = _JOBS.c.state == JobState.QUEUED.value
        if dead_before is not None:
            runnable = or_(runnable, and_(_JOBS.c.state == JobState.RUNNING.value,
                                          _JOBS.c.heartbeat_at < dead_before))
        change = (update(_JOBS)
                  .where(_JOBS.c.job_id == job_id, runnable)
                  .values(state=JobState.RUNNING.value, attempts=_JOBS.c.attempts + 1,
                          worker_id=worker_id, started_at=at, heartbeat_at=at,
                          retry_at=None))
        with self.history._connection("start the job", write=True) as connection:
            if connection.execute(change).rowcount != 1:
                return None
            return _job(connection.execute(
                select(_JOBS).where(_JOBS.c.job_id == job_id)).mappings().one())

    def job(self, job_id: str) -> FleetJob | None:
        """One job; None when there is no such job (its tenant was removed)."""
        with self.history._connection("read the job") as connection:
            row = connection.execute(
                select(_JOBS).where(_JOBS.c.job_id == job_id)).mappings().first()
        return _job(row) if row is not None else None

    def mark_sent(self, job_id: str, *, at: datetime, retry_at: datetime | None = None) -> None:
        """Record that a message naming the job was sent at `at` (to be delivered at
        `retry_at` when it was sent with a delay)."""
        with self.history._connection("record the message", write=True) as connection:
            connection.execute(update(_JOBS).where(_JOBS.c.job_id == job_id)
                               .values(sent_at=at, retry_at=retry_at))

    def put_back(self, job_id: str, *, worker_id: str, at: datetime, retry_at: datetime,
                 error: str) -> bool:
        """Return a running job to the queue, to run again at `retry_at` (throttled, or
        its tenant busy), saying why in `error`; False when it no longer runs under this
        worker."""
        return self._running_change(job_id, worker_id, "put the job back", {
            "state": JobState.QUEUED.value, "worker_id": None, "heartbeat_at": at,
            "retry_at": retry_at, "sent_at": at, "error": error[:ERROR_LIMIT]})

    def waiting_for_tenant(self, tenant_id: str) -> tuple[FleetJob, ...]:
        """The tenant's queued jobs that wait for no delay (`retry_at` unset): those that
        found the tenant busy, or whose message has not come yet."""
        query = (select(_JOBS).where(_JOBS.c.tenant_id == tenant_id,
                                     _JOBS.c.state == JobState.QUEUED.value,
                                     _JOBS.c.retry_at.is_(None))
                 .order_by(_JOBS.c.due_at, _JOBS.c.kind))
        with self.history._connection("read the jobs") as connection:
            return tuple(_job(row) for row in connection.execute(query).mappings())

    def record_run(self, job_id: str, *, worker_id: str, history_run_id: int) -> bool:
        """Note the stored run the job made."""
        return self._running_change(job_id, worker_id, "record the job's run",
                                    {"history_run_id": history_run_id})

    def heartbeat(self, job_id: str, *, worker_id: str, at: datetime) -> bool:
        """Say the job still runs; False when it no longer runs under this worker."""
        return self._running_change(job_id, worker_id, "record the heartbeat",
                                    {"heartbeat_at": at})

    def finish(self, job_id: str, *, worker_id: str, state: JobState, at: datetime,
               error: str | None = None) -> bool:
        """End a running job as succeeded, failed or cancelled; False (nothing changed)
        when it no longer runs under this worker."""
        if not state.finished:
            raise ValueError(f"a job finishes as succeeded, failed or cancelled, not {state}")
        return self._running_change(job_id, worker_id, "finish the job", {
            "state": state.value, "finished_at": at, "heartbeat_at": at, "retry_at": None,
            "error": error[:ERROR_LIMIT] if error else None})

    def cancel(self, job_id: str, *, at: datetime) -> bool:
        """Cancel a queued or running job; False when it had finished already."""
        change = (update(_JOBS)
                  .where(_JOBS.c.job_id == job_id,
                         _JOBS.c.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]))
                  .values(state=JobState.CANCELLED.value, finished_at=at))
        with self.history._connection("cancel the job", write=True) as connection:
            return bool(connection.execute(change).rowcount == 1)

    def jobs(self, tenant_id: str | None = None) -> tuple[FleetJob, ...]:
        """Jobs (of one tenant), oldest slot first."""
        query = select(_JOBS).order_by(_JOBS.c.due_at, _JOBS.c.kind, _JOBS.c.tenant_id)
        if tenant_id is not None:
            query = query.where(_JOBS.c.tenant_id == tenant_id)
        with self.history._connection("read the jobs") as connection:
            return tuple(_job(row) for row in connection.execute(query).mappings())

    def for_status(self) -> tuple[FleetJob, ...]:
        """What `fleet status` needs and no more: the running jobs, those put back to run
        later, and per tenant and kind the latest success and the latest failure (not
        every job ever run)."""
        running = select(_JOBS).where(
            or_(_JOBS.c.state == JobState.RUNNING.value,
                and_(_JOBS.c.state == JobState.QUEUED.value, _JOBS.c.retry_at.is_not(None))))
        found = []
        with self.history._connection("read the jobs") as connection:
            found += [_job(r) for r in connection.execute(running).mappings()]
            for state in (JobState.SUCCEEDED, JobState.FAILED):
                latest = (select(_JOBS.c.tenant_id, _JOBS.c.kind,
                                 func.max(_JOBS.c.finished_at).label("last"))
                          .where(_JOBS.c.state == state.value)
                          .group_by(_JOBS.c.tenant_id, _JOBS.c.kind).subquery())
                query = select(_JOBS).join(latest, and_(
                    _JOBS.c.tenant_id == latest.c.tenant_id, _JOBS.c.kind == latest.c.kind,
                    _JOBS.c.finished_at == latest.c.last)).where(_JOBS.c.state == state.value)
                found += [_job(r) for r in connection.execute(query).mappings()]
        return tuple(found)

    def _running_change(self, job_id: str, worker_id: str, what: str,
                        values: Mapping[str, Any]) -> bool:
        change = (update(_JOBS)
                  .where(_JOBS.c.job_id == job_id, _JOBS.c.state == JobState.RUNNING.value,
                         _JOBS.c.worker_id == worker_id)
                  .values(dict(values)))
        with self.history._connection(what, write=True) as connection:
            return bool(connection.execute(change).rowcount == 1)

    # -- the scheduler's queries (`mailwarden.fleet.schedule`) ----------------------------

    def latest_slots(self) -> dict[tuple[str, JobKind], datetime]:
        """Per tenant and kind, the latest slot that has a job (one grouped query, read
        from the slot's unique index): what the scheduler judges the due slots by."""
        query = (select(_JOBS.c.tenant_id, _JOBS.c.kind, func.max(_JOBS.c.due_at))
                 .group_by(_JOBS.c.tenant_id, _JOBS.c.kind))
        with self.history._connection("read the jobs' slots") as connection:
            return {(tenant_id, JobKind(kind)): as_utc(latest)
                    for tenant_id, kind, latest in connection.execute(query)}

    def resend_due(self, before: datetime) -> tuple[FleetJob, ...]:
        """Queued jobs whose last message (the delayed one's `retry_at`, else `sent_at`,
        else when it was queued) is older than `before`: the message may have been lost."""
        query = (select(_JOBS).where(_JOBS.c.state == JobState.QUEUED.value,
                                     _last_message() < before)
                 .order_by(_JOBS.c.due_at, _JOBS.c.tenant_id, _JOBS.c.kind))
        with self.history._connection("read the queued jobs") as connection:
            return tuple(_job(row) for row in connection.execute(query).mappings())

    def mark_resent(self, job_id: str, *, before: datetime, at: datetime) -> bool:
        """Record a message sent again at `at`, only while the job is still queued with its
        last message older than `before`; False when it changed meanwhile (a worker started
        it or put it back, or another message was sent): then none is to be sent."""
        change = (update(_JOBS)
                  .where(_JOBS.c.job_id == job_id, _JOBS.c.state == JobState.QUEUED.value,
                         _last_message() < before)
                  .values(sent_at=at, retry_at=None))
        with self.history._connection("record the message", write=True) as connection:
            return bool(connection.execute(change).rowcount == 1)

    def reap(self, stale_before: datetime, at: datetime) -> tuple[FleetJob, ...]:
        """Fail every running job whose last heartbeat is older than `stale_before` (its
        worker died or hangs), saying so in its error; returns those reaped. Each job
        changes only while it still runs under that worker with that old heartbeat, so a
        heartbeat or a takeover that lands meanwhile keeps it running."""
        stale = select(_JOBS).where(_JOBS.c.state == JobState.RUNNING.value,
                                    _JOBS.c.heartbeat_at < stale_before)
        reaped: list[FleetJob] = []
        with self.history._connection("reap the jobs", write=True) as connection:
            for row in connection.execute(stale).mappings().all():
                job = _job(row)
                beat = job.heartbeat_at or job.started_at or job.queued_at
                error = (f"worker {job.worker_id or '?'} stopped heartbeating at "
                         f"{beat.isoformat(timespec='seconds')}; reaped")
                change = (update(_JOBS)
                          .where(_JOBS.c.job_id == job.job_id,
                                 _JOBS.c.state == JobState.RUNNING.value,
                                 _JOBS.c.worker_id == job.worker_id,
                                 _JOBS.c.heartbeat_at < stale_before)
                          .values(state=JobState.FAILED.value, finished_at=at,
                                  retry_at=None, error=error))
                if connection.execute(change).rowcount == 1:
                    reaped.append(replace(job, state=JobState.FAILED, finished_at=at,
                                          retry_at=None, error=error))
        return tuple(reaped)

    def cancel_run(self, run_id: str, *, at: datetime) -> tuple[FleetJob, ...] | None:
        """Cancel every queued or running job of a fleet run; returns those cancelled (as
        they were before: a running one's worker stops at its next heartbeat), None when
        there is no such run."""
        unfinished = select(_JOBS).where(
            _JOBS.c.run_id == run_id,
            _JOBS.c.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]))
        cancelled: list[FleetJob] = []
        with self.history._connection("cancel the run", write=True) as connection:
            known = connection.execute(
                select(_RUNS.c.run_id).where(_RUNS.c.run_id == run_id)).first()
            if known is None:
                return None
            for row in connection.execute(unfinished).mappings().all():
                change = (update(_JOBS)
                          .where(_JOBS.c.job_id == row["job_id"],
                                 _JOBS.c.state.in_([JobState.QUEUED.value,
                                                    JobState.RUNNING.value]))
                          .values(state=JobState.CANCELLED.value, finished_at=at))
                if connection.execute(change).rowcount == 1:
                    cancelled.append(_job(row))
        return tuple(cancelled)

    def discard_run(self, run_id: str) -> bool:
        """Delete a run that has no job (every slot it was to fill had one already); False,
        and nothing deleted, when it has jobs."""
        has_jobs = select(_JOBS.c.job_id).where(_JOBS.c.run_id == run_id).exists()
        change = delete(_RUNS).where(_RUNS.c.run_id == run_id, ~has_jobs)
        with self.history._connection("discard the run", write=True) as connection:
            return bool(connection.execute(change).rowcount == 1)


def _last_message() -> ColumnElement[datetime]:
    """When the last message naming a job was due to be delivered."""
    return func.coalesce(_JOBS.c.retry_at, _JOBS.c.sent_at, _JOBS.c.queued_at)
