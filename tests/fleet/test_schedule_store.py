"""What the scheduler, the reaper and `fleet cancel` ask of the fleet's jobs, on SQLite and
on PostgreSQL (when MAILWARDEN_TEST_POSTGRES_URL names a server): the latest slot per tenant
and kind in one query, re-sends claimed once, reaping that spares a job whose heartbeat
lands meanwhile, and a run cancelled as a whole."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from mailwarden.model.fleet import Credential, FleetTenant, JobKind, JobState
from mailwarden.store.fleet import FleetStore
from tests.support.postgres_schema import postgres_schema_url

T0 = datetime(2026, 12, 1, 6, tzinfo=UTC)
A, B = "a.onmicrosoft.com", "b.onmicrosoft.com"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "history.db")
        return
    yield from postgres_schema_url("mw_test_")


@pytest.fixture
def store(db_url: str) -> Iterator[FleetStore]:
    with FleetStore.open(db_url) as opened:
        for tenant in (A, B):
            opened.add(FleetTenant(tenant_id=tenant, credential=Credential(
                client_id="app", secret_env="FLEET_SECRET")), at=T0)
        yield opened


def _job(store: FleetStore, run: str, tenant: str, kind: JobKind, due: datetime) -> str:
    job, created = store.jobs.enqueue(run_id=run, tenant_id=tenant, kind=kind, due_at=due,
                                      at=due)
    assert created
    return job.job_id


def test_the_latest_slot_of_each_tenant_and_kind_in_one_query(store: FleetStore) -> None:
    assert store.jobs.latest_slots() == {}
    run = store.jobs.new_run(trigger="schedule", by="test", at=T0)
    for hours in (0, 24, 48):
        _job(store, run, A, JobKind.POSTURE, T0 + timedelta(hours=hours))
    _job(store, run, A, JobKind.LOGS, T0 + timedelta(minutes=15))
    _job(store, run, B, JobKind.LOGS, T0)
    assert store.jobs.latest_slots() == {
        (A, JobKind.POSTURE): T0 + timedelta(hours=48),
        (A, JobKind.LOGS): T0 + timedelta(minutes=15),
        (B, JobKind.LOGS): T0,
    }


def test_a_resend_is_due_after_the_last_message_and_claimed_once(store: FleetStore) -> None:
    run = store.jobs.new_run(trigger="schedule", by="test", at=T0)
    never_sent = _job(store, run, A, JobKind.POSTURE, T0)
    sent = _job(store, run, A, JobKind.LOGS, T0)
    store.jobs.mark_sent(sent, at=T0 + timedelta(minutes=20))
    delayed = _job(store, run, B, JobKind.LOGS, T0)
    store.jobs.mark_sent(delayed, at=T0, retry_at=T0 + timedelta(minutes=40))
    running = _job(store, run, B, JobKind.POSTURE, T0)
    assert store.jobs.start(running, worker_id="w", at=T0) is not None

    def due(minutes: int) -> set[str]:
        return {j.job_id for j in store.jobs.resend_due(T0 + timedelta(minutes=minutes))}

    assert due(0) == set()  # a last message at T0 is not older than T0
    assert due(1) == {never_sent}
    assert due(21) == {never_sent, sent}
    assert due(41) == {never_sent, sent, delayed}  # never a running job
    before = T0 + timedelta(minutes=41)
    later = T0 + timedelta(minutes=45)
    assert store.jobs.mark_resent(sent, before=before, at=later)
    assert not store.jobs.mark_resent(sent, before=before, at=later)  # claimed once
    assert not store.jobs.mark_resent(running, before=before, at=later)
    job = store.jobs.job(sent)
    assert job is not None and job.sent_at == later and job.retry_at is None
    assert due(41) == {never_sent, delayed}


def test_reaping_fails_silent_jobs_and_leaves_a_fresh_heartbeat_alone(
        store: FleetStore) -> None:
    run = store.jobs.new_run(trigger="schedule", by="test", at=T0)
    silent = _job(store, run, A, JobKind.POSTURE, T0)
    beating = _job(store, run, A, JobKind.LOGS, T0)
    queued = _job(store, run, B, JobKind.LOGS, T0)
    assert store.jobs.start(silent, worker_id="w1", at=T0 + timedelta(minutes=1))
    assert store.jobs.start(beating, worker_id="w2", at=T0)
    now = T0 + timedelta(minutes=20)
    assert store.jobs.heartbeat(beating, worker_id="w2", at=now - timedelta(seconds=15))
    (reaped,) = store.jobs.reap(now - timedelta(minutes=10), now)
    assert reaped.job_id == silent and reaped.state is JobState.FAILED
    assert reaped.error == "worker w1 stopped heartbeating at 2026-12-01T06:01:00+00:00; reaped"
    stored = {j.job_id: j for j in store.jobs.jobs()}
    assert stored[silent].state is JobState.FAILED and stored[silent].finished_at == now
    assert stored[silent].error == reaped.error
    assert stored[beating].state is JobState.RUNNING
    assert stored[queued].state is JobState.QUEUED
    assert store.jobs.reap(now - timedelta(minutes=10), now) == ()
    # The reaped job's worker, answering late, changes nothing.
    assert not store.jobs.heartbeat(silent, worker_id="w1", at=now)
    assert not store.jobs.finish(silent, worker_id="w1", state=JobState.SUCCEEDED, at=now)


def test_a_heartbeat_landing_while_the_reaper_runs_keeps_the_job(store: FleetStore) -> None:
    run = store.jobs.new_run(trigger="schedule", by="test", at=T0)
    late = _job(store, run, A, JobKind.POSTURE, T0)
    dead = _job(store, run, B, JobKind.POSTURE, T0)
    assert store.jobs.start(late, worker_id="w1", at=T0)
    assert store.jobs.start(dead, worker_id="w2", at=T0)
    now = T0 + timedelta(minutes=30)
    engine = store.history.engine
    fired: list[str] = []
    beats: list[bool] = []

    def heartbeat_after_the_reapers_read(conn: Any, cursor: Any, statement: str,
                                         *_: Any) -> None:
        # The reaper has read both jobs as silent; w1's heartbeat arrives, on another
        # connection, before the reaper changes the first of them.
        if not fired and statement.lstrip().upper().startswith("UPDATE"):
            fired.append(statement)
            beats.append(store.jobs.heartbeat(late, worker_id="w1", at=now))

    event.listen(engine, "before_cursor_execute", heartbeat_after_the_reapers_read)
    try:
        reaped = store.jobs.reap(now - timedelta(minutes=10), now)
    finally:
        event.remove(engine, "before_cursor_execute", heartbeat_after_the_reapers_read)
    assert beats == [True]
    assert [j.job_id for j in reaped] == [dead]
    job = store.jobs.job(late)
    assert job is not None and job.state is JobState.RUNNING and job.heartbeat_at == now


def test_cancelling_a_run_cancels_its_unfinished_jobs(store: FleetStore) -> None:
    run = store.jobs.new_run(trigger="schedule", by="test", at=T0)
    other = store.jobs.new_run(trigger="now", by="test", at=T0)
    queued = _job(store, run, A, JobKind.POSTURE, T0)
    running = _job(store, run, A, JobKind.LOGS, T0)
    done = _job(store, run, B, JobKind.LOGS, T0)
    elsewhere = _job(store, other, B, JobKind.POSTURE, T0)
    assert store.jobs.start(running, worker_id="w1", at=T0)
    assert store.jobs.start(done, worker_id="w2", at=T0)
    assert store.jobs.finish(done, worker_id="w2", state=JobState.SUCCEEDED, at=T0)
    later = T0 + timedelta(minutes=5)
    cancelled = store.jobs.cancel_run(run, at=later)
    assert cancelled is not None
    assert {(j.job_id, j.state) for j in cancelled} == {(queued, JobState.QUEUED),
                                                        (running, JobState.RUNNING)}
    stored = {j.job_id: j for j in store.jobs.jobs()}
    assert stored[queued].state is stored[running].state is JobState.CANCELLED
    assert stored[running].finished_at == later
    assert stored[done].state is JobState.SUCCEEDED
    assert stored[elsewhere].state is JobState.QUEUED
    # The running job's worker learns it at its next heartbeat.
    assert not store.jobs.heartbeat(running, worker_id="w1", at=later)
    assert store.jobs.cancel_run(run, at=later) == ()
    assert store.jobs.cancel_run("no-such-run", at=later) is None


def test_a_run_is_discarded_only_when_it_has_no_job(store: FleetStore) -> None:
    empty = store.jobs.new_run(trigger="schedule", by="test", at=T0)
    used = store.jobs.new_run(trigger="schedule", by="test", at=T0)
    _job(store, used, A, JobKind.LOGS, T0)
    assert store.jobs.discard_run(empty)
    assert not store.jobs.discard_run(used)
    assert store.jobs.cancel_run(empty, at=T0) is None
    assert store.jobs.cancel_run(used, at=T0) is not None
