"""`mailwarden collect-logs`: read new sign-in, directory-audit and Unified Audit Log
records from the APIs into a recorded tenant's logs/, from a checkpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from mailwarden.cli import app
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
from mailwarden.cli.ui import console, err_console, progress_board
from mailwarden.collect.logs import (
    LABELS,
    LOG_KINDS,
    LogBatch,
    load_checkpoint,
)
from mailwarden.errors import ConfigError, ServiceError
from mailwarden.pipeline import collect_logs_to_directory
from mailwarden.text import plural
from mailwarden.times import parse_time

#: Where the checkpoint lives unless --checkpoint says otherwise; detect skips dot files.
DEFAULT_CHECKPOINT = Path("logs") / ".checkpoint.json"
DEFAULT_DAYS = 7


def _moment(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    moment = parse_time(text)
    if moment is None:
        raise ConfigError(f"{flag} {text!r}: give an ISO date or time, such as "
                          "2025-01-31 or 2025-01-31T08:00:00Z")
    return moment


def _start(since: str | None, days: int | None) -> datetime:
    if since is not None and days is not None:
        raise ConfigError("give one of --since and --days, not both")
    if days is not None and days < 1:
        raise ConfigError(f"--days {days}: give a number of days, 1 or more")
    moment = _moment(since, "--since")
    return moment or datetime.now(UTC) - timedelta(days=days or DEFAULT_DAYS)


def _summary(batch: LogBatch) -> list[str]:
    lines = []
    for kind in LOG_KINDS:
        if kind in batch.errors:
            lines.append(f"{LABELS[kind]}: failed: {batch.errors[kind]}")
        elif kind in batch.records:
            skipped = batch.duplicates.get(kind, 0)
            count = batch.count(kind)
            lines.append(f"{LABELS[kind]}: {count:,} new {'record' if count == 1 else 'records'}"
                         + (f" ({skipped:,} read before, skipped)" if skipped else ""))
    return lines


@app.command("collect-logs")
def collect_logs_command(
    out: Annotated[Path, typer.Option("--out", help="Recorded tenant directory; records are "
                                      "appended to its logs/ folder.")],
    since: Annotated[str | None, typer.Option(
        "--since", help="Read from this time (ISO) on the first run; a checkpoint wins.")] = None,
    days: Annotated[int | None, typer.Option(
        "--days", help=f"Read the last N days on the first run (default {DEFAULT_DAYS}).")] = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Read up to this time (ISO); default now.")] = None,
    checkpoint_file: Annotated[Path | None, typer.Option(
        "--checkpoint", help="Checkpoint file; default OUT/logs/.checkpoint.json.")] = None,
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Read sign-ins, directory audits and the Unified Audit Log (Exchange records) since the
    last run, append them to OUT/logs/, and move the checkpoint.

    Needs AuditLog.Read.All and AuditLogsQuery.Read.All. A kind that fails keeps its
    checkpoint, so the next run reads it again.

    Exit codes: 0 every kind read; 2 bad usage; 3 sign-in or permission refused; 4 a kind
    failed (its checkpoint is kept); 70 internal error."""
    connection = Connection.of(locals())
    settings = connection.settings()
    path = checkpoint_file or out / DEFAULT_CHECKPOINT
    start = _start(since, days)
    if load_checkpoint(path) is not None and (since is not None or days is not None):
        err_console.print(f"continuing from the checkpoint {path}; --since/--days apply "
                          "only to a first run", soft_wrap=True)
    end = _moment(until, "--until")
    with progress_board(enabled=not quiet) as board, open_session(settings) as session:
        batch = collect_logs_to_directory(
            session, out, checkpoint_file=path, start=start, until=end, progress=board,
        )
    for line in _summary(batch):
        console.print(line, markup=False, soft_wrap=True)
    if batch.errors:
        failed = len(batch.errors)
        again = "it is" if failed == 1 else "they are"
        err_console.print(f"{plural(failed, 'kind')} failed; {again} read again on the next run",
                          soft_wrap=True)
        raise typer.Exit(code=ServiceError.exit_code)
