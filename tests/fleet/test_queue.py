"""`fleet run --now`: jobs recorded once per tenant, kind and minute, and a message naming each
queued job put on Redis, as Dramatiq's Redis broker stores them for its workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from dramatiq import Message

from mailwarden.errors import ConfigError, InputError
from mailwarden.fleet.broker import redis_broker
from mailwarden.fleet.queue import ACTOR, QUEUE, enqueue_now
from mailwarden.model.fleet import Credential, FleetTenant, JobKind, JobState
from mailwarden.store.fleet import FleetStore
from tests.fleet.redis_support import own_namespace, redis_url

NOW = datetime(2026, 12, 6, 17, 5, 42, tzinfo=UTC)
ON, OFF = "on.onmicrosoft.com", "off.onmicrosoft.com"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url())
    yield client
    client.close()


@pytest.fixture
def namespace(redis_client: redis.Redis) -> Iterator[str]:
    yield from own_namespace(redis_client)


def _fleet(db: str) -> None:
    credential = Credential(client_id="app", secret_env="FLEET_SECRET")
    with FleetStore.open(db) as store:
        store.add(FleetTenant(tenant_id=ON, credential=credential), at=NOW)
        store.add(FleetTenant(tenant_id=OFF, credential=credential, enabled=False), at=NOW)


def _queued(client: redis.Redis, namespace: str) -> list[Message[object]]:
    name = f"{namespace}:{QUEUE}"
    ids = client.lrange(name, 0, -1)
    return [Message.decode(client.hget(f"{name}.msgs", i)) for i in ids]  # type: ignore[arg-type]


def test_jobs_are_recorded_once_and_sent_while_they_are_queued(
        tmp_path: Path, redis_client: redis.Redis, namespace: str) -> None:
    db = str(tmp_path / "history.db")
    _fleet(db)
    with redis_broker(redis_url(), namespace=namespace) as broker, FleetStore.open(db) as store:
        first = enqueue_now(store, broker, by="ops", now=NOW)
        assert [(j.tenant_id, j.kind) for j in first.sent] == [(ON, JobKind.POSTURE),
                                                               (ON, JobKind.LOGS)]
        assert first.paused == (OFF,) and first.busy == ()
        assert {j.due_at for j in first.sent} == {NOW.replace(second=0)}
        again = enqueue_now(store, broker, by="ops", now=NOW.replace(second=59))
        assert [j.job_id for j in again.sent] == [j.job_id for j in first.sent]
        posture = first.sent[0]
        assert store.jobs.start(posture.job_id, worker_id="w1", at=NOW) is not None
        third = enqueue_now(store, broker, tenants=(ON, OFF), kinds=(JobKind.POSTURE,),
                            by="ops", now=NOW)
        assert [j.job_id for j in third.busy] == [posture.job_id]
        assert [(j.tenant_id, j.kind) for j in third.sent] == [(OFF, JobKind.POSTURE)]
        assert len(store.jobs.jobs()) == 3  # one per tenant, kind and minute
        with pytest.raises(InputError, match="not in the fleet"):
            enqueue_now(store, broker, tenants=("nobody.example",), by="ops", now=NOW)
    messages = _queued(redis_client, namespace)
    assert {m.actor_name for m in messages} == {ACTOR}
    jobs = {j.job_id: j for j in (*first.sent, *again.sent, *third.sent)}
    # Each message names its job's tenant and fleet run too.
    assert [(m.kwargs["tenant_id"], m.kwargs["run_id"]) for m in messages] == [
        (jobs[m.args[0]].tenant_id, jobs[m.args[0]].run_id) for m in messages]
    assert [m.args[0] for m in messages] == [
        *(j.job_id for j in first.sent), *(j.job_id for j in again.sent),
        *(j.job_id for j in third.sent)]


def test_the_broker_closes_its_connections_when_it_is_done(namespace: str) -> None:
    """Dramatiq's broker makes its client's pool and leaves it open on close: a socket the
    garbage collector then finds open is a ResourceWarning at some unrelated moment."""
    with redis_broker(redis_url(), namespace=namespace) as broker:
        broker.client.ping()
        pool = broker.client.connection_pool
        opened = [*pool._available_connections, *pool._in_use_connections]
        assert opened and all(connection._sock is not None for connection in opened)
    assert all(connection._sock is None for connection in opened)


def test_a_redis_that_does_not_answer_is_named_without_its_password() -> None:
    with (pytest.raises(ConfigError, match="does not answer") as refused,
          redis_broker("redis://:hunter2@127.0.0.1:1/0")):
        pass
    assert "hunter2" not in str(refused.value)


def test_fleet_run_now_as_a_process(tmp_path: Path, redis_client: redis.Redis,
                                    namespace: str) -> None:
    db = str(tmp_path / "history.db")
    _fleet(db)
    env = {**os.environ, "MAILWARDEN_REDIS_URL": redis_url(), "COLUMNS": "200"}

    def mailwarden(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mailwarden", "fleet", *args, "--db", db],
                              text=True, capture_output=True, env=env, timeout=120,
                              check=False)

    done = mailwarden("run", "--now", "--kind", "logs", "--by", "ops")
    assert done.returncode == 0, done.stderr
    assert f"queued logs of {ON}" in done.stdout and f"skipped {OFF}: disabled" in done.stdout
    with FleetStore.open(db) as store:
        (job,) = store.jobs.jobs()
    assert job.kind is JobKind.LOGS and job.state is JobState.QUEUED
    # The default namespace is the workers' ("dramatiq"): the message is there.
    queue = f"dramatiq:{QUEUE}"
    try:
        ids = redis_client.lrange(queue, 0, -1)
        bodies = [json.loads(redis_client.hget(f"{queue}.msgs", i) or b"{}") for i in ids]
        assert [b["args"] for b in bodies if b.get("args") == [job.job_id]] == [[job.job_id]]
    finally:
        for i, body in zip(ids, bodies, strict=True):
            if body.get("args") == [job.job_id]:
                redis_client.lrem(queue, 0, i)
                redis_client.hdel(f"{queue}.msgs", i)
    no_now = mailwarden("run")
    assert no_now.returncode == 2 and "give --now" in no_now.stderr
    unknown = mailwarden("run", "--now", "nobody.example")
    assert unknown.returncode == 2 and "not in the fleet" in unknown.stderr
