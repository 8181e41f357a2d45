"""`mailwarden watch` (new log records every cycle, routed alerts) and `mailwarden alerts`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import httpx
import platformdirs
import typer

from mailwarden.cli import app
from mailwarden.cli.accepting import ExceptionsOpt, exceptions_file
from mailwarden.cli.connect import (
    CaBundleOpt,
    CertificateOpt,
    ClientIdOpt,
    CloudOpt,
    ConfigOpt,
    Connection,
    DeviceCodeOpt,
    ExoUrlOpt,
    GraphUrlOpt,
    LoginUrlOpt,
    TenantOpt,
    open_session,
)
from mailwarden.cli.report import DbOpt
from mailwarden.cli.ui import err_console
from mailwarden.console.answer_links import AnswerLinks, incident_answer_links
from mailwarden.console.links import load_link_key
from mailwarden.detect.lifecycle import Policy
from mailwarden.errors import ConfigError
from mailwarden.files import open_private_append
from mailwarden.notify import Senders, load_routing
from mailwarden.pipeline import find_custodians
from mailwarden.settings import load_settings
from mailwarden.statelock import hold_folder
from mailwarden.store.location import ENV_VAR, described, resolve_db_url
from mailwarden.watch import (
    DIRECTORY_CHECKPOINT,
    DirectorySource,
    LoopOptions,
    TenantSource,
    WatchConfig,
    watch_loop,
)
from mailwarden.watch.cycle import STATE_DIR_HINT, FirstCycle
from mailwarden.watch.durations import parse_duration
from mailwarden.watch.state import legacy_history, load_state, save_state

StateDirOpt = Annotated[Path | None, typer.Option(
    "--state-dir", help="Where the watcher keeps its checkpoints, outbox, log window and "
    "alert states (default: the per-user state folder's mailwarden/watch). Its runs go to "
    "the history database (--db), not here.")]


def default_state_dir() -> Path:
    return Path(platformdirs.user_state_dir("mailwarden")) / "watch"


@contextmanager
def _log_writer(path: Path | None) -> Iterator[Callable[[str], None]]:
    """Cycle lines to a file (appended, 0600) or to stderr."""
    if path is None:
        yield lambda line: print(line, file=sys.stderr, flush=True)
        return
    with open_private_append(path) as handle:
        def write(line: str) -> None:
            handle.write(line + "\n")
            handle.flush()
        yield write


@contextmanager
def _source(from_dir: Path | None, state_dir: Path, connection: Connection
            ) -> Iterator[TenantSource]:
    """The directory, or the APIs through one session kept for the whole watch."""
    if from_dir is not None:
        yield DirectorySource(from_dir, state_dir / DIRECTORY_CHECKPOINT)
        return
    from mailwarden.watch.api import ApiSource

    with open_session(connection.settings()) as session:
        yield ApiSource(session, state_dir)


def _answer_links(config: Path | None, db: str | None) -> AnswerLinks | None:
    """The "was this you?" links for custodians' emails, when a console URL is set."""
    url = load_settings(toml_path=config).console_url
    if not url:
        return None
    return incident_answer_links(db, load_link_key(), url)


def _tell_of_legacy_history(state: Path, db: str | None) -> None:
    """Say once per state folder that the run history an earlier version kept in it is no
    longer added to, and how to go on with it; the file is left as it is."""
    old = legacy_history(state)
    if old is None:
        return
    current = resolve_db_url(db)
    if (current.get_backend_name() == "sqlite" and current.database
            and Path(current.database).resolve() == old.resolve()):
        return
    saved = load_state(state)
    if saved.legacy_history_told:
        return
    err_console.print(
        f"note: {old} holds the runs an earlier version of watch stored; runs now go to "
        f"{described(current)} with those of report and scan, where history and diff read "
        f"them. To go on with the old history, give --db {old} to watch, history and diff "
        f"(or set {ENV_VAR} to it). This is said once.", markup=False, soft_wrap=True)
    save_state(state, replace(saved, legacy_history_told=True))


@app.command("watch")
def watch_command(
    routing_path: Annotated[Path, typer.Option(
        "--routing", help="Routing file (YAML); see routing.example.yaml in mailwarden.notify.")],
    state_dir: StateDirOpt = None,
    interval: Annotated[str, typer.Option(
        "--interval", help="Time between cycles: 90s, 15m, 1h.")] = "15m",
    once: Annotated[bool, typer.Option(
        "--once", help="Run one cycle and exit (cron, systemd timers).")] = False,
    cycles: Annotated[int | None, typer.Option(
        "--cycles", help="Stop after this many cycles (failed ones included), "
        "--interval apart; default: run until stopped.")] = None,
    posture_every: Annotated[str, typer.Option(
        "--posture-every", help="Re-collect the posture (mailboxes, settings) this often.")
    ] = "24h",
    history: Annotated[str, typer.Option(
        "--history", help="Log history kept for windowed rules (spray, baselines).")] = "8d",
    from_dir: Annotated[Path | None, typer.Option(
        "--from-dir", help="Read a recorded tenant directory whose logs/ grow between cycles "
        "instead of the APIs.")] = None,
    custodians: Annotated[Path | None, typer.Option(
        "--custodians", help="CSV or YAML mailbox -> custodian (default: custodians.csv "
        "beside the tenant).")] = None,
    db: DbOpt = None,
    incident_window: Annotated[str, typer.Option(
        "--incident-window", help="Alerts further apart than this are separate incidents.")
    ] = "3d",
    quiet_period: Annotated[str, typer.Option(
        "--quiet-period", help="An incident this long without new alerts (on the logs' "
        "clock) is resolved.")] = "7d",
    first_cycle: Annotated[str, typer.Option(
        "--first-cycle", help="What the first cycle on a state folder sends: summary (one "
        "message per custodian, one to the security team and one per chat or webhook "
        "channel: what is open now), all (as any later cycle), quiet (nothing). It stores "
        "everything either way; later cycles tell only what is new or worse.")] = "summary",
    digest_hour: Annotated[int | None, typer.Option(
        "--digest-hour", help="Send the non-critical digest once a day, in the first cycle "
        "at or after this hour (0-23, UTC); until then it is held. Default: every cycle.")
    ] = None,
    log_file: Annotated[Path | None, typer.Option(
        "--log-file", help="Append the one JSON line per cycle here instead of stderr.")
    ] = None,
    tenant: TenantOpt = None,
    client_id: ClientIdOpt = None,
    certificate: CertificateOpt = None,
    device_code: DeviceCodeOpt = False,
    cloud: CloudOpt = None,
    login_url: LoginUrlOpt = None,
    graph_url: GraphUrlOpt = None,
    exo_url: ExoUrlOpt = None,
    ca_bundle: CaBundleOpt = None,
    config: ConfigOpt = None,
    exceptions: ExceptionsOpt = None,
) -> None:
    """Pull new log records every cycle, detect, check, store the run, group the alerts into
    incidents (kept in the history database with their lifecycle), and send each new or
    worsened incident to the people answerable; restart-safe.

    Critical incidents are sent at once; the other incidents and newly failing checks of a
    cycle go in one digest per recipient and channel (per custodian and to the security
    team by email, one per Teams, Slack or JSON webhook channel; syslog gets one event
    each), or once a day with --digest-hour. The first cycle on a state folder sets the
    baseline (--first-cycle), sent at once whatever --digest-hour says. --history
    applies from the first cycle: older records it reads are dropped before detection.

    Each cycle's run goes to the history database every command uses (--db, else
    $MAILWARDEN_DB, else the per-user history.db), so `mailwarden history` lists it.
    Exceptions (--exceptions, re-read every cycle, and those kept for the tenant) make the
    failing findings they cover `accepted`: they are not sent as failing.

    With console_url set (--config, or $MAILWARDEN_CONSOLE_URL), each email a custodian
    gets about an incident links to the console's "was this you?" page for it.

    Exit codes: 0 done; 2 bad usage or input, or another process holds --state-dir; 3
    sign-in or permission refused; 4 a --once cycle could not read the service; 5 the
    history database cannot be written; 70 internal error."""
    if cycles is not None and cycles < 1:
        raise ConfigError(f"--cycles {cycles}: give a number of cycles, 1 or more")
    if once and cycles is not None:
        raise ConfigError("choose one of --once and --cycles N (--once is --cycles 1)")
    if digest_hour is not None and not 0 <= digest_hour <= 23:
        raise ConfigError(f"--digest-hour {digest_hour}: give an hour from 0 to 23 (UTC)")
    if first_cycle not in set(FirstCycle):
        raise ConfigError(f"--first-cycle {first_cycle}: give summary, all or quiet")
    routing = load_routing(routing_path)
    state = state_dir or default_state_dir()
    options = LoopOptions(interval=parse_duration(interval, what="--interval"), once=once,
                          max_cycles=cycles)
    policy = Policy(proximity=parse_duration(incident_window, what="--incident-window"),
                    quiet=parse_duration(quiet_period, what="--quiet-period"))
    connection = Connection.of(locals())
    with _source(from_dir, state, connection) as source:
        watch_config = WatchConfig(
            state_dir=state, routing=routing,
            posture_every=parse_duration(posture_every, what="--posture-every"),
            history=parse_duration(history, what="--history"),
            custodians_file=find_custodians(from_dir, custodians) if from_dir else custodians,
            exceptions_file=exceptions_file(exceptions, config),
            db_url=db, policy=policy, first_cycle=FirstCycle(first_cycle),
            digest_hour=digest_hour, answer_links=_answer_links(config, db))
        with (hold_folder(state, hint=STATE_DIR_HINT), _log_writer(log_file) as log,
              httpx.Client() as client):
            _tell_of_legacy_history(state, db)
            senders = Senders(client=client, redact=routing.redactor)
            watch_loop(watch_config, source, senders.send, options=options, log=log)


