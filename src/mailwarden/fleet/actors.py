"""The fleet's Dramatiq broker and actor, as the processes of `mailwarden worker` load them.

Dramatiq's worker processes import this module (`dramatiq mailwarden.fleet.actors`, which
`mailwarden worker` runs), so it is configured by the environment the command sets:

- MAILWARDEN_REDIS_URL: the Redis of the queue, the tenants' limits and leases;
- MAILWARDEN_DB: the history database holding the fleet (its tenants, runs and jobs);
- MAILWARDEN_FLEET_STATE_DIR: the root of the tenants' state folders;
- MAILWARDEN_FLEET_DEAD_AFTER: seconds without a heartbeat after which a worker counts as
  dead: Redis gives its messages back after that long, and a job it ran may be taken over;
- MAILWARDEN_FLEET_METRICS: "1" adds Dramatiq's Prometheus middleware (its exposition
  server's address is Dramatiq's own `dramatiq_prom_host` and `dramatiq_prom_port`);
- MAILWARDEN_FLEET_CONFIG: a mailwarden.toml with the workers' endpoints, CA and limits;
- MAILWARDEN_EXO_CONCURRENCY / MAILWARDEN_GRAPH_CONCURRENCY: each tenant's requests in
  flight across every worker (defaults 3 and 16);
- MAILWARDEN_GRAPH_RATE / MAILWARDEN_GRAPH_BURST, MAILWARDEN_EXO_RATE / MAILWARDEN_EXO_BURST:
  each tenant's rate budget shared by every worker (default: none).

The actor `run_fleet_job` takes a job id (with the job's tenant and fleet run) and runs it
(`fleet.worker.JobRunner`). Dramatiq's own retries (with exponential backoff) apply only
when the actor cannot reach the store or Redis; a job's own failures are decided and
recorded by the runner.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from pathlib import Path

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from mailwarden.errors import ConfigError
from mailwarden.fleet.environment import (
    CONFIG_ENV,
    DB_ENV,
    DEAD_AFTER_ENV,
    METRICS_ENV,
    REDIS_ENV,
    STATE_ENV,
)
from mailwarden.fleet.limits import ScriptedRedisBackend, TenantLimiter, TenantLimits
from mailwarden.fleet.queue import ACTOR, QUEUE, job_message
from mailwarden.fleet.worker import JobRunner, WorkerOptions
from mailwarden.m365.pacing import rate_budget
from mailwarden.model.fleet import FleetJob
from mailwarden.settings import Settings, load_settings
from mailwarden.store.fleet import FleetStore

#: A job that runs longer than this is stopped by Dramatiq (it is then taken over or
#: reaped): above the longest collection allowed (`Settings.collect_deadline`).
TIME_LIMIT = timedelta(hours=3)
#: Dramatiq's retries when the store or Redis cannot be reached.
MAX_RETRIES = 10

log = logging.getLogger("mailwarden.fleet")


def dead_after() -> timedelta:
    text = os.environ.get(DEAD_AFTER_ENV, "60")
    try:
        seconds = float(text)
    except ValueError:
        raise ConfigError(f"{DEAD_AFTER_ENV}={text!r}: give seconds") from None
    return timedelta(seconds=seconds)


def maintenance_chance(dead: timedelta) -> int:
    """How many broker commands in a million look for dead workers' messages: about one a
    second of an idle worker's polling per `dead` seconds, so a dead worker's messages come
    back within about twice `dead`."""
    return max(1000, min(1_000_000, int(1_000_000 / max(1.0, dead.total_seconds()))))


def _settings() -> Settings:
    config = os.environ.get(CONFIG_ENV)
    return load_settings(toml_path=Path(config) if config else None, env=os.environ)


def build_broker() -> RedisBroker:
    url = os.environ.get(REDIS_ENV)
    if not url:
        raise ConfigError(f"set {REDIS_ENV}: the Redis of the fleet's queue")
    dead = dead_after()
    # Dramatiq leaves this constructor unannotated.
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=url, heartbeat_timeout=int(dead.total_seconds() * 1000),
        maintenance_chance=maintenance_chance(dead))
    if os.environ.get(METRICS_ENV) == "1":
        from dramatiq.middleware.prometheus import Prometheus

        broker.add_middleware(Prometheus())
    return broker


#: One line per request is the HTTP library's, not the fleet's: kept for problems only.
logging.getLogger("httpx").setLevel(logging.WARNING)
broker = build_broker()
dramatiq.set_broker(broker)

_runner: JobRunner | None = None
_runner_lock = threading.Lock()


def runner() -> JobRunner:
    """This process's runner, made on first use (after Dramatiq forked the process)."""
    global _runner
    with _runner_lock:
        if _runner is None:
            settings = _settings()
            state = os.environ.get(STATE_ENV)
            if not state:
                raise ConfigError(f"set {STATE_ENV}: where the tenants' state folders are")
            client = redis.Redis.from_url(os.environ[REDIS_ENV], socket_timeout=30)
            dead, db = dead_after(), os.environ.get(DB_ENV)
            # A dead worker's slots lapse when its jobs may be taken over.
            limiter = TenantLimiter(
                ScriptedRedisBackend(client),
                TenantLimits(graph=settings.graph_concurrency,
                             exchange=settings.exo_concurrency,
                             graph_rate=rate_budget(settings.graph_rate, settings.graph_burst),
                             exchange_rate=rate_budget(settings.exo_rate, settings.exo_burst)),
                ttl_ms=int(dead.total_seconds() * 1000))
            _runner = JobRunner(
                WorkerOptions(db_url=db, state_root=Path(state), settings=settings,
                              dead_after=dead,
                              heartbeat_every=min(15.0, dead.total_seconds() / 4)),
                store=FleetStore.open(db, create=False),
                redis_client=client, limiter=limiter, send_later=send_later)
        return _runner


def send_later(job: FleetJob, seconds: float) -> None:
    """Send the job's message again, to be delivered in `seconds`."""
    broker.enqueue(job_message(job), delay=max(0, int(seconds * 1000)))


@dramatiq.actor(actor_name=ACTOR, queue_name=QUEUE, max_retries=MAX_RETRIES,
                min_backoff=5_000, max_backoff=300_000,
                time_limit=int(TIME_LIMIT.total_seconds() * 1000))
def run_fleet_job(job_id: str, tenant_id: str | None = None, run_id: str | None = None) -> None:
    result = runner().run(job_id, tenant_id=tenant_id)
    log.info("job %s: %s%s", job_id, result.outcome.value,
             f" ({result.detail})" if result.detail else "")

