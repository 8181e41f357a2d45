"""Running fleet jobs (`fleet.worker.JobRunner`) against tenants of the multi-tenant emulator,
with the store in SQLite and the leases, limits and pauses in the test Redis: a job runs
and stores its run once however often its message comes, a job whose worker died is taken
over, a busy tenant defers its jobs and hands them on, throttling puts a job back with a
delay (and fails it after its last attempt), a missing secret fails it saying which
variable, and a job cancelled while it runs stops at its next phase."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import trustme

from mailwarden.emulator import (
    DEFAULT_CLIENT_SECRET,
    EmulatorConfig,
    TenantSpec,
    create_tenants_app,
    serve_in_thread,
)
from mailwarden.emulator.config import TargetedFault
from mailwarden.emulator.tenancy import tenancy_of
from mailwarden.errors import RetriesExhaustedError
from mailwarden.fleet.lease import Lease
from mailwarden.fleet.limits import ScriptedRedisBackend, TenantLimiter, TenantLimits
from mailwarden.fleet.shared import RedisTenantSlots
from mailwarden.fleet.worker import JobRunner, Outcome, WorkerOptions
from mailwarden.m365.http import Service
from mailwarden.model.fleet import Credential, FleetJob, FleetTenant, JobKind, JobState
from mailwarden.settings import RetryPolicy, Settings
from mailwarden.store.fleet import FleetStore
from mailwarden.store.history import History
from mailwarden.synth import generate, tenant_identity
from tests.fleet.redis_support import own_namespace, redis_url

SEEDS = (31, 32)
TENANTS = tuple(tenant_identity(seed).tenant_id for seed in SEEDS)
SLOT = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)


@functools.cache
def _recorded(seed: int) -> Any:
    return generate(60, seed=seed).recorded


@dataclass
class Fleet:
    store: FleetStore
    db: str
    runner: JobRunner
    sent: list[tuple[str, float]]
    redis: redis.Redis
    namespace: str
    served: Any
    runners: list[JobRunner]

    def job(self, tenant: str, kind: JobKind = JobKind.POSTURE) -> FleetJob:
        run = self.store.jobs.new_run(trigger="now", by="test", at=SLOT)
        job, _ = self.store.jobs.enqueue(run_id=run, tenant_id=tenant, kind=kind,
                                         due_at=SLOT, at=SLOT)
        return job

    def runs(self, tenant: str) -> int:
        with History.open(self.db) as history:
            return len(history.runs(tenant))

    def with_options(self, **changes: Any) -> JobRunner:
        runner = JobRunner(replace(self.runner.options, **changes), store=self.store,
                           redis_client=self.redis, limiter=self.runner.limiter,
                           send_later=self.runner.send_later, env=self.runner.env)
        self.runners.append(runner)
        return runner


def _fleet(tmp_path: Path, config: EmulatorConfig, secret_env: str = "FLEET_TEST_SECRET",
           certificate: Path | None = None, **options: Any) -> Iterator[Fleet]:
    specs = [TenantSpec(tenant_id=tenant, build=functools.partial(_recorded, seed))
             for seed, tenant in zip(SEEDS, TENANTS, strict=True)]
    client = redis.Redis.from_url(redis_url())
    with serve_in_thread(create_tenants_app(specs, config=config)) as served:
        for namespace in own_namespace(client):
            db = str(tmp_path / "history.db")
            store = FleetStore.open(db)
            for tenant in TENANTS:
                credential = (Credential(client_id="fleet-app", certificate_path=certificate,
                                         multi_tenant=True) if certificate is not None
                              else Credential(client_id="fleet-app", secret_env=secret_env,
                                              multi_tenant=True))
                store.add(FleetTenant(tenant_id=tenant, credential=credential), at=SLOT)
            settings = Settings(login_url=served.base_url, graph_url=served.base_url,
                                exo_url=served.base_url, ca_bundle=served.ca_file,
                                retry=RetryPolicy(max_attempts=2, backoff_base=0.01,
                                                  backoff_max=0.05, retry_after_max=0.2))
            sent: list[tuple[str, float]] = []
            limiter = TenantLimiter(ScriptedRedisBackend(client), TenantLimits(exchange=3),
                                    key_prefix=f"{namespace}:limits")
            runner = JobRunner(
                WorkerOptions(db_url=db, state_root=tmp_path / "state", settings=settings,
                              key_prefix=namespace, **options),
                store=store, redis_client=client, limiter=limiter,
                send_later=functools.partial(_record, sent),
                env={"FLEET_TEST_SECRET": DEFAULT_CLIENT_SECRET})
            runners = [runner]
            try:
                yield Fleet(store=store, db=db, runner=runner, sent=sent, redis=client,
                            namespace=namespace, served=served, runners=runners)
            finally:
                for each in runners:
                    each.close()
                store.close()
    client.close()


def _record(sent: list[tuple[str, float]], job: FleetJob, delay: float) -> None:
    sent.append((job.job_id, delay))


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    yield from _fleet(tmp_path, EmulatorConfig())


def test_a_job_runs_once_and_stores_one_run_however_often_its_message_comes(
        fleet: Fleet) -> None:
    posture = fleet.job(TENANTS[0])
    done = fleet.runner.run(posture.job_id)
    assert done.outcome is Outcome.SUCCEEDED, done.detail
    assert done.report is not None and done.report.posture_refreshed
    again = fleet.runner.run(posture.job_id)
    assert (again.outcome, again.detail) == (Outcome.DROPPED, "already succeeded")
    stored = fleet.store.jobs.job(posture.job_id)
    assert stored is not None and stored.state is JobState.SUCCEEDED
    assert stored.history_run_id == done.history_run_id and stored.attempts == 1
    # The logs job of the same slot finds the posture fresh: no second collection, and
    # nothing changed, so no second run.
    logs = fleet.runner.run(fleet.job(TENANTS[0], JobKind.LOGS).job_id)
    assert logs.outcome is Outcome.SUCCEEDED and logs.report is not None
    assert not logs.report.posture_refreshed and not logs.report.run_stored
    assert fleet.runs(TENANTS[0]) == 1
    assert fleet.runs(TENANTS[1]) == 0  # the other tenant was not touched
    assert fleet.sent == []


def test_a_job_whose_worker_died_is_taken_over_and_one_under_a_live_worker_is_not(
        fleet: Fleet) -> None:
    now = datetime.now(UTC)
    dead = fleet.job(TENANTS[0])
    assert fleet.store.jobs.start(dead.job_id, worker_id="gone/1/t",
                                  at=now - timedelta(minutes=5)) is not None
    taken = fleet.runner.run(dead.job_id)
    assert taken.outcome is Outcome.SUCCEEDED, taken.detail
    job = fleet.store.jobs.job(dead.job_id)
    assert job is not None and job.attempts == 2 and job.worker_id != "gone/1/t"
    # A late word from the dead worker changes nothing.
    assert not fleet.store.jobs.finish(dead.job_id, worker_id="gone/1/t",
                                       state=JobState.FAILED, at=now)

    alive = fleet.job(TENANTS[1])
    assert fleet.store.jobs.start(alive.job_id, worker_id="alive/1/t", at=now) is not None
    waiting = fleet.runner.run(alive.job_id)
    assert waiting.outcome is Outcome.DEFERRED and "alive/1/t" in waiting.detail
    # Its message comes back once the worker would count as dead, in case it dies.
    assert fleet.sent == [(alive.job_id, 60.0)]
    assert fleet.runs(TENANTS[1]) == 0


def test_a_busy_tenant_defers_the_job_and_the_holder_hands_it_on(fleet: Fleet) -> None:
    posture, logs = fleet.job(TENANTS[0]), fleet.job(TENANTS[0], JobKind.LOGS)
    other = Lease(fleet.redis, f"{fleet.namespace}:tenant:{TENANTS[0]}", ttl_ms=5000,
                  holder="other/9/t")
    assert other.acquire()
    deferred = fleet.runner.run(logs.job_id)
    assert deferred.outcome is Outcome.DEFERRED and "other/9/t" in deferred.detail
    assert fleet.sent == [(logs.job_id, 30.0)]  # a delayed copy, in case
    assert fleet.store.jobs.job(logs.job_id).state is JobState.QUEUED  # type: ignore[union-attr]
    other.release()
    assert fleet.runner.run(posture.job_id).outcome is Outcome.SUCCEEDED
    # Done with the tenant, the worker sends the waiting job's message at once.
    assert fleet.sent[-1] == (logs.job_id, 0)
    assert fleet.runner.run(logs.job_id).outcome is Outcome.SUCCEEDED


@pytest.fixture
def throttled(tmp_path: Path) -> Iterator[Fleet]:
    # Every log read is throttled (503 with Retry-After) however often it is retried.
    logs = TargetedFault(pattern=r"graph:/v1\.0/(auditLogs|security/auditLog)", times=10**6,
                         status=503)
    yield from _fleet(tmp_path, EmulatorConfig(targeted_faults=(logs,),
                                               fault_retry_after=0.05), max_attempts=2)


def test_throttling_puts_the_job_back_with_a_delay_then_fails_it_on_its_last_attempt(
        throttled: Fleet) -> None:
    job = throttled.job(TENANTS[0], JobKind.LOGS)
    first = throttled.runner.run(job.job_id)
    assert first.outcome is Outcome.PUT_BACK, first.detail
    assert throttled.sent == [(job.job_id, 60.0)]  # one delayed message, no loop
    back = throttled.store.jobs.job(job.job_id)
    assert back is not None and back.state is JobState.QUEUED and back.retry_at is not None
    assert back.error is not None and "no log could be read" in back.error
    # A copy that comes before the delay is up is dropped.
    early = throttled.runner.run(job.job_id)
    assert early.outcome is Outcome.DROPPED and "early copy" in early.detail
    # When the delay is up, its second (last) attempt fails the job for good.
    late = throttled.runner
    late.clock = lambda: datetime.now(UTC) + timedelta(minutes=2)
    second = late.run(job.job_id)
    assert second.outcome is Outcome.FAILED
    failed = throttled.store.jobs.job(job.job_id)
    assert failed is not None and failed.state is JobState.FAILED and failed.attempts == 2
    assert throttled.sent == [(job.job_id, 60.0)]
    assert throttled.runs(TENANTS[0]) == 0


@pytest.fixture
def no_secret(tmp_path: Path) -> Iterator[Fleet]:
    yield from _fleet(tmp_path, EmulatorConfig(), secret_env="FLEET_UNSET_SECRET")


def test_a_secret_missing_on_the_worker_fails_the_job_naming_the_variable(
        no_secret: Fleet) -> None:
    job = no_secret.job(TENANTS[0])
    done = no_secret.runner.run(job.job_id)
    assert done.outcome is Outcome.FAILED
    assert "FLEET_UNSET_SECRET is not set on this worker" in done.detail
    stored = no_secret.store.jobs.job(job.job_id)
    assert stored is not None and stored.error == done.detail
    assert DEFAULT_CLIENT_SECRET not in done.detail


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[Fleet]:
    yield from _fleet(tmp_path, EmulatorConfig(exo_latency=0.3),
                      heartbeat_every=0.05, dead_after=timedelta(seconds=1))


def test_a_job_cancelled_while_it_runs_stops_at_its_next_phase(slow: Fleet) -> None:
    job = slow.job(TENANTS[1])

    def cancel() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            current = slow.store.jobs.job(job.job_id)
            if current is not None and current.state is JobState.RUNNING:
                slow.store.jobs.cancel(job.job_id, at=datetime.now(UTC))
                return
            time.sleep(0.02)

    canceller = threading.Thread(target=cancel)
    canceller.start()
    done = slow.runner.run(job.job_id)
    canceller.join()
    assert done.outcome is Outcome.STOPPED
    stopped = slow.store.jobs.job(job.job_id)
    assert stopped is not None and stopped.state is JobState.CANCELLED
    assert slow.runs(TENANTS[1]) == 0  # stopped before it stored a run


def test_a_pause_one_worker_is_told_holds_every_workers_requests(fleet: Fleet) -> None:
    limiter = fleet.runner.limiter
    first = RedisTenantSlots(limiter, fleet.redis, TENANTS[0],
                             pause_prefix=f"{fleet.namespace}:pause")
    second = RedisTenantSlots(limiter, fleet.redis, TENANTS[0],
                              pause_prefix=f"{fleet.namespace}:pause")
    other = RedisTenantSlots(limiter, fleet.redis, TENANTS[1],
                             pause_prefix=f"{fleet.namespace}:pause")

    async def timed(slots: RedisTenantSlots) -> float:
        started = time.monotonic()
        await slots.acquire(Service.GRAPH)
        await slots.release(Service.GRAPH)
        return time.monotonic() - started

    first.pause(Service.GRAPH, 0.4)
    first.pause(Service.GRAPH, 0.1)  # a shorter pause never cuts a longer one
    assert asyncio.run(timed(second)) >= 0.3
    assert asyncio.run(timed(other)) < 0.2  # other tenants are not held

    async def exchange_slots() -> tuple[int, int]:
        for _ in range(3):
            await first.acquire(Service.EXCHANGE)
        waiter = asyncio.create_task(second.acquire(Service.EXCHANGE))
        await asyncio.sleep(0.2)
        blocked = 0 if waiter.done() else 1
        await first.release(Service.EXCHANGE)
        await asyncio.wait_for(waiter, 5)
        return blocked, second.waits

    blocked, waits = asyncio.run(exchange_slots())
    assert blocked == 1 and waits >= 1  # the fourth waited for the tenant's third slot


@pytest.fixture
def one_certificate(tmp_path: Path) -> Iterator[Fleet]:
    pem = tmp_path / "fleet-app.pem"
    issued = trustme.CA(key_type=trustme.KeyType.RSA).issue_cert(
        "fleet-app", key_type=trustme.KeyType.RSA)
    pem.write_bytes(issued.cert_chain_pems[0].bytes() + issued.private_key_pem.bytes())
    yield from _fleet(tmp_path, EmulatorConfig(), certificate=pem)


def test_one_multi_tenant_app_with_one_certificate_signs_in_to_each_tenant(
        one_certificate: Fleet) -> None:
    for tenant in TENANTS:
        done = one_certificate.runner.run(one_certificate.job(tenant).job_id)
        assert done.outcome is Outcome.SUCCEEDED, done.detail
        assert one_certificate.runs(tenant) == 1
    # Each tenant was signed in to on its own, its data read with its own tokens.
    built = tenancy_of(one_certificate.served.app).built()
    for tenant in TENANTS:
        services = built[tenant].stats.as_dict()["services"]
        assert services["login"]["requests"] >= 2 and services["graph"]["requests"] > 0


def test_slots_a_dead_worker_held_lapse_and_a_request_never_waits_forever(
        fleet: Fleet) -> None:
    limiter = TenantLimiter(fleet.runner.limiter.backend, TenantLimits(exchange=3),
                            ttl_ms=800, key_prefix=f"{fleet.namespace}:short")
    leaked = [limiter.take(TENANTS[0], "exchange") for _ in range(3)]  # never given back
    assert all(stack is not None for stack in leaked)
    slots = RedisTenantSlots(limiter, fleet.redis, TENANTS[0],
                             pause_prefix=f"{fleet.namespace}:pause")

    async def taken() -> float:
        started = time.monotonic()
        await slots.acquire(Service.EXCHANGE)
        await slots.release(Service.EXCHANGE)
        return time.monotonic() - started

    assert 0.5 < asyncio.run(taken()) < 5  # after the dead holder's count lapsed
    busy = [limiter.take(TENANTS[1], "exchange") for _ in range(3)]  # held meanwhile
    assert all(stack is not None for stack in busy)
    impatient = RedisTenantSlots(limiter, fleet.redis, TENANTS[1], wait=0.3,
                                 pause_prefix=f"{fleet.namespace}:pause")
    with pytest.raises(RetriesExhaustedError, match="stayed taken"):
        asyncio.run(impatient.acquire(Service.EXCHANGE))
    for stack in busy:
        assert stack is not None
        stack.close()
