"""The scheduler: slots spread over each interval by tenant, a due slot enqueued once with one
message, a lost message sent again after `resend_after` and not before, silent jobs reaped,
and one scheduler at a time (a lock only its holder renews or releases)."""

from __future__ import annotations

import statistics
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from dramatiq import Broker, Message

from mailwarden.errors import ConfigError
from mailwarden.fleet.broker import redis_broker
from mailwarden.fleet.queue import QUEUE
from mailwarden.fleet.schedule import (
    Loop,
    SchedulerLock,
    due_slots,
    duration_text,
    offset_of,
    parse_duration,
    report_lines,
    serve,
    slot_start,
    tick,
)
from mailwarden.model.fleet import Credential, FleetTenant, JobKind, JobState, Schedule
from mailwarden.store.fleet import FleetStore
from tests.fleet.redis_support import own_namespace, redis_url

NOW = datetime(2026, 12, 6, 17, 5, 42, tzinfo=UTC)
DAY = timedelta(hours=24)
A, B, OFF = "a.onmicrosoft.com", "b.onmicrosoft.com", "off.onmicrosoft.com"


def _tenant(tenant_id: str, *, enabled: bool = True, posture: timedelta = DAY,
            logs: timedelta = timedelta(minutes=15)) -> FleetTenant:
    return FleetTenant(tenant_id=tenant_id, enabled=enabled,
                       credential=Credential(client_id="app", secret_env="FLEET_SECRET"),
                       schedule=Schedule(posture_every=posture, logs_every=logs))


# -- slots -----------------------------------------------------------------------------------

def test_offsets_spread_tenants_over_the_interval_and_stay_put() -> None:
    tenants = [f"{i:08x}-0000-4000-8000-000000000000" for i in range(200)]
    offsets = [offset_of(t, DAY) for t in tenants]
    assert all(timedelta(0) <= o < DAY for o in offsets)
    assert offsets == [offset_of(t.upper(), DAY) for t in tenants]  # stable, any case
    minutes = [int(o.total_seconds()) // 60 for o in offsets]
    # 200 tenants do not start at the same minute: no more than a few share one.
    assert len(set(minutes)) >= 175 and max(minutes.count(m) for m in minutes) <= 3
    hours = [int(o.total_seconds()) // 3600 for o in offsets]
    assert all(hours.count(h) <= 20 for h in range(24))  # about 8 an hour, none crowded
    assert abs(statistics.mean(o.total_seconds() for o in offsets) - 43200) < 3 * 3600


def test_a_slot_starts_at_the_tenants_offset_every_interval() -> None:
    offset = offset_of(A, DAY)
    start = slot_start(A, DAY, NOW)
    assert start <= NOW < start + DAY
    assert (start - datetime(1970, 1, 1, tzinfo=UTC)) % DAY == offset
    assert slot_start(A, DAY, start) == start
    assert slot_start(A, DAY, start - timedelta(seconds=1)) == start - DAY
    assert slot_start(A, DAY, start + DAY - timedelta(microseconds=1)) == start


def test_due_slots_are_the_current_ones_without_a_job() -> None:
    tenants = (_tenant(A), _tenant(B), _tenant(OFF, enabled=False))
    every = {(t, k): slot_start(t, _tenant(t).schedule.every(k), NOW)
             for t in (A, B) for k in JobKind}
    assert due_slots(tenants, {}, NOW) == tuple(
        (t, k, every[(t, k)]) for t in (A, B) for k in JobKind)  # never a disabled tenant
    jobs = {(A, JobKind.POSTURE): every[(A, JobKind.POSTURE)],  # this slot has its job
            (A, JobKind.LOGS): every[(A, JobKind.LOGS)] + timedelta(minutes=1),  # a later one
            (B, JobKind.POSTURE): every[(B, JobKind.POSTURE)] - DAY}  # yesterday's only
    assert due_slots(tenants, jobs, NOW) == (
        (B, JobKind.POSTURE, every[(B, JobKind.POSTURE)]),
        (B, JobKind.LOGS, every[(B, JobKind.LOGS)]))
    # A scheduler stopped for a week enqueues the current slot, not the seven it missed.
    week = {key: slot - timedelta(days=7) for key, slot in every.items()}
    assert len(due_slots(tenants, week, NOW)) == 4


def test_durations() -> None:
    assert parse_duration("30s") == timedelta(seconds=30)
    assert parse_duration(" 1H30m ") == timedelta(minutes=90)
    assert parse_duration("1d") == DAY
    for bad in ("", "0s", "10", "ten minutes", "-5m"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert [duration_text(parse_duration(t)) for t in ("30s", "10m", "1h30m", "1d", "90s")
            ] == ["30s", "10m", "1h30m", "1d", "1m30s"]


# -- one round, on Redis ---------------------------------------------------------------------

@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url())
    yield client
    client.close()


@pytest.fixture
def broker(redis_client: redis.Redis) -> Iterator[Broker]:
    for namespace in own_namespace(redis_client):
        with redis_broker(redis_url(), namespace=namespace) as opened:
            yield opened


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FleetStore]:
    with FleetStore.open(str(tmp_path / "history.db")) as opened:
        for tenant in (_tenant(A), _tenant(B), _tenant(OFF, enabled=False)):
            opened.add(tenant, at=NOW - DAY)
        yield opened


def _messages(broker: Broker) -> list[str]:
    """The job ids of the messages on the fleet's queue, oldest first."""
    client: redis.Redis = broker.client  # type: ignore[attr-defined]
    name = f"{broker.namespace}:{QUEUE}"  # type: ignore[attr-defined]
    ids = client.lrange(name, 0, -1)
    return [Message.decode(client.hget(f"{name}.msgs", i)).args[0]  # type: ignore[arg-type]
            for i in ids]


def _runs(store: FleetStore) -> int:
    from sqlalchemy import func, select

    from mailwarden.store import tables
    with store.history._connection("count") as connection:
        return int(connection.execute(select(func.count()).select_from(tables.fleet_runs))
                   .scalar_one())


def test_a_round_queues_each_due_slot_once_with_one_message(store: FleetStore,
                                                            broker: Broker) -> None:
    first = tick(store, broker, NOW)
    assert sorted((j.tenant_id, j.kind) for j in first.queued) == [
        (A, JobKind.LOGS), (A, JobKind.POSTURE), (B, JobKind.LOGS), (B, JobKind.POSTURE)]
    assert first.run_id is not None and first.resent == first.reaped == ()
    assert {j.due_at for j in first.queued if j.tenant_id == A and j.kind is JobKind.POSTURE
            } == {slot_start(A, DAY, NOW)}
    again = tick(store, broker, NOW + timedelta(seconds=30))
    assert again.idle and again.run_id is None
    assert _runs(store) == 1  # a run is recorded only when a job is made
    assert sorted(_messages(broker)) == sorted(j.job_id for j in first.queued)
    jobs = store.jobs.jobs()
    assert len(jobs) == 4 and all(j.sent_at == NOW for j in jobs)
    # Fifteen minutes on, each tenant's next logs slot has fallen due, not its posture.
    later = tick(store, broker, NOW + timedelta(minutes=15))
    assert sorted((j.tenant_id, j.kind) for j in later.queued) == [(A, JobKind.LOGS),
                                                                   (B, JobKind.LOGS)]
    assert report_lines(later)[-1] == f"run {later.run_id}: 2 jobs queued"


def test_a_lost_message_is_sent_again_after_resend_after_and_not_before(
        store: FleetStore, broker: Broker, redis_client: redis.Redis) -> None:
    daily = (_tenant(A, logs=DAY), _tenant(B, logs=DAY))
    for tenant in daily:
        store.add(tenant, at=NOW, replace_existing=True)
    queued = tick(store, broker, NOW).queued
    redis_client.delete(f"{broker.namespace}:{QUEUE}")  # type: ignore[attr-defined]
    done = queued[0]
    assert store.jobs.start(done.job_id, worker_id="w", at=NOW)
    assert store.jobs.finish(done.job_id, worker_id="w", state=JobState.SUCCEEDED, at=NOW)
    put_back = queued[1]
    assert store.jobs.start(put_back.job_id, worker_id="w", at=NOW)
    assert store.jobs.put_back(put_back.job_id, worker_id="w", at=NOW,
                               retry_at=NOW + timedelta(minutes=20), error="throttled")
    resend = timedelta(minutes=30)
    lost = {j.job_id for j in queued[2:]}
    assert tick(store, broker, NOW + resend, resend_after=resend).idle  # not before
    assert _messages(broker) == []
    report = tick(store, broker, NOW + resend + timedelta(seconds=1), resend_after=resend)
    assert {j.job_id for j in report.resent} == lost  # not the finished one, nor the delayed
    assert sorted(_messages(broker)) == sorted(lost)
    assert all(line.startswith("re-sent ") and line.endswith(
        f"still queued, its last message was due at {NOW.isoformat(timespec='seconds')}")
        for line in report_lines(report))
    # The put-back job's last message was due at its retry_at: resent 30 minutes after that.
    assert tick(store, broker, NOW + timedelta(minutes=50), resend_after=resend).idle
    late = tick(store, broker, NOW + timedelta(minutes=50, seconds=1), resend_after=resend)
    assert [j.job_id for j in late.resent] == [put_back.job_id]
    # Sent again, the lost ones wait another `resend_after` before the next.
    assert tick(store, broker, NOW + 2 * resend, resend_after=resend).idle


def test_a_round_reaps_silent_jobs_and_spares_beating_ones(store: FleetStore,
                                                           broker: Broker) -> None:
    silent, beating, *_ = tick(store, broker, NOW).queued
    assert store.jobs.start(silent.job_id, worker_id="w1", at=NOW)
    assert store.jobs.start(beating.job_id, worker_id="w2", at=NOW)
    later = NOW + timedelta(minutes=11)
    assert store.jobs.heartbeat(beating.job_id, worker_id="w2", at=later - timedelta(seconds=5))
    report = tick(store, broker, later)
    assert [j.job_id for j in report.reaped] == [silent.job_id]
    assert report_lines(report)[0] == (
        f"reaped {silent.kind.value} of {silent.tenant_id} (job {silent.job_id}): worker w1 "
        f"stopped heartbeating at {NOW.isoformat(timespec='seconds')}; reaped")
    state = {j.job_id: j.state for j in store.jobs.jobs()}
    assert state[silent.job_id] is JobState.FAILED
    assert state[beating.job_id] is JobState.RUNNING


# -- one scheduler at a time -----------------------------------------------------------------

def test_the_lock_is_renewed_and_released_by_its_holder_only(broker: Broker) -> None:
    ttl = timedelta(seconds=30)
    first = SchedulerLock.of(broker, ttl=ttl, holder="host-1/11")
    second = SchedulerLock.of(broker, ttl=ttl, holder="host-2/22")
    assert first.holder() is None
    assert first.hold() and first.holder() == "host-1/11"
    assert not second.hold() and second.holder() == "host-1/11"
    assert not second.renew()  # the other's renewal extends nothing
    assert not second.release() and first.holder() == "host-1/11"  # nor lets it go
    client = first.client
    client.pexpire(first.key, 500)
    assert first.renew() and client.pttl(first.key) > 25_000  # the holder's does
    assert first.hold()  # holding again renews
    assert first.release() and first.holder() is None
    assert second.hold() and second.holder() == "host-2/22"
    assert not first.renew()
    # A holder that died without letting go: its lock lapses after its ttl.
    client.pexpire(second.key, 1)
    threading.Event().wait(0.05)
    assert first.hold() and first.holder() == "host-1/11"
    first.release()


def test_a_second_scheduler_does_nothing_while_the_first_holds_the_lock(
        store: FleetStore, broker: Broker) -> None:
    other = SchedulerLock.of(broker, ttl=timedelta(minutes=1), holder="elsewhere/7")
    assert other.hold()
    mine = SchedulerLock.of(broker, ttl=timedelta(minutes=1), holder="here/1")
    said: list[str] = []
    done = serve(store, broker, mine, Loop(), stop=threading.Event(), say=said.append,
                 warn=said.append, once=True, clock=lambda: NOW)
    assert not done and said == ["another scheduler holds the lock: elsewhere/7; doing nothing"]
    assert store.jobs.jobs() == () and _messages(broker) == []
    assert other.holder() == "elsewhere/7"  # still the other's
    other.release()
    assert serve(store, broker, mine, Loop(), stop=threading.Event(), say=said.append,
                 warn=said.append, once=True, clock=lambda: NOW)
    assert len(store.jobs.jobs()) == 4 and mine.holder() is None  # released on leaving


def test_a_waiting_scheduler_takes_over_when_the_holder_lets_go(
        store: FleetStore, broker: Broker) -> None:
    other = SchedulerLock.of(broker, ttl=timedelta(minutes=1), holder="elsewhere/7")
    assert other.hold()
    mine = SchedulerLock.of(broker, ttl=timedelta(minutes=1), holder="here/1")
    said: list[str] = []
    stop = threading.Event()

    def say(line: str) -> None:
        said.append(line)
        if line.endswith("waiting"):
            other.release()
        if line.startswith("run "):
            stop.set()

    serve(store, broker, mine, Loop(every=timedelta(seconds=0.05)), stop=stop, say=say,
          warn=said.append, clock=lambda: NOW)
    assert said[0] == "another scheduler holds the lock: elsewhere/7; waiting"
    assert said[1] == "took the scheduler lock from elsewhere/7; scheduling"
    assert said[-1].endswith("4 jobs queued") and mine.holder() is None


def test_a_failing_round_is_reported_and_tried_again(store: FleetStore, broker: Broker,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    stop = threading.Event()
    real = broker.enqueue

    def flaky(message: Message[object], **kw: object) -> Message[object]:
        calls.append(1)
        if len(calls) == 1:
            raise redis.exceptions.ConnectionError("Connection refused")
        if len(calls) == 5:
            stop.set()
        return real(message)

    monkeypatch.setattr(broker, "enqueue", flaky)
    warned: list[str] = []
    lock = SchedulerLock.of(broker, ttl=timedelta(minutes=1))
    serve(store, broker, lock, Loop(every=timedelta(seconds=0.01), resend_after=timedelta(
        seconds=0.01)), stop=stop, say=lambda _: None, warn=warned.append,
        clock=lambda: datetime.now(UTC))
    assert warned == ["this round failed: Redis stopped answering (Connection refused); "
                      "trying again in 0s"]
    # The job whose first message failed is sent by a later round.
    assert {j.job_id for j in store.jobs.jobs()} <= set(_messages(broker))
    with pytest.raises(ConfigError, match="Redis stopped answering"):
        calls.clear()
        serve(store, broker, lock, Loop(), stop=threading.Event(), say=lambda _: None,
              warn=warned.append, once=True, clock=lambda: NOW + timedelta(days=2))
