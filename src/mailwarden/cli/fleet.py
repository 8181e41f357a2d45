"""`mailwarden fleet`: the tenants one installation looks after, kept in the history database.

    mailwarden fleet add TENANT --client-id ID (--certificate PATH | --secret-env NAME)
                         [--multi-tenant-app] [--name NAME] [--posture-every 24h]
                         [--logs-every 15m] [--routing FILE] [--custodians FILE]
                         [--disabled] [--replace]
    mailwarden fleet list [--format table|json]
    mailwarden fleet remove TENANT
    mailwarden fleet status [--format table|json]
    mailwarden fleet run --now [TENANT ...] [--kind posture|logs] --redis URL
    mailwarden fleet scheduler [--tick 30s] [--reap-after 10m] [--resend-after 30m]
                               [--once] --redis URL
    mailwarden fleet reap [--older-than 10m]
    mailwarden fleet cancel ID

Credentials are kept by reference: a certificate's path, or the NAME of the environment
variable a worker reads the client secret from. `list` and `status` never create the
database. `run --now` records jobs and queues them on Redis at once; `scheduler` does so
as each tenant's slots fall due, sends again a message Redis lost and reaps the jobs of
workers that stopped heartbeating (`reap` does only that); `cancel` cancels a job or a
run's unfinished jobs. See docs/fleet.md.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from mailwarden.assess.custodians import load_custodians
from mailwarden.cli import app
from mailwarden.cli.fleet_views import status_document, status_table, tenant_dict, tenants_table
from mailwarden.cli.report import DbOpt
from mailwarden.cli.ui import console, err_console, who_records
from mailwarden.errors import ConfigError, InputError, NoHistoryError
from mailwarden.fleet.environment import REDIS_ENV
from mailwarden.model.fleet import (
    ENV_NAME,
    TENANT_NAME,
    Credential,
    FleetJob,
    FleetTenant,
    JobKind,
    JobState,
    Schedule,
    parse_interval,
    tenant_status,
)
from mailwarden.notify.routing import load_routing
from mailwarden.schemas import FLEET_SCHEMA
from mailwarden.store.fleet import FleetStore
from mailwarden.text import plural

fleet_app = typer.Typer(
    help="The tenants this installation looks after (a managed-service provider's fleet): "
    "add, list, remove, and see how their jobs stand.", no_args_is_help=True)
app.add_typer(fleet_app, name="fleet")

TenantArg = Annotated[str, typer.Argument(
    help="The tenant id (a GUID) or its verified domain, as sign-in takes it.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]


def _tenant_name(text: str) -> str:
    name = text.strip().lower()
    if not TENANT_NAME.fullmatch(name):
        raise ConfigError(f"{text!r} is not a tenant id or domain: give the tenant's id "
                          "(a GUID) or a verified domain such as contoso.onmicrosoft.com")
    return name


def _existing_file(path: Path | None, what: str) -> Path | None:
    if path is None:
        return None
    if not path.is_file():
        raise InputError(f"{path}: no such {what} file; give the path a worker reads it from")
    return path.resolve()


def _credential(client_id: str, certificate: Path | None, secret_env: str | None,
                multi_tenant: bool) -> Credential:
    if not client_id.strip():
        raise ConfigError("--client-id is empty: give the app's application (client) id")
    if (certificate is None) == (secret_env is None):
        raise ConfigError("give exactly one of --certificate PATH and --secret-env NAME "
                          "(the name of the variable that holds the client secret)")
    if secret_env is not None and not ENV_NAME.fullmatch(secret_env):
        raise ConfigError("--secret-env takes the NAME of an environment variable (upper "
                          "case letters, digits, _), never the secret itself")
    return Credential(client_id=client_id.strip(),
                      certificate_path=_existing_file(certificate, "certificate"),
                      secret_env=secret_env, multi_tenant=multi_tenant)


def _interval(text: str, option: str) -> timedelta:
    try:
        return parse_interval(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None


@fleet_app.command("add")
def add_command(
    tenant: TenantArg,
    client_id: Annotated[str, typer.Option("--client-id", help="The app's client id.")],
    certificate: Annotated[Path | None, typer.Option(
        "--certificate", help="The app's certificate (PEM with its private key), read by "
        "the worker when it signs in.")] = None,
    secret_env: Annotated[str | None, typer.Option(
        "--secret-env", help="The NAME of the environment variable holding the app's client "
        "secret on the workers. The secret itself is never stored.")] = None,
    multi_tenant_app: Annotated[bool, typer.Option(
        "--multi-tenant-app", help="The app is the fleet's one multi-tenant app, consented "
        "in this tenant.")] = False,
    name: Annotated[str | None, typer.Option("--name", help="A display name.")] = None,
    posture_every: Annotated[str, typer.Option(
        "--posture-every", help="How often to collect and assess the tenant: 24h, 12h, 1d.")
    ] = "24h",
    logs_every: Annotated[str, typer.Option(
        "--logs-every", help="How often to pull its logs and detect: 15m, 5m, 1h.")] = "15m",
    routing: Annotated[Path | None, typer.Option(
        "--routing", help="The tenant's routing file (docs/routing.md); checked now.")] = None,
    custodians: Annotated[Path | None, typer.Option(
        "--custodians", help="The tenant's custodians file (CSV or YAML); checked now.")
    ] = None,
    disabled: Annotated[bool, typer.Option(
        "--disabled", help="Keep the tenant but run none of its jobs.")] = False,
    replace_existing: Annotated[bool, typer.Option(
        "--replace", help="Change a tenant already in the fleet (its jobs are kept).")] = False,
    db: DbOpt = None,
) -> None:
    """Add a tenant to the fleet, or change one with --replace. The certificate, routing and
    custodians files must exist (the routing and custodians files are read and checked);
    their absolute paths are stored. Exit codes: 0 stored; 2 bad usage, a missing or bad
    file, or the tenant already in the fleet (see --replace); 5 the database cannot be
    written; 70 internal error."""
    schedule = Schedule(posture_every=_interval(posture_every, "--posture-every"),
                        logs_every=_interval(logs_every, "--logs-every"))
    entry = FleetTenant(
        tenant_id=_tenant_name(tenant), display_name=name.strip() if name else None,
        credential=_credential(client_id, certificate, secret_env, multi_tenant_app),
        schedule=schedule, routing_path=_existing_file(routing, "routing"),
        custodians_path=_existing_file(custodians, "custodians"), enabled=not disabled)
    if entry.routing_path is not None:
        load_routing(entry.routing_path)
    if entry.custodians_path is not None:
        load_custodians(entry.custodians_path)
    with FleetStore.open(db) as store:
        stored = store.add(entry, at=datetime.now(UTC), replace_existing=replace_existing)
    console.print(Text(f"{'changed' if replace_existing else 'added'} tenant "
                       f"{stored.tenant_id}: {stored.credential.described}"), soft_wrap=True)
    if secret_env is not None and secret_env not in os.environ:
        console.print(Text(f"note: ${secret_env} is not set here; the workers that run this "
                           "tenant's jobs must have it"), soft_wrap=True)


@fleet_app.command("list")
def list_command(output: FormatOpt = "table", db: DbOpt = None) -> None:
    """List the fleet's tenants: credential (by reference), schedule, files, enabled.
    Creates no database. Exit codes: 0 listed; 2 bad usage; 5 the database cannot be
    read; 70 internal error."""
    if output not in ("table", "json"):
        raise ConfigError(f"--format {output!r}: use table or json")
    try:
        with FleetStore.open(db, create=False) as store:
            tenants = store.tenants()
    except NoHistoryError:
        tenants = ()
    if output == "json":
        document = {"schema": FLEET_SCHEMA, "tenants": [tenant_dict(t) for t in tenants]}
        console.print(Text(json.dumps(document, indent=2, ensure_ascii=False)), soft_wrap=True)
        return
    console.print(tenants_table(tenants))


@fleet_app.command("remove")
def remove_command(tenant: TenantArg, db: DbOpt = None) -> None:
    """Take a tenant out of the fleet, with the record of its jobs; refused while one of
    them runs. Exit codes: 0 removed; 2 bad usage, no history database, the tenant not in
    the fleet, or one of its jobs running; 5 the database cannot be written; 70 internal
    error."""
    with FleetStore.open(db, create=False) as store:
        removed = store.remove(_tenant_name(tenant))
    console.print(Text(f"removed tenant {removed.tenant_id} from the fleet"), soft_wrap=True)


@fleet_app.command("status")
def status_command(output: FormatOpt = "table", db: DbOpt = None) -> None:
    """How each tenant's jobs stand: per kind (posture, logs) the last success and its
    freshness (fresh within its interval, stale, never, paused), the job running (worker,
    heartbeat), and the failure since the last success with its error. Creates no
    database. Exit codes: 0 shown; 2 bad usage; 5 the database cannot be read; 70
    internal error."""
    if output not in ("table", "json"):
        raise ConfigError(f"--format {output!r}: use table or json")
    now = datetime.now(UTC)
    try:
        with FleetStore.open(db, create=False) as store:
            jobs = store.jobs.for_status()
            statuses = tuple(tenant_status(t, jobs, now) for t in store.tenants())
    except NoHistoryError:
        statuses = ()
    if output == "json":
        console.print(Text(json.dumps(status_document(statuses, now), indent=2,
                                      ensure_ascii=False)), soft_wrap=True)
        return
    console.print(status_table(statuses, now))


@fleet_app.command("run")
def run_command(
    tenants: Annotated[list[str] | None, typer.Argument(
        help="Tenants to run (default: every enabled tenant; a disabled one runs only when "
        "named).")] = None,
    now: Annotated[bool, typer.Option(
        "--now", help="Enqueue the jobs now (for the current minute's slot).")] = False,
    kinds: Annotated[list[str] | None, typer.Option(
        "--kind", help="posture or logs; repeat for both (default: both).")] = None,
    redis_url: Annotated[str | None, typer.Option(
        "--redis", envvar=REDIS_ENV, show_envvar=False,
        help=f"The Redis the workers read their queue from (or {REDIS_ENV}).")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who asks (default: the OS user name).")] = None,
    db: DbOpt = None,
) -> None:
    """Enqueue jobs for the fleet's workers: each job is recorded in the history database,
    one per tenant, kind and minute (asking twice in a minute names the same jobs), and a
    message naming it is put on the Redis queue "mailwarden-fleet". A job that already
    runs or has finished is not sent again. `fleet scheduler` enqueues the jobs as they
    fall due; this enqueues them now (docs/fleet.md). Exit codes: 0 enqueued; 2 bad
    usage, a tenant not in the fleet, no history database, or Redis not answering; 5 the
    database cannot be written; 70 internal error."""
    from mailwarden.fleet.broker import redis_broker
    from mailwarden.fleet.queue import enqueue_now

    if not now:
        raise ConfigError("give --now to enqueue jobs now; `mailwarden fleet scheduler` "
                          "enqueues them as they fall due")
    chosen_kinds = _kinds(kinds or [kind.value for kind in JobKind])
    if not redis_url:
        raise ConfigError(f"give --redis redis://HOST:PORT/DB (or set {REDIS_ENV}): the "
                          "queue the workers read")
    names = tuple(_tenant_name(t) for t in tenants or ())
    who = who_records(by)
    with redis_broker(redis_url) as broker, FleetStore.open(db, create=False) as store:
        done = enqueue_now(store, broker, tenants=names, kinds=chosen_kinds, by=who,
                           now=datetime.now(UTC))
    for job in done.sent:
        console.print(Text(f"queued {job.kind.value} of {job.tenant_id} (job {job.job_id})"),
                      soft_wrap=True)
    for job in done.busy:
        console.print(Text(f"{job.kind.value} of {job.tenant_id} is {job.state.value} "
                           f"already (job {job.job_id}); not sent again"), soft_wrap=True)
    for tenant_id in done.paused:
        console.print(Text(f"skipped {tenant_id}: disabled"), soft_wrap=True)
    console.print(Text(f"run {done.run_id}: {plural(len(done.sent), 'job')} queued"),
                  soft_wrap=True)


def _kinds(values: list[str]) -> tuple[JobKind, ...]:
    try:
        return tuple(dict.fromkeys(JobKind(v.strip().lower()) for v in values))
    except ValueError:
        raise ConfigError(f"--kind {', '.join(values)}: use posture or logs") from None


def _duration(text: str, option: str, shortest: timedelta = timedelta(seconds=1)) -> timedelta:
    from mailwarden.fleet.schedule import duration_text, parse_duration

    try:
        duration = parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None
    if duration < shortest:
        raise ConfigError(f"{option} {text}: give {duration_text(shortest)} or more")
    return duration


def _say(line: str) -> None:
    console.print(Text(line), soft_wrap=True)


def _warn(line: str) -> None:
    err_console.print(Text(line), soft_wrap=True)


@fleet_app.command("scheduler")
def scheduler_command(
    tick: Annotated[str, typer.Option(
        "--tick", help="How often to look for due slots: 30s, 1m.")] = "30s",
    reap_after: Annotated[str, typer.Option(
        "--reap-after", help="Fail a running job whose worker has sent no heartbeat for "
        "this long (2m at least; workers beat every 15 s).")] = "10m",
    resend_after: Annotated[str, typer.Option(
        "--resend-after", help="Send again the message of a job still queued this long "
        "after its last one.")] = "30m",
    once: Annotated[bool, typer.Option(
        "--once", help="Do one round and exit.")] = False,
    redis_url: Annotated[str | None, typer.Option(
        "--redis", envvar=REDIS_ENV, show_envvar=False,
        help=f"The Redis the workers read their queue from (or {REDIS_ENV}).")] = None,
    db: DbOpt = None,
) -> None:
    """Enqueue each enabled tenant's jobs as their slots fall due, every --tick until
    SIGTERM or Ctrl-C (then it releases its lock and exits 0). A tenant's slots are its
    interval apart, at an offset of its own so that tenants do not all start together; a
    slot is due while it has no job (a `fleet run --now` counts). Each round also sends
    again the message of a job still queued --resend-after after its last one (one lost
    by Redis must not leave it waiting) and fails, as reaped, a running job whose worker
    stopped heartbeating --reap-after ago. One line is printed per job queued, re-sent or
    reaped. Only one scheduler works at a time: a second one (on any host, same Redis)
    says which holds the lock and waits for it, or with --once does nothing. A round that
    fails (database or Redis down) is reported and tried again at the next. Exit codes: 0
    stopped by a signal, or --once done (also when another scheduler held the lock and
    nothing was done); 2 bad usage, no history database, or Redis not answering; 5 the
    database cannot be read or written (--once); 70 internal error."""
    import signal
    import threading

    from mailwarden.fleet.broker import redis_broker
    from mailwarden.fleet.schedule import (
        SHORTEST_REAP_AFTER,
        Loop,
        SchedulerLock,
        duration_text,
        serve,
        this_process,
    )

    loop = Loop(every=_duration(tick, "--tick"),
                reap_after=_duration(reap_after, "--reap-after", SHORTEST_REAP_AFTER),
                resend_after=_duration(resend_after, "--resend-after", timedelta(minutes=1)),
                by=f"scheduler {this_process()}")
    if not redis_url:
        raise ConfigError(f"give --redis redis://HOST:PORT/DB (or set {REDIS_ENV}): the "
                          "queue the workers read")
    stop = threading.Event()
    with redis_broker(redis_url) as broker, FleetStore.open(db, create=False) as store:
        # Long enough for a slow round; short enough that a scheduler that died without
        # letting go is replaced within a few ticks.
        lock = SchedulerLock.of(broker, ttl=max(3 * loop.every, timedelta(minutes=1)))
        if once:
            serve(store, broker, lock, loop, stop=stop, say=_say, warn=_warn, once=True)
            return
        previous = {sig: signal.signal(sig, lambda *_: stop.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            _say(f"scheduler {lock.holder_name}: a round every {duration_text(loop.every)}, "
                 f"reaping after {duration_text(loop.reap_after)}, re-sending after "
                 f"{duration_text(loop.resend_after)}")
            serve(store, broker, lock, loop, stop=stop, say=_say, warn=_warn)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    _say("scheduler stopped")


@fleet_app.command("reap")
def reap_command(
    older_than: Annotated[str, typer.Option(
        "--older-than", help="Fail running jobs whose last heartbeat is older than this "
        "(2m at least; workers beat every 15 s).")] = "10m",
    db: DbOpt = None,
) -> None:
    """Fail, as reaped, every running job whose worker has sent no heartbeat for
    --older-than (the worker died or hangs); the scheduler does this every round. A job
    whose heartbeat arrives meanwhile is left running. Needs no Redis. Exit codes: 0 done
    (also when nothing was reaped); 2 bad usage or no history database; 5 the database
    cannot be written; 70 internal error."""
    from mailwarden.fleet.schedule import SHORTEST_REAP_AFTER, duration_text

    stale = _duration(older_than, "--older-than", SHORTEST_REAP_AFTER)
    now = datetime.now(UTC)
    with FleetStore.open(db, create=False) as store:
        reaped = store.jobs.reap(now - stale, now)
    for job in reaped:
        _say(f"reaped {job.kind.value} of {job.tenant_id} (job {job.job_id}): {job.error}")
    _say(f"{plural(len(reaped), 'job')} reaped" if reaped else
         f"nothing to reap: every running job has sent a heartbeat in the last "
         f"{duration_text(stale)}")


@fleet_app.command("cancel")
def cancel_command(
    job_or_run: Annotated[str, typer.Argument(
        metavar="ID", help="A job's id, or a fleet run's id (cancels its unfinished jobs).")],
    db: DbOpt = None,
) -> None:
    """Cancel a queued or running job, or every unfinished job of a fleet run (the id
    `fleet run` and the scheduler print). A queued job is not started; a running one is
    marked cancelled and its worker stops it at its next heartbeat. Exit codes: 0
    cancelled, or nothing left to cancel (the job had finished); 2 bad usage, no history
    database, or no job or run with that id; 5 the database cannot be written; 70
    internal error."""
    wanted = job_or_run.strip().lower()
    now = datetime.now(UTC)
    with FleetStore.open(db, create=False) as store:
        job = store.jobs.job(wanted) if wanted else None
        if job is not None:
            if job.state.finished or not store.jobs.cancel(job.job_id, at=now):
                state = (store.jobs.job(job.job_id) or job).state.value
                _say(f"job {job.job_id} ({job.kind.value} of {job.tenant_id}) is {state} "
                     "already; nothing to cancel")
                return
            _say(_cancelled(job))
            return
        cancelled = store.jobs.cancel_run(wanted, at=now) if wanted else None
    if cancelled is None:
        raise InputError(f"no fleet job or run has the id {job_or_run!r}; `fleet run` and "
                         "`fleet scheduler` print the ids of what they queue")
    for each in cancelled:
        _say(_cancelled(each))
    _say(f"run {wanted}: {plural(len(cancelled), 'job')} cancelled" if cancelled else
         f"run {wanted}: nothing to cancel, every job of it had finished")


def _cancelled(job: FleetJob) -> str:
    if job.state is JobState.RUNNING:
        return (f"cancelled {job.kind.value} of {job.tenant_id} (job {job.job_id}); it was "
                f"running on {job.worker_id or 'a worker'}, which stops it at its next "
                "heartbeat")
    return f"cancelled {job.kind.value} of {job.tenant_id} (job {job.job_id}); it was queued"
