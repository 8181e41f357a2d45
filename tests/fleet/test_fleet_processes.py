"""The fleet as an operator runs it, every part a process with nothing injected: the
multi-tenant emulator (`mailwarden emulator --tenants N --throttle`), the tenants in the
history database, `mailwarden worker` twice, `mailwarden fleet run --now`, and a webhook
receiving the notifications.

- 50 tenants, two worker processes whose rate budget is the emulator's Graph rate: every
  job succeeds, every tenant has one stored run, every notification arrives once, and the
  emulator's counts show no tenant's limits exceeded (no throttled request: the workers
  together kept each tenant within its rate; never more Exchange requests in flight than
  allowed).
- A worker SIGKILLed while it collects: Redis gives its messages back, the other worker
  takes its jobs over; each tenant still ends with one run and nothing is sent twice;
  and a run stuck under a worker that vanished with its message is reaped.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from mailwarden.cli.emulator import THROTTLE_GRAPH_BURST, THROTTLE_GRAPH_RATE
from mailwarden.emulator import DEFAULT_CLIENT_SECRET
from mailwarden.model.fleet import Credential, FleetJob, FleetTenant, JobKind, JobState
from mailwarden.store.fleet import FleetStore
from mailwarden.store.history import History
from mailwarden.synth import tenant_identity
from tests.fleet.redis_support import redis_database_url
from tests.support.peers import loopback_http
from tests.support.postgres_schema import postgres_schema_url
from tests.support.served_emulator import NICE, emulator_process

SECRET_VAR = "FLEET_E2E_SECRET"
WAIT = 300.0


@dataclass
class Inbox:
    lock: threading.Lock = field(default_factory=threading.Lock)
    keys: list[str] = field(default_factory=list)
    tenants: Counter[str] = field(default_factory=Counter)


@contextmanager
def receiver() -> Iterator[tuple[Inbox, str]]:
    inbox = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            with inbox.lock:
                inbox.keys.append(str(body["idempotency_key"]))
                inbox.tenants[self.path.rsplit("/", 1)[-1]] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    with loopback_http(Handler) as base:
        yield inbox, base


@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    db: str
    redis: str
    env: dict[str, str]
    state: Path
    tenants: tuple[str, ...]
    base_url: str
    ca_file: Path

    def mailwarden(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mailwarden", *args], text=True,
                              capture_output=True, env=self.env, timeout=120, check=False)

    def worker(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        log = (self.state.parent / f"{name}.log").open("ab")
        with log:
            return subprocess.Popen(
                [*NICE, sys.executable, "-m", "mailwarden", "worker", "--db", self.db,
                 "--state-dir", str(self.state), "--processes", "1", "--metrics-port", "0",
                 *extra], env=self.env, stdout=log, stderr=log, start_new_session=True)

    def log(self, name: str) -> str:
        return (self.state.parent / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def jobs(self) -> tuple[FleetJob, ...]:
        with FleetStore.open(self.db, create=False) as store:
            return store.jobs.jobs()

    def wait_until_done(self, expected: int, *logs: str) -> tuple[FleetJob, ...]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            jobs = self.jobs()
            if len(jobs) == expected and all(job.state.finished for job in jobs):
                return jobs
            time.sleep(0.5)
        states = Counter(job.state.value for job in self.jobs())
        raise AssertionError(f"jobs not finished in {WAIT:g} s: {dict(states)}\n" +
                             "\n".join(self.log(name)[-3000:] for name in logs))

    def runs_per_tenant(self) -> Counter[str]:
        with History.open(self.db, create=False) as history:
            return Counter(run.tenant_id for run in history.runs())

    def emulator_tenants(self) -> list[dict[str, Any]]:
        verify = ssl.create_default_context(cafile=str(self.ca_file))
        answer = httpx.get(f"{self.base_url}/_emulator/tenants", verify=verify, timeout=30)
        answer.raise_for_status()
        tenants: list[dict[str, Any]] = answer.json()["tenants"]
        return tenants


@contextmanager
def fleet_of(tmp_path: Path, *, count: int, seed: int, redis_db: str, db: str | None = None,
             emulator: tuple[str, ...] = (), settings: dict[str, str] | None = None,
             ) -> Iterator[tuple[Fleet, Inbox]]:
    """The fleet's processes' world; `db` the history database (default: SQLite);
    `settings`: MAILWARDEN_* variables the processes get."""
    url = redis_database_url(redis_db)
    client = redis.Redis.from_url(url)
    client.flushdb()
    ca_file = tmp_path / "ca.pem"
    with ExitStack() as stack:
        base_url = stack.enter_context(emulator_process(
            ["--synthetic", "60", "--seed", str(seed), "--tenants", str(count), *emulator],
            ca_file, nice=True))
        inbox, hook = stack.enter_context(receiver())
        db = db or str(tmp_path / "history.db")
        tenants = tuple(tenant_identity(seed + i).tenant_id for i in range(count))
        with FleetStore.open(db) as store:
            for tenant in tenants:
                routing = tmp_path / "routing" / f"{tenant}.yaml"
                routing.parent.mkdir(exist_ok=True)
                routing.write_text(
                    "security_team: [soc@msp.example]\n"
                    f"channels:\n  hook:\n    type: json\n    url: {hook}/hook/{tenant}\n"
                    "routes:\n  - match: {}\n    channels: [hook]\n", encoding="utf-8")
                store.add(FleetTenant(
                    tenant_id=tenant, routing_path=routing,
                    credential=Credential(client_id="msp-app", secret_env=SECRET_VAR,
                                          multi_tenant=True)), at=datetime.now(UTC))
        env = {**os.environ, "MAILWARDEN_REDIS_URL": url, SECRET_VAR: DEFAULT_CLIENT_SECRET,
               "MAILWARDEN_LOGIN_URL": base_url, "MAILWARDEN_GRAPH_URL": base_url,
               "MAILWARDEN_EXO_URL": base_url, "MAILWARDEN_CA_BUNDLE": str(ca_file),
               **(settings or {})}
        env.pop("MAILWARDEN_CLIENT_SECRET", None)
        try:
            yield Fleet(db=db, redis=url, env=env, state=tmp_path / "state",
                        tenants=tenants, base_url=base_url, ca_file=ca_file), inbox
        finally:
            client.flushdb()
            client.close()


def _stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM to the worker's main process, as systemd's KillMode=mixed sends it: it
    stops its worker processes itself."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def _pid_of(job: FleetJob) -> str:
    assert job.worker_id is not None
    return job.worker_id.split("/")[1]


@pytest.fixture
def postgres_db() -> Iterator[str]:
    yield from postgres_schema_url("fleet_e2e_")


def test_fifty_tenants_on_two_workers_run_once_notify_once_within_limits(
        tmp_path: Path, postgres_db: str) -> None:
    # On PostgreSQL, as a fleet on several machines keeps its store.
    database = postgres_db
    # The workers' budget is the throttled emulator's Graph rate, shared through Redis.
    budget = {"MAILWARDEN_GRAPH_RATE": f"{THROTTLE_GRAPH_RATE:g}",
              "MAILWARDEN_GRAPH_BURST": str(THROTTLE_GRAPH_BURST)}
    with fleet_of(tmp_path, count=50, seed=500, redis_db="fleet-e2e", db=database,
                  emulator=("--throttle",), settings=budget) as (fleet, inbox):
        workers = [fleet.worker(f"worker-{n}", "--threads", "4") for n in (1, 2)]
        try:
            queued = fleet.mailwarden("fleet", "run", "--now", "--db", fleet.db)
            assert queued.returncode == 0, queued.stderr
            assert "100 jobs queued" in queued.stdout
            jobs = fleet.wait_until_done(100, "worker-1", "worker-2")
        finally:
            codes = [_stop(worker) for worker in workers]
        assert codes == [0, 0], fleet.log("worker-1")[-2000:]
        assert Counter(job.state for job in jobs) == {JobState.SUCCEEDED: 100}, [
            job.error for job in jobs if job.error][:3]
        assert len({_pid_of(job) for job in jobs}) == 2  # both workers ran jobs
        assert all(job.attempts == 1 for job in jobs)
        # One stored run per tenant: the second job of each found nothing new.
        assert fleet.runs_per_tenant() == dict.fromkeys(fleet.tenants, 1)
        posture_runs = {job.tenant_id: job.history_run_id for job in jobs
                        if job.kind.value == "posture"}
        assert all(run is not None for run in posture_runs.values())
        # Notifications: every tenant's first cycle told its security team, once.
        assert len(inbox.keys) == len(set(inbox.keys)) > 0
        assert set(inbox.tenants) == set(fleet.tenants)
        # The emulator's counts: every tenant read, none beyond its limits.
        served = fleet.emulator_tenants()
        assert all(t["built"] for t in served)
        assert [t["tenantId"] for t in served if t["exceeded"]] == []
        peaks = [t["stats"]["limits"]["exchange"]["peak_in_flight"] for t in served]
        assert max(peaks) <= 3
        status = fleet.mailwarden("fleet", "status", "--format", "json", "--db", fleet.db)
        assert status.returncode == 0, status.stderr
        document = json.loads(status.stdout)
        assert {t[kind]["freshness"] for t in document["tenants"]
                for kind in ("posture", "logs")} == {"fresh"}


def test_a_worker_killed_mid_collection_has_its_jobs_taken_over_and_nothing_doubled(
        tmp_path: Path) -> None:
    with fleet_of(tmp_path, count=4, seed=600, redis_db="fleet-sigkill",
                  emulator=("--latency-exo", "400")) as (fleet, inbox):
        first = fleet.worker("worker-1", "--threads", "2", "--dead-after", "3s")
        second: subprocess.Popen[bytes] | None = None
        try:
            queued = fleet.mailwarden("fleet", "run", "--now", "--kind", "posture",
                                      "--db", fleet.db)
            assert queued.returncode == 0, queued.stderr
            deadline = time.monotonic() + 60
            running: list[FleetJob] = []
            while time.monotonic() < deadline and len(running) < 2:
                running = [j for j in fleet.jobs() if j.state is JobState.RUNNING]
                time.sleep(0.05)
            assert len(running) == 2, fleet.log("worker-1")[-3000:]
            os.killpg(first.pid, signal.SIGKILL)  # mid-collection: Exchange answers slowly
            first.wait(30)
            killed = {j.job_id for j in running}
            second = fleet.worker("worker-2", "--threads", "2", "--dead-after", "3s")
            jobs = fleet.wait_until_done(4, "worker-1", "worker-2")
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()
            if second is not None:
                assert _stop(second) == 0, fleet.log("worker-2")[-2000:]
        assert Counter(job.state for job in jobs) == {JobState.SUCCEEDED: 4}, [
            job.error for job in jobs]
        taken_over = [job for job in jobs if job.job_id in killed]
        assert all(job.attempts == 2 for job in taken_over)
        assert "taking over" in fleet.log("worker-2")
        assert fleet.runs_per_tenant() == dict.fromkeys(fleet.tenants, 1)
        assert len(inbox.keys) == len(set(inbox.keys))
        assert set(inbox.tenants) == set(fleet.tenants)
        # A run stuck under a worker that vanished with its message is reaped.
        stuck = _stuck_job(fleet, minutes=20)
        reaped = fleet.mailwarden("fleet", "reap", "--older-than", "10m", "--db", fleet.db)
        assert reaped.returncode == 0, reaped.stderr
        (after,) = [job for job in fleet.jobs() if job.job_id == stuck]
        assert after.state is JobState.FAILED
        assert after.error is not None and "stopped heartbeating" in after.error


def _stuck_job(fleet: Fleet, *, minutes: int) -> str:
    """A logs job of the first tenant, running under a worker last heard of `minutes`
    ago, with no message left to run it."""
    long_ago = datetime.now(UTC) - timedelta(minutes=minutes)
    with FleetStore.open(fleet.db, create=False) as store:
        run = store.jobs.new_run(trigger="now", by="test", at=long_ago)
        job, _ = store.jobs.enqueue(run_id=run, tenant_id=fleet.tenants[0],
                                    kind=JobKind.LOGS, due_at=long_ago, at=long_ago)
        assert store.jobs.start(job.job_id, worker_id="gone/1/t", at=long_ago) is not None
    return job.job_id


@pytest.mark.parametrize("argv", [["worker"], ["worker", "--redis", "redis://127.0.0.1:1/0"]])
def test_a_worker_that_cannot_start_says_why_in_one_line(tmp_path: Path,
                                                          argv: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MAILWARDEN_REDIS_URL"}
    done = subprocess.run([sys.executable, "-m", "mailwarden", *argv, "--db",
                           str(tmp_path / "none.db")], text=True, capture_output=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "give --redis" in done.stderr or "does not answer" in done.stderr
