"""The fleet's tenants, runs and jobs in the history database, on SQLite and PostgreSQL:
credentials kept by reference only, and every job step safe to repeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailwarden.assess import assess
from mailwarden.errors import InputError
from mailwarden.model.fleet import (
    Credential,
    FleetTenant,
    Freshness,
    JobKind,
    JobState,
    Schedule,
    tenant_status,
)
from mailwarden.report.build import make_run
from mailwarden.store import tables
from mailwarden.store.fleet import FleetStore
from mailwarden.store.history import History
from mailwarden.synth import generate
from mailwarden.tenant.snapshot import snapshot_from_recorded

T0 = datetime(2026, 12, 1, 6, tzinfo=UTC)
TENANT = "8f2e5b1c-1111-4c3b-9e21-3a5b7c9d0e1f"
OTHER = "contoso.onmicrosoft.com"


def _tenant(tenant_id: str = TENANT, **changes: object) -> FleetTenant:
    values: dict[str, object] = {
        "tenant_id": tenant_id, "display_name": "Contoso",
        "credential": Credential(client_id="app-1", secret_env="CONTOSO_SECRET"),
        "schedule": Schedule(posture_every=timedelta(hours=12),
                             logs_every=timedelta(minutes=5)),
        "routing_path": Path("/etc/mailwarden/contoso/routing.yaml"),
    }
    values.update(changes)
    return FleetTenant(**values)  # type: ignore[arg-type]


def test_tenants_are_added_listed_changed_and_removed(db_url: str) -> None:
    certificate = Credential(client_id="fleet-app", certificate_path=Path("/keys/fleet.pem"),
                             multi_tenant=True)
    with FleetStore.open(db_url) as store:
        store.add(_tenant(), at=T0)
        store.add(_tenant(OTHER, credential=certificate, display_name=None,
                          custodians_path=Path("/c.csv"), enabled=False), at=T0)
        assert [t.tenant_id for t in store.tenants()] == [TENANT, OTHER]
        first = store.tenant(TENANT.upper())
        assert first.credential == Credential(client_id="app-1", secret_env="CONTOSO_SECRET")
        assert first.schedule.logs_every == timedelta(minutes=5)
        assert first.routing_path == Path("/etc/mailwarden/contoso/routing.yaml")
        assert first.created_at == T0 and first.enabled
        other = store.tenant(OTHER)
        assert other.credential == certificate and not other.enabled
        with pytest.raises(InputError, match="already in the fleet"):
            store.add(_tenant(), at=T0)
        later = T0 + timedelta(days=1)
        changed = store.add(_tenant(display_name="Contoso Ltd"), at=later,
                            replace_existing=True)
        assert changed.created_at == T0 and changed.updated_at == later
        assert store.tenant(TENANT).display_name == "Contoso Ltd"
        assert store.remove(OTHER).tenant_id == OTHER
        with pytest.raises(InputError, match="not in the fleet"):
            store.remove(OTHER)
        assert [t.tenant_id for t in store.tenants()] == [TENANT]


def test_a_credential_is_kept_by_reference_never_its_secret(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTOSO_SECRET", "Xy7~secret.value-that-must-not-be-stored")
    with FleetStore.open(db_url) as store:
        store.add(_tenant(), at=T0)
        with store.history._connection("read") as connection:
            row = connection.execute(select(tables.fleet_tenants)).mappings().one()
    assert row["secret_env"] == "CONTOSO_SECRET"
    assert "secret.value" not in repr(dict(row))
    with pytest.raises(ValueError, match="not an environment variable"):
        Credential(client_id="app", secret_env="Xy7~secret.value")
    with pytest.raises(ValueError, match="certificate path or a secret"):
        Credential(client_id="app")


def test_a_slot_has_one_job_however_often_it_is_enqueued(db_url: str) -> None:
    with FleetStore.open(db_url) as store:
        store.add(_tenant(), at=T0)
        run = store.jobs.new_run(trigger="now", by="test", at=T0)
        job, created = store.jobs.enqueue(run_id=run, tenant_id=TENANT, kind=JobKind.POSTURE,
                                          due_at=T0, at=T0)
        again, created_again = store.jobs.enqueue(run_id=run, tenant_id=TENANT,
                                                  kind=JobKind.POSTURE, due_at=T0, at=T0)
        logs, logs_created = store.jobs.enqueue(run_id=run, tenant_id=TENANT,
                                                kind=JobKind.LOGS, due_at=T0, at=T0)
        assert created and not created_again and logs_created
        assert again.job_id == job.job_id and logs.job_id != job.job_id
        assert len(store.jobs.jobs(TENANT)) == 2
        with pytest.raises(InputError, match="not in the fleet"):
            store.jobs.enqueue(run_id=run, tenant_id=OTHER, kind=JobKind.LOGS, due_at=T0,
                               at=T0)


def test_a_job_runs_once_and_only_its_worker_ends_it(db_url: str) -> None:
    with FleetStore.open(db_url) as store:
        store.add(_tenant(), at=T0)
        run = store.jobs.new_run(trigger="schedule", by="scheduler", at=T0)
        job, _ = store.jobs.enqueue(run_id=run, tenant_id=TENANT, kind=JobKind.POSTURE,
                                    due_at=T0, at=T0)
        started = store.jobs.start(job.job_id, worker_id="w1", at=T0 + timedelta(seconds=1))
        assert started is not None and started.state is JobState.RUNNING
        assert started.attempts == 1 and started.worker_id == "w1"
        assert store.jobs.start(job.job_id, worker_id="w2", at=T0) is None  # redelivered
        with pytest.raises(InputError, match="is running"):
            store.remove(TENANT)
        assert not store.jobs.heartbeat(job.job_id, worker_id="w2", at=T0)
        assert store.jobs.heartbeat(job.job_id, worker_id="w1", at=T0 + timedelta(minutes=1))
        assert not store.jobs.finish(job.job_id, worker_id="w2", state=JobState.SUCCEEDED,
                                     at=T0)
        assert store.jobs.finish(job.job_id, worker_id="w1", state=JobState.FAILED,
                                 at=T0 + timedelta(minutes=2), error="x" * 5000)
        assert not store.jobs.finish(job.job_id, worker_id="w1", state=JobState.SUCCEEDED,
                                     at=T0 + timedelta(minutes=3))
        (stored,) = store.jobs.jobs(TENANT)
        assert stored.state is JobState.FAILED and stored.error == "x" * 2000
        assert stored.heartbeat_at == T0 + timedelta(minutes=2)
        assert not store.jobs.cancel(job.job_id, at=T0)
        with pytest.raises(ValueError, match="finishes as"):
            store.jobs.finish(job.job_id, worker_id="w1", state=JobState.RUNNING, at=T0)
        store.remove(TENANT)
        assert store.jobs.jobs() == ()


def _done(store: FleetStore, run: str, kind: JobKind, due: datetime, state: JobState,
          error: str | None = None) -> None:
    job, _ = store.jobs.enqueue(run_id=run, tenant_id=TENANT, kind=kind, due_at=due, at=due)
    assert store.jobs.start(job.job_id, worker_id="w", at=due) is not None
    assert store.jobs.finish(job.job_id, worker_id="w", state=state,
                             at=due + timedelta(minutes=1), error=error)


def test_status_shows_the_last_success_what_runs_and_why_it_fails(db_url: str) -> None:
    with FleetStore.open(db_url) as store:
        store.add(_tenant(), at=T0)
        run = store.jobs.new_run(trigger="schedule", by="scheduler", at=T0)
        for hours in (0, 12):
            _done(store, run, JobKind.POSTURE, T0 + timedelta(hours=hours), JobState.SUCCEEDED)
        _done(store, run, JobKind.LOGS, T0, JobState.SUCCEEDED)
        _done(store, run, JobKind.LOGS, T0 + timedelta(minutes=5), JobState.FAILED,
              "Exchange refused the app (403)")
        pending, _ = store.jobs.enqueue(run_id=run, tenant_id=TENANT, kind=JobKind.LOGS,
                                        due_at=T0 + timedelta(minutes=10), at=T0)
        store.jobs.start(pending.job_id, worker_id="w9", at=T0 + timedelta(minutes=10))
        jobs = store.jobs.for_status()
        assert len(jobs) == 4  # not every job: the latest of each state, and the running
        now = T0 + timedelta(hours=12, minutes=30)
        posture, logs = tenant_status(store.tenant(TENANT), jobs, now).kinds
    assert posture.last_success == T0 + timedelta(hours=12, minutes=1)
    assert posture.freshness is Freshness.FRESH and posture.last_failure is None
    assert logs.last_success == T0 + timedelta(minutes=1)
    assert logs.freshness is Freshness.STALE
    assert logs.last_failure is not None
    assert logs.last_failure.error == "Exchange refused the app (403)"
    assert logs.running is not None and logs.running.worker_id == "w9"
    paused = tenant_status(_tenant(enabled=False), jobs, now).kinds[0]
    assert paused.freshness is Freshness.PAUSED
    never = tenant_status(_tenant(), (), now).kinds[0]
    assert never.freshness is Freshness.NEVER and never.last_success is None


def test_a_dead_workers_job_is_taken_over_and_a_throttled_one_waits_in_view(
        db_url: str) -> None:
    with FleetStore.open(db_url) as store:
        store.add(_tenant(), at=T0)
        run = store.jobs.new_run(trigger="now", by="ops", at=T0)
        job, _ = store.jobs.enqueue(run_id=run, tenant_id=TENANT, kind=JobKind.POSTURE,
                                    due_at=T0, at=T0)
        assert store.jobs.start(job.job_id, worker_id="dead", at=T0) is not None
        # Its heartbeat is not old enough yet: nobody else may run it.
        assert store.jobs.start(job.job_id, worker_id="w2", at=T0 + timedelta(seconds=30),
                                dead_before=T0 - timedelta(seconds=1)) is None
        taken = store.jobs.start(job.job_id, worker_id="w2", at=T0 + timedelta(minutes=2),
                                 dead_before=T0 + timedelta(minutes=1))
        assert taken is not None and taken.worker_id == "w2" and taken.attempts == 2
        assert not store.jobs.heartbeat(job.job_id, worker_id="dead", at=T0)
        # Throttled to the end: back in the queue, to run again later, saying why.
        retry = T0 + timedelta(minutes=5)
        assert store.jobs.put_back(job.job_id, worker_id="w2", at=T0 + timedelta(minutes=3),
                                   retry_at=retry, error="Graph kept throttling (429)")
        assert not store.jobs.put_back(job.job_id, worker_id="w2", at=T0, retry_at=retry,
                                       error="twice")
        back = store.jobs.job(job.job_id)
        assert back is not None and back.state is JobState.QUEUED
        assert back.worker_id is None and back.retry_at == retry and back.sent_at is not None
        assert store.jobs.waiting_for_tenant(TENANT) == ()  # it waits for its delay
        posture, _ = tenant_status(store.tenant(TENANT), store.jobs.for_status(),
                                   T0 + timedelta(minutes=4)).kinds
        assert posture.waiting is not None
        assert posture.waiting.error == "Graph kept throttling (429)"
        again = store.jobs.start(job.job_id, worker_id="w3", at=retry)
        assert again is not None and again.attempts == 3 and again.retry_at is None
        assert store.jobs.record_run(job.job_id, worker_id="w3", history_run_id=42)
        assert store.jobs.finish(job.job_id, worker_id="w3", state=JobState.SUCCEEDED,
                                 at=retry + timedelta(minutes=1))
        done = store.jobs.job(job.job_id)
        assert done is not None and done.history_run_id == 42 and done.error is None
        assert store.jobs.job("no-such-job") is None


def test_a_job_stores_its_run_once(db_url: str) -> None:
    snapshot = snapshot_from_recorded(generate(60, seed=5).recorded)
    run = make_run(assess(snapshot), generated_at=T0, snapshot=snapshot)
    with History.open(db_url) as history:
        first = history.save(run, job_key="job-1")
        assert history.save(run, job_key="job-1") == first
        assert history.run_of_job("job-1") == first
        other = history.save(run)  # without a key, every save is a run
        assert other != first and history.run_of_job("job-2") is None
        assert len(history.runs()) == 2
