"""`mailwarden worker`: Dramatiq worker processes running the fleet's jobs.

    mailwarden worker [--redis URL] [--db URL] [--state-dir DIR] [--processes N]
                      [--threads N] [--metrics-host 127.0.0.1] [--metrics-port 9191]
                      [--dead-after 60s] [--config FILE]

It checks that Redis answers and that the history database holds a fleet, then runs
Dramatiq's own worker (processes x threads, each process importing
`mailwarden.fleet.actors`) on the queue "mailwarden-fleet". SIGTERM or Ctrl-C stops it:
each process stops taking messages and lets its running jobs finish (Dramatiq's shutdown
timeout, 10 minutes); a job cut short is run again from its message, which Redis gives
back when the worker's heartbeat stops.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import platformdirs
import typer

from mailwarden.cli import app
from mailwarden.cli.report import DbOpt
from mailwarden.errors import ConfigError, NoHistoryError
from mailwarden.fleet.environment import (
    CONFIG_ENV,
    DB_ENV,
    DEAD_AFTER_ENV,
    METRICS_ENV,
    REDIS_ENV,
    STATE_ENV,
)
from mailwarden.settings import load_settings
from mailwarden.watch.durations import parse_duration

#: The shortest --dead-after: the heartbeat comes every quarter of it.
SHORTEST_DEAD_AFTER = 2.0


def default_state_root() -> Path:
    return Path(platformdirs.user_state_dir("mailwarden")) / "fleet"


@app.command("worker")
def worker_command(
    redis_url: Annotated[str | None, typer.Option(
        "--redis", envvar=REDIS_ENV, show_envvar=False,
        help=f"The Redis of the fleet's queue (or {REDIS_ENV}).")] = None,
    db: DbOpt = None,
    state_dir: Annotated[Path | None, typer.Option(
        "--state-dir", help="Root of the tenants' state folders (log window, checkpoints, "
        "notification outbox), one folder per tenant. Workers on several machines share "
        "it. Default: the per-user state folder's mailwarden/fleet.")] = None,
    processes: Annotated[int, typer.Option(
        "--processes", help="Worker processes.")] = 1,
    threads: Annotated[int, typer.Option(
        "--threads", help="Jobs each process runs at once.")] = 8,
    metrics_host: Annotated[str, typer.Option(
        "--metrics-host", help="Address of the Prometheus metrics endpoint.")] = "127.0.0.1",
    metrics_port: Annotated[int, typer.Option(
        "--metrics-port", help="Port of the Prometheus metrics endpoint (Dramatiq's "
        "Prometheus middleware); 0 serves no metrics.")] = 9191,
    dead_after: Annotated[str, typer.Option(
        "--dead-after", help="A worker silent this long counts as dead: Redis gives its "
        "messages back and its jobs may be taken over. The same on every worker.")] = "60s",
    config: Annotated[Path | None, typer.Option(
        "--config", help="mailwarden.toml with the endpoints, CA and per-tenant limits "
        "(graph_concurrency, exo_concurrency; rate budgets graph_rate, graph_burst, "
        "exo_rate, exo_burst) the workers use.")] = None,
) -> None:
    """Run the fleet's jobs: Dramatiq worker processes x threads reading the Redis queue
    "mailwarden-fleet", each job signed in to its tenant from the registry's credential,
    within the tenant's limits shared by every worker. Runs until SIGTERM or Ctrl-C.
    Exit codes: 0 stopped; 2 bad usage, Redis not answering, or no fleet in the history
    database; 5 the database cannot be read; 70 internal error (a worker process could not
    start)."""
    from dramatiq import cli as dramatiq_cli

    from mailwarden.fleet.broker import redis_broker
    from mailwarden.store.fleet import FleetStore

    if processes < 1 or threads < 1:
        raise ConfigError("--processes and --threads take 1 or more")
    if not 0 <= metrics_port <= 65535:
        raise ConfigError(f"--metrics-port {metrics_port}: give a port, or 0 for none")
    dead = parse_duration(dead_after, what="--dead-after").total_seconds()
    if dead < SHORTEST_DEAD_AFTER:
        raise ConfigError(f"--dead-after {dead_after}: give {SHORTEST_DEAD_AFTER:g}s or more")
    if not redis_url:
        raise ConfigError(f"give --redis redis://HOST:PORT/DB (or set {REDIS_ENV}): the "
                          "queue the jobs are on")
    load_settings(toml_path=config, env=os.environ)  # a bad file is told here, not per job
    with redis_broker(redis_url):
        pass
    try:
        with FleetStore.open(db, create=False) as store:
            tenants = store.tenants()
    except NoHistoryError as exc:
        raise ConfigError(f"{exc}; `mailwarden fleet add` registers the fleet's "
                          "tenants") from None
    if not tenants:
        typer.echo("note: the fleet has no tenants yet; `mailwarden fleet add` adds them",
                   err=True)
    root = (state_dir or default_state_root()).resolve()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.update({REDIS_ENV: redis_url, STATE_ENV: str(root),
                       DEAD_AFTER_ENV: f"{dead:g}",
                       METRICS_ENV: "1" if metrics_port else "0"})
    if db:
        os.environ[DB_ENV] = db
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    if metrics_port:
        # Read by Dramatiq's Prometheus middleware when it is first imported, which is
        # in the worker processes: its files go to a folder of this worker's own.
        # Dramatiq names these variables in lower case.
        os.environ.update({
            "dramatiq_prom_host": metrics_host, "dramatiq_prom_port": str(metrics_port),
            "dramatiq_prom_db": tempfile.mkdtemp(prefix="mailwarden-metrics-")})
    parser = dramatiq_cli.make_argument_parser()  # type: ignore[no-untyped-call]
    args = parser.parse_args([
        "mailwarden.fleet.actors", "--processes", str(processes), "--threads", str(threads),
        "--queues", "mailwarden-fleet"])
    code = dramatiq_cli.main(args)  # type: ignore[no-untyped-call]
    if code:
        typer.echo(f"error: the worker stopped with Dramatiq's code {code} (see the log "
                   "lines above)", err=True)
        raise typer.Exit(70)
