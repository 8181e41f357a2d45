"""`report`, `history` and `diff`: write the report files, list stored runs, show drift."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from mailwarden.assess import AssessOptions
from mailwarden.cli import app
from mailwarden.cli.accepting import ExceptionsOpt, exceptions_file
from mailwarden.cli.exitcodes import FailOnOpt, outcome, parse_fail_on
from mailwarden.cli.partial import (
    report_bad_rows,
    report_fail_on,
    report_partial_scan,
    report_unread_logs,
)
from mailwarden.cli.tables import (
    Column,
    FitTable,
    Record,
    chosen_format,
    format_option,
    json_alias,
)
from mailwarden.cli.ui import console, err_console, progress_board
from mailwarden.errors import NoHistoryError
from mailwarden.model.run import Drift, FindingChangeKind
from mailwarden.pipeline import detect_logs, report_and_store, scan_directory
from mailwarden.report import parse_formats
from mailwarden.store import diff_runs, list_runs
from mailwarden.store.location import ENV_VAR
from mailwarden.text import plural
from mailwarden.times import iso, iso_with_offset

_DB_HELP = (f"History database: a SQLite file path or postgresql://USER@HOST/DB "
            f"(default: ${ENV_VAR}, else the per-user data folder's mailwarden/history.db; "
            "report, scan, watch, history and diff all use it).")
DbOpt = Annotated[str | None, typer.Option("--db", help=_DB_HELP)]
JsonOpt = Annotated[bool, json_alias()]
FormatOpt = Annotated[str, format_option("table", "json")]
DormantDaysOpt = Annotated[
    int,
    typer.Option(
        "--dormant-days", min=1, envvar="MAILWARDEN_DORMANT_DAYS",
        help="A grant unused for this many days is dormant-delegate, when the Unified Audit "
        "Log under logs/ covers them (else that check is error).",
    ),
]


@app.command()
def report(
    from_dir: Annotated[Path, typer.Option("--from-dir", help="A recorded tenant directory.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the report files into.")],
    formats: Annotated[str, typer.Option(
        "--format", help="Comma-separated: html, json, csv, sarif, ocsf, md, or all.")
    ] = "html,json",
    custodians: Annotated[
        Path | None,
        typer.Option("--custodians", help="Custodians CSV or YAML (default: custodians.csv "
                     "or custodians.yaml beside the recorded tenant)."),
    ] = None,
    db: DbOpt = None,
    store: Annotated[
        bool, typer.Option("--store/--no-store", help="Keep the run in the history.")
    ] = True,
    exceptions: ExceptionsOpt = None,
    fail_on: FailOnOpt = None,
    dormant_days: DormantDaysOpt = 90,
) -> None:
    """Assess a recorded tenant (and its logs/, if any), write the reports, store the run.

    Every report lists the mailboxes in one risk order (as `scan` prints it): those with
    open high or critical alerts first, then by score, ties by blast radius.

    When Get-Mailbox or graph/users failed, the tenant's last stored run (--db) adds the
    ownerless mailboxes they would have named, so they stay in this run as error.

    Exceptions (--exceptions, and those kept for the tenant) make the failing findings they
    cover `accepted` in every format, with an Exceptions section (HTML, Markdown) listing
    the active, expiring (14 days), expired and unmatched ones; accepted findings never
    count for --fail-on.

    Exit codes: 0 done, every check judged; 1 findings fail at or above --fail-on; 2 bad
    usage or input (a bad exceptions file names each bad entry by line); 4 a partial result
    (the reports are written): a source failed or is missing, or checks are error for
    another reason (a licence the tenant lacks, a record too old to tell), or a log file
    could not be read; 5 the history database cannot be written; 70 internal error. 1 beats
    4, as for `scan` (docs/exit-codes.md)."""
    chosen = parse_formats(formats)
    threshold = parse_fail_on(fail_on)
    scan = scan_directory(from_dir, custodians_file=custodians, db_url=db,
                          exceptions_file=exceptions_file(exceptions),
                          at=datetime.now(UTC),
                          options=AssessOptions(dormant_days=dormant_days))
    with progress_board(enabled=err_console.is_terminal) as board:
        detection = detect_logs(from_dir, scan, progress=board)
    paths, run_id = report_and_store(
        scan, out, detection=detection, formats=chosen, db_url=db, store=store
    )
    for path in paths:
        console.print(f"wrote {path}")
    if run_id is not None:
        console.print(f"stored as run {run_id}")
    failed = sorted(s for s in scan.snapshot.problems if s not in scan.snapshot.limitations)
    if failed:
        err_console.print(f"[magenta]sources not read:[/] {escape(', '.join(failed))} "
                          "(checks that need them report error)", markup=True, soft_wrap=True)
    partial = report_partial_scan(scan.result)
    if detection is not None:
        report_bad_rows(detection)
        partial = report_unread_logs(detection, rules=True) or partial
    code = outcome(over=report_fail_on(scan.result.findings, threshold), partial=partial)
    if code:
        raise typer.Exit(code=int(code))


@app.command()
def history(
    db: DbOpt = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant id.")] = None,
    output_format: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List the stored runs, oldest first.

    Reads the history that `report`, `scan` and `watch` store runs in; creates nothing.
    Without a history database there it says so and lists no runs.

    Exit codes: 0 done (no runs stored is not an error); 2 bad usage; 5 the database
    cannot be read; 70 internal error."""
    as_json = chosen_format(output_format, as_json=as_json) == "json"
    try:
        runs = list_runs(db, tenant)
    except NoHistoryError as exc:
        if as_json:
            console.print_json("[]")
        else:
            console.print(str(exc), markup=False, soft_wrap=True)
        return
    if as_json:
        console.print_json(json.dumps([asdict(r) for r in runs], default=str))
        return
    if not runs:
        console.print("no runs stored yet: `mailwarden report` stores one")
        return
    table = FitTable([Column("run", ident=True, justify="right"),
                      Column("tenant", ident=True, drop=4), Column("name", drop=1),
                      Column("generated", ident=True),
                      Column("ownerless", justify="right", drop=2),
                      Column("failures", justify="right"),
                      Column("alerts", justify="right", drop=3)],
                     title=plural(len(runs), "stored run"))
    for r in runs:
        table.add_row(str(r.id), Text(r.tenant_id), Text(r.tenant_name or "-"),
                      iso(r.generated_at, timespec="seconds"),
                      str(r.ownerless), str(r.failures), "-" if r.alerts is None else str(r.alerts))
    console.print(table)


def _drift_lines(drift: Drift) -> list[str]:
    lines = []
    for kind in FindingChangeKind:
        lines += [f"{kind.value:10} {c.check_id} on {c.upn or 'the tenant'} "
                  f"({c.before.value if c.before else 'absent'} -> "
                  f"{c.after.value if c.after else 'absent'})" for c in drift.findings_of(kind)]
    lines += [f"mailbox+   {m.upn} ({m.kind})" for m in drift.mailboxes_added]
    lines += [f"mailbox-   {m.upn} ({m.kind})" for m in drift.mailboxes_removed]
    lines += [f"delegate+  {d.principal} {d.right} on {d.mailbox}" for d in drift.delegates_added]
    lines += [f"delegate-  {d.principal} {d.right} on {d.mailbox}"
              for d in drift.delegates_removed]
    lines += [f"setting    {s.setting} on {s.mailbox or 'the tenant'}: {s.before} -> {s.after}"
              for s in drift.settings_changed]
    return lines


@app.command()
def diff(
    run_a: Annotated[
        int | None, typer.Argument(help="The earlier run (default: the one before).")
    ] = None,
    run_b: Annotated[
        int | None, typer.Argument(help="The later run (default: the latest).")
    ] = None,
    db: DbOpt = None,
    output_format: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Show what changed between two runs of a tenant (default: its last two).

    A finding that failed and is now error (its input could not be read) is unverified,
    never fixed or gone; one that failed and an exception now accepts is accepted, never
    fixed (and regressed when the exception expires).

    Reads the history that `report`, `scan` and `watch` store runs in; creates nothing.

    Exit codes: 0 done; 2 bad usage, or no history database there; 5 a run is missing or
    the database cannot be read; 70 internal error."""
    as_json = chosen_format(output_format, as_json=as_json) == "json"
    drift = diff_runs(db, run_a, run_b)
    if as_json:
        console.print_json(json.dumps(_jsonable(asdict(drift)), default=str))
        return
    console.print(Record(f"run {drift.before.id} ({iso(drift.before.generated_at)}) -> "
                         f"run {drift.after.id} ({iso(drift.after.generated_at)}), "
                         f"tenant {drift.after.tenant_id}"))
    for line in _drift_lines(drift) or ["no changes"]:
        console.print(Record(line, indent=11))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return iso_with_offset(value) if isinstance(value, datetime) else value
