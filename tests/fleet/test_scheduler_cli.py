"""`fleet scheduler`, `fleet reap` and `fleet cancel` as processes, on a temporary SQLite
history and the test Redis: two schedulers started together enqueue each due job once with
one message, a scheduler stops cleanly on SIGTERM, and reap and cancel say what they did.

The schedulers use the workers' default namespace ("dramatiq"), so they run on a Redis
database of their own (`REDIS_DATABASES`): a worker under test elsewhere on the same server
must not take these messages (nor, running at once, the two tests that run schedulers each
other's lock: each has its own database). Only the messages of these tests' jobs are
deleted after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from dramatiq import Message
from sqlalchemy import func, select

from mailwarden.fleet.queue import QUEUE
from mailwarden.fleet.schedule import LOCK_NAME, SchedulerLock, slot_start
from mailwarden.model.fleet import Credential, FleetTenant, JobKind, JobState
from mailwarden.store import tables
from mailwarden.store.fleet import FleetStore
from tests.fleet.redis_support import redis_database_url

A, B, OFF = "a.onmicrosoft.com", "b.onmicrosoft.com", "off.onmicrosoft.com"
QUEUE_KEY = f"dramatiq:{QUEUE}"
LOCK_KEY = f"dramatiq:{LOCK_NAME}"


@pytest.fixture
def url(request: pytest.FixtureRequest) -> str:
    """The test Redis, on a database of the schedulers' and another for the SIGTERM test:
    the two may run at once (pytest-xdist), and each takes the scheduler's lock."""
    return redis_database_url("scheduler-sigterm" if "sigterm" in request.node.name
                              else "scheduler")


@pytest.fixture
def client(url: str) -> Iterator[redis.Redis]:
    opened = redis.Redis.from_url(url)
    yield opened
    opened.close()


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "history.db")
    credential = Credential(client_id="app", secret_env="FLEET_SECRET")
    with FleetStore.open(path) as store:
        for tenant in (A, B):
            store.add(FleetTenant(tenant_id=tenant, credential=credential),
                      at=datetime.now(UTC))
        store.add(FleetTenant(tenant_id=OFF, credential=credential, enabled=False),
                  at=datetime.now(UTC))
    return path


def _quiet_tenants(db: str, count: int) -> None:
    """Add `count` enabled tenants whose current slots (default schedule) began a minute
    ago at least and whose next ones are five minutes away at least: a scheduler started
    now and another a few seconds later find the same slots due, whatever the clock."""
    now = datetime.now(UTC)
    credential = Credential(client_id="app", secret_env="FLEET_SECRET")
    with FleetStore.open(db) as store:
        added, candidate = 0, 0
        while added < count:
            name, candidate = f"t{candidate}.example", candidate + 1
            tenant = FleetTenant(tenant_id=name, credential=credential)
            if all(timedelta(minutes=1) <= now - slot_start(name, every, now)
                   <= every - timedelta(minutes=5)
                   for every in (tenant.schedule.posture_every, tenant.schedule.logs_every)):
                store.add(tenant, at=now)
                added += 1


def _messages(client: redis.Redis, job_ids: set[str]) -> list[str]:
    """The job ids named by messages on the queue, of these jobs only."""
    found = []
    for key in client.lrange(QUEUE_KEY, 0, -1):
        raw = client.hget(f"{QUEUE_KEY}.msgs", key)
        if raw is not None and (job := Message.decode(raw).args[0]) in job_ids:
            found.append(job)
    return found


def _forget(client: redis.Redis, job_ids: set[str]) -> None:
    for key in client.lrange(QUEUE_KEY, 0, -1):
        raw = client.hget(f"{QUEUE_KEY}.msgs", key)
        if raw is not None and Message.decode(raw).args[0] in job_ids:
            client.lrem(QUEUE_KEY, 0, key)
            client.hdel(f"{QUEUE_KEY}.msgs", key)


def _mailwarden(db: str, url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "mailwarden", "fleet", *args, "--db", db]


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "MAILWARDEN_REDIS_URL": url, "COLUMNS": "200"}


def _run(db: str, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_mailwarden(db, url, *args), text=True, capture_output=True,
                          env=_env(url), timeout=120, check=False)


def _jobs(db: str) -> tuple[tuple[str, ...], int]:
    with FleetStore.open(db) as store:
        with store.history._connection("count") as connection:
            runs = connection.execute(select(func.count()).select_from(tables.fleet_runs))
            count = int(runs.scalar_one())
        return tuple(j.job_id for j in store.jobs.jobs()), count


def test_two_schedulers_started_together_enqueue_each_job_once(
        tmp_path: Path, url: str, client: redis.Redis) -> None:
    db = str(tmp_path / "history.db")
    try:
        _two_schedulers(db, url, client)
    finally:
        _forget(client, set(_jobs(db)[0]))


def _two_schedulers(db: str, url: str, client: redis.Redis) -> None:
    # 100 tenants: a round long enough that two schedulers started together overlap (one
    # then says the other holds the lock), though neither outcome may enqueue twice.
    _quiet_tenants(db, 100)
    # One holding the lock: the other says who, and does nothing.
    held = SchedulerLock(client, LOCK_KEY, ttl=timedelta(minutes=1), holder="ops-host/4242")
    if not held.hold():
        pytest.skip(f"another run of this test holds {LOCK_KEY} on {url}")
    try:
        blocked = _run(db, url, "scheduler", "--once")
    finally:
        held.release()
    assert blocked.returncode == 0, blocked.stderr
    assert "another scheduler holds the lock: ops-host/4242; doing nothing" in blocked.stdout
    assert _jobs(db) == ((), 0)
    # Two at the same moment.
    processes = [subprocess.Popen(_mailwarden(db, url, "scheduler", "--once"), text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=_env(url)) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    job_ids, runs = _jobs(db)
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert len(job_ids) == 200 and runs == 1  # 100 tenants, two kinds; one run
    queued = [line for out, _ in outputs for line in out.splitlines()
              if line.startswith("queued ")]
    assert len(queued) == 200
    assert {line.rsplit("(job ", 1)[1].rstrip(")") for line in queued} == set(job_ids)
    assert sorted(_messages(client, set(job_ids))) == sorted(job_ids)  # one message each
    for (out, _), other in zip(outputs, reversed(processes), strict=True):
        if "another scheduler holds the lock" in out:
            assert f"/{other.pid}; doing nothing" in out
    assert client.get(LOCK_KEY) is None  # each released what it held


def test_a_scheduler_runs_until_sigterm_then_lets_go_of_its_lock(
        tmp_path: Path, url: str, client: redis.Redis) -> None:
    db = str(tmp_path / "history.db")
    _quiet_tenants(db, 2)
    process = subprocess.Popen(_mailwarden(db, url, "scheduler", "--tick", "1s"), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(url))
    job_ids: tuple[str, ...] = ()
    try:
        deadline = time.monotonic() + 60
        while len(job_ids) < 4 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
            job_ids = _jobs(db)[0]
        assert len(job_ids) == 4
        assert SchedulerLock(client, LOCK_KEY, ttl=timedelta(minutes=1)).holder() == (
            f"{os.uname().nodename}/{process.pid}")
        time.sleep(1.5)  # another round or two: nothing more is due
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        _forget(client, set(job_ids))
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == (f"scheduler {os.uname().nodename}/{process.pid}: a round every 1s, "
                        "reaping after 10m, re-sending after 30m")
    assert sum(line.startswith("queued ") for line in lines) == 4
    assert lines[-1] == "scheduler stopped"
    assert client.get(LOCK_KEY) is None
    assert _jobs(db)[0] == job_ids
    bad = _run(db, url, "scheduler", "--once", "--reap-after", "1m")
    assert bad.returncode == 2 and "--reap-after 1m: give 2m or more" in bad.stderr


def _running(db: str, tenant: str, kind: JobKind, worker: str, beat: datetime) -> str:
    with FleetStore.open(db) as store:
        run = store.jobs.new_run(trigger="now", by="test", at=beat)
        job, _ = store.jobs.enqueue(run_id=run, tenant_id=tenant, kind=kind, due_at=beat,
                                    at=beat)
        assert store.jobs.start(job.job_id, worker_id=worker, at=beat)
        return job.job_id


def test_fleet_reap_as_a_process(db: str, url: str) -> None:
    now = datetime.now(UTC)
    silent = _running(db, A, JobKind.POSTURE, "w1", now - timedelta(minutes=20))
    beating = _running(db, A, JobKind.LOGS, "w2", now - timedelta(minutes=1))
    done = _run(db, url, "reap")
    assert done.returncode == 0, done.stderr
    assert f"reaped posture of {A} (job {silent}): worker w1 stopped heartbeating" in done.stdout
    assert "1 job reaped" in done.stdout and beating not in done.stdout
    with FleetStore.open(db) as store:
        assert store.jobs.job(silent).state is JobState.FAILED  # type: ignore[union-attr]
        assert store.jobs.job(beating).state is JobState.RUNNING  # type: ignore[union-attr]
    again = _run(db, url, "reap", "--older-than", "30m")
    assert again.returncode == 0 and "nothing to reap" in again.stdout
    too_soon = _run(db, url, "reap", "--older-than", "30s")
    assert too_soon.returncode == 2 and "give 2m or more" in too_soon.stderr


def test_fleet_cancel_as_a_process(db: str, url: str) -> None:
    now = datetime.now(UTC)
    running = _running(db, A, JobKind.POSTURE, "w1", now)
    with FleetStore.open(db) as store:
        run = store.jobs.new_run(trigger="schedule", by="test", at=now)
        queued = [store.jobs.enqueue(run_id=run, tenant_id=t, kind=JobKind.LOGS, due_at=now,
                                     at=now)[0].job_id for t in (A, B)]
    one = _run(db, url, "cancel", running)
    assert one.returncode == 0, one.stderr
    assert (f"cancelled posture of {A} (job {running}); it was running on w1, which stops it "
            "at its next heartbeat") in one.stdout
    with FleetStore.open(db) as store:
        # The worker learns it at its next heartbeat.
        assert not store.jobs.heartbeat(running, worker_id="w1", at=now)
    finished = _run(db, url, "cancel", running)
    assert finished.returncode == 0 and "is cancelled already; nothing to cancel" in (
        finished.stdout)
    whole = _run(db, url, "cancel", run)
    assert whole.returncode == 0, whole.stderr
    assert all(f"(job {j}); it was queued" in whole.stdout for j in queued)
    assert f"run {run}: 2 jobs cancelled" in whole.stdout
    with FleetStore.open(db) as store:
        assert {store.jobs.job(j).state for j in queued} == {  # type: ignore[union-attr]
            JobState.CANCELLED}
    unknown = _run(db, url, "cancel", "0123abcd")
    assert unknown.returncode == 2 and "no fleet job or run has the id '0123abcd'" in (
        unknown.stderr)
