"""Commands that produce or read a tenant: synth, collect, inventory, scan, checks."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from mailwarden.assess import AssessOptions, list_checks
from mailwarden.cli import app
from mailwarden.cli.accepting import ExceptionsOpt, exceptions_file
from mailwarden.cli.connect import (
    CaBundleOpt,
    CertificateOpt,
    ClientIdOpt,
    CloudOpt,
    ConfigOpt,
    Connection,
    DeadlineOpt,
    DeviceCodeOpt,
    ExoUrlOpt,
    GraphUrlOpt,
    LoginUrlOpt,
    SequentialOpt,
    TenantOpt,
    collect_with_progress,
    exit_if_stopped,
    report_failed_sources,
    report_stopped,
)
from mailwarden.cli.exitcodes import FailOnOpt, outcome, parse_fail_on
from mailwarden.cli.partial import (
    PARTIAL_EXIT,
    report_bad_rows,
    report_fail_on,
    report_partial_scan,
    report_unread_logs,
)
from mailwarden.cli.report import DbOpt, DormantDaysOpt
from mailwarden.cli.tables import check_format, format_option
from mailwarden.cli.ui import console, err_console, progress_board
from mailwarden.cli.views import (
    checks_document,
    checks_table,
    detection_table,
    exception_lines,
    failures_table,
    inventory_csv,
    inventory_document,
    inventory_table,
    kinds_line,
    riskiest_table,
    status_line,
)
from mailwarden.detect.results import DetectionResult
from mailwarden.errors import ConfigError
from mailwarden.files import write_private_text
from mailwarden.model.findings import ProblemKind
from mailwarden.pipeline import (
    INVENTORY_SOURCES,
    Scan,
    detect_logs,
    rank_by_evidence,
    scan_directory,
    scan_snapshot,
    store_scan,
    write_alerts,
    write_findings,
)
from mailwarden.tenant.snapshot import snapshot_from_recorded
from mailwarden.text import plural

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
ProfileOpt = Annotated[
    str,
    typer.Option(
        "--profile",
        help="The synthetic tenant's licences: mixed (Microsoft 365 E3 and E5, Entra ID P2), "
        "business-basic (no Entra ID P1: security defaults, no conditional access), e3 "
        "(Entra ID P1, no PIM) or e5 (Entra ID P2, PIM).",
    ),
]
CustodiansOpt = Annotated[
    Path | None,
    typer.Option(
        "--custodians",
        help="CSV or YAML mapping mailbox -> custodian (and team). Default: custodians.csv "
        "or custodians.yaml beside the recorded tenant, else custodians are inferred.",
    ),
]


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the tenant to.")],
    size: Annotated[
        str, typer.Option("--size", help="small (~200 users), medium (~5,000), large (~50,000) "
                          "or a number of users.")
    ] = "small",
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same tenant.")] = 0,
    profile: ProfileOpt = "mixed",
) -> None:
    """Write a synthetic recorded tenant with planted.json and custodians.csv.

    planted.json lists what is wrong in the tenant (the ground truth that `scan` must find)
    and, for a licence profile other than mixed, what its licences leave unknown.

    Exit codes: 0 written; 2 bad usage, or --out cannot be written; 70 internal error."""
    from mailwarden.synth import generate, write_synthetic

    started = time.perf_counter()
    with err_console.status(f"generating a synthetic tenant ({size}, seed {seed}, {profile})"):
        tenant = generate(size, seed=seed, profile=profile)
        write_synthetic(tenant, out)
    data = tenant.recorded.data
    console.print(
        f"wrote {out}: {plural(len(data['graph/users']), 'user')}, "
        f"{plural(len(data['exo/Get-Mailbox']), 'mailbox', 'mailboxes')}, "
        f"{plural(len(tenant.planted.findings), 'planted finding')} "
        f"({time.perf_counter() - started:.1f} s)",
        markup=False,
    )


@app.command()
def collect(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the recorded tenant to.")],
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
    sequential: SequentialOpt = False,
    deadline: DeadlineOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Read a tenant through Graph and Exchange Online into a recorded tenant directory.

    The client secret, when used, is read from MAILWARDEN_CLIENT_SECRET only.

    A failed source, or a failed Exchange `$batch` request (only the mailboxes it carried),
    fails only that part: the rest is collected and written.

    Exit codes: 0 every source collected (a licence limitation is noted, not a failure);
    2 bad usage; 3 sign-in or permission refused; 4 a source, or a source for some
    mailboxes, failed or the deadline was reached (written to OUT/errors.json, the rest of
    the tenant is written); 70 internal error."""
    connection = Connection.of(locals())
    started = time.perf_counter()
    collected = collect_with_progress(connection, out, quiet=quiet)
    recorded = collected.recorded
    failed = report_failed_sources(recorded)
    console.print(
        f"wrote {out}: {plural(len(recorded.data), 'source')} collected, "
        f"{len(recorded.errors)} failed ({time.perf_counter() - started:.1f} s)",
        markup=False,
    )
    exit_if_stopped(collected)
    if failed:
        raise typer.Exit(code=PARTIAL_EXIT)


@app.command()
def inventory(
    directory: Annotated[Path, typer.Argument(help="A recorded tenant directory.")],
    custodians: CustodiansOpt = None,
    output_format: Annotated[str, format_option("table", "csv", "json")] = "table",
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the csv or json here (0600) instead of to stdout.")] = None,
    logs: Annotated[bool, typer.Option(
        "--logs/--no-logs", help="Rank by what DIR/logs/ shows too, as scan does.")] = True,
    quiet: QuietOpt = False,
    db: DbOpt = None,
) -> None:
    """List the ownerless mailboxes of a recorded tenant, riskiest first (the order of
    `scan`'s riskiest list and findings.json's "rank": the mailboxes DIR/logs/ shows
    abused first), with their backing accounts.

    When Get-Mailbox or graph/users failed, the list comes from Get-User, Get-CASMailbox
    and the tenant's last run in the history (--db), and says so.

    Exit codes: 0 listed; 2 bad usage, or DIR is not a recorded tenant; 5 the history
    database cannot be read; 70 internal error."""
    check_format(output_format, ("table", "csv", "json"))
    if out is not None and output_format == "table":
        raise ConfigError("--out writes csv or json: add --format csv or --format json")
    scan = scan_directory(directory, custodians_file=custodians, db_url=db)
    if logs:
        with progress_board(enabled=not quiet and err_console.is_terminal) as board:
            scan = rank_by_evidence(scan, detect_logs(directory, scan, progress=board))
    if output_format != "table":
        text = (inventory_csv(scan.result) if output_format == "csv" else
                json.dumps(inventory_document(scan.result), indent=1, ensure_ascii=False) + "\n")
        if out is None:
            typer.echo(text, nl=False)
        else:
            write_private_text(out, text)
            err_console.print(Text(f"wrote {out}"), soft_wrap=True)
        return
    console.print(inventory_table(scan.result))
    console.print(f"by kind: {kinds_line(scan.result)}", markup=False)
    print_unread(scan)  # where the list came from when Get-Mailbox or graph/users failed


def print_scan_summary(scan: Scan, findings_path: Path | None, *, limit: int = 10) -> None:
    result = scan.result
    name = result.tenant.display_name or result.tenant.tenant_id or "tenant"
    count = len(result.inventory)
    console.print(
        f"[bold]{escape(name)}[/]: {plural(count, 'ownerless mailbox', 'ownerless mailboxes')}"
        f" ({escape(kinds_line(result))})", markup=True
    )
    console.print(f"findings: {status_line(result)}", markup=False)
    for line in exception_lines(result):
        console.print(line, markup=False, soft_wrap=True)
    snapshot = scan.snapshot
    failed = sorted(s for s in snapshot.problems if s not in snapshot.limitations)
    if failed:
        console.print(
            f"[magenta]sources not read:[/] {escape(', '.join(failed))} "
            "(checks that need them report error)", markup=True
        )
    if snapshot.limitations:
        reasons = ", ".join(sorted(set(snapshot.limitations.values())))
        console.print(
            f"[magenta]licence limitations:[/] {escape(reasons)} "
            "(checks that need them report error)", markup=True
        )
    print_unread(scan)
    console.print(failures_table(result))
    console.print(riskiest_table(result, limit=limit))
    if findings_path is not None:
        console.print(f"findings: {findings_path}", markup=False)


def print_unread(scan: Scan) -> None:
    """Where the inventory came from when its sources failed, and what was not read for
    some mailboxes only."""
    result = scan.result
    incomplete = not all(map(scan.snapshot.available, INVENTORY_SOURCES))
    for problem in result.problems:
        if problem.kind is ProblemKind.INCOMPLETE_INVENTORY:
            console.print(f"[magenta]inventory:[/] {escape(problem.detail)}", markup=True,
                          soft_wrap=True)
        elif problem.kind is ProblemKind.UNKNOWN_LICENCE and incomplete:
            console.print(f"[magenta]not assessed:[/] {escape(problem.detail)}", markup=True,
                          soft_wrap=True)
    if scan.history_problem:
        console.print(f"[magenta]run history not read:[/] {escape(scan.history_problem)}",
                      markup=True, soft_wrap=True)
    per_mailbox: dict[str, list[str]] = {}
    for problem in result.problems:
        if problem.kind is ProblemKind.MISSING_SOURCE and problem.subject is not None:
            per_mailbox.setdefault(problem.source, []).append(problem.detail)
    for source, details in sorted(per_mailbox.items()):
        console.print(
            f"[magenta]not read for {plural(len(details), 'mailbox', 'mailboxes')}:[/] "
            f"{escape(f'{source}: {details[0]}')} (checks that need it report error for them)",
            markup=True, soft_wrap=True)


def print_detection_summary(detection: DetectionResult, alerts_path: Path | None) -> None:
    console.print(detection_table(detection))
    if alerts_path is not None:
        console.print(f"alerts: {alerts_path}", markup=False)


@app.command()
def scan(
    out: Annotated[Path, typer.Option("--out", help="Directory to write findings.json to.")],
    from_dir: Annotated[
        Path | None, typer.Option("--from-dir", help="Assess a recorded tenant (offline).")
    ] = None,
    custodians: CustodiansOpt = None,
    top: Annotated[int, typer.Option(
        "--top", help="Riskiest mailboxes to print, in the risk order of findings.json.")] = 10,
    logs: Annotated[
        bool, typer.Option("--logs/--no-logs", help="Analyse DIR/logs/ when it is there.")
    ] = True,
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
    deadline: DeadlineOpt = None,
    quiet: QuietOpt = False,
    db: DbOpt = None,
    store: Annotated[
        bool, typer.Option("--store/--no-store", help="Keep the run in the history.")
    ] = True,
    exceptions: ExceptionsOpt = None,
    fail_on: FailOnOpt = None,
    dormant_days: DormantDaysOpt = 90,
) -> None:
    """Assess a tenant against the check catalogue and write OUT/findings.json.

    Offline with --from-dir, or live with --tenant (collects first into OUT/tenant). When
    the recorded tenant has logs/, they are analysed too and OUT/alerts.json is written.
    The run is kept in the history database (--db), where `history` and `diff` read it.

    The riskiest mailboxes are printed in the order findings.json lists them (its "rank"):
    mailboxes with open high or critical alerts first ("active"), then by score, where a
    check whose precondition is fixed (sign-in blocked, protocols off) no longer counts;
    ties go to the wider blast radius (delegates, external reach, roles), then the address.

    A source that failed (errors.json) or is missing makes the checks that need it report
    error, never pass. When Get-Mailbox failed, the ownerless mailboxes are still assessed
    as Get-User, Get-CASMailbox, the per-mailbox sources and the tenant's last run in the
    history (--db) know them; when graph/users failed, user mailboxes that run found
    unlicensed are assessed too. The summary says where the inventory came from.

    A failing finding an unexpired exception covers (--exceptions, and those kept for the
    tenant by `mailwarden exceptions`) is `accepted`: never counted as a failure or a pass
    (nor for --fail-on); the summary lists exceptions expired, expiring within 14 days and
    matching nothing.

    Exit codes: 0 done, every check judged; 1 findings fail at or above --fail-on; 2 bad
    usage or input; 3 sign-in or permission refused (live); 4 a partial result: a source
    failed or is missing (errors.json, or for some mailboxes), or checks are error for
    another reason (a licence the tenant lacks, a record too old to tell), or a log file
    could not be read; 5 the history database cannot be written; 70 internal error. 1
    beats 4: a run that is both says both and exits 1; a partial run never exits 0
    (docs/exit-codes.md)."""
    if (from_dir is None) == (tenant is None and config is None):
        raise ConfigError("give either --from-dir DIR (offline) or --tenant ... (live)")
    threshold = parse_fail_on(fail_on)
    detection = None
    failed = False
    collected = None
    accepted_file = exceptions_file(exceptions, config)
    now = datetime.now(UTC)
    if from_dir is not None:
        with err_console.status("assessing"):
            result = scan_directory(from_dir, custodians_file=custodians, db_url=db,
                                    exceptions_file=accepted_file, at=now,
                                    options=AssessOptions(dormant_days=dormant_days),
                                    read_logs=logs)
        if logs:
            with progress_board(enabled=not quiet) as board:
                detection = detect_logs(from_dir, result, progress=board)
    else:
        connection = Connection.of(locals())
        collected = collect_with_progress(connection, out / "tenant", quiet=quiet)
        failed = report_failed_sources(collected.recorded)
        result = scan_snapshot(
            snapshot_from_recorded(collected.recorded), custodians_file=custodians, db_url=db,
            exceptions_file=accepted_file, at=now,
            options=AssessOptions(dormant_days=dormant_days),
        )
    result = rank_by_evidence(result, detection)
    path = write_findings(result.result, out, generated_at=now)
    print_scan_summary(result, path, limit=top)
    failed = report_partial_scan(result.result) or failed
    if detection is not None:
        alerts = write_alerts(detection, out, generated_at=now)
        print_detection_summary(detection, alerts)
        report_bad_rows(detection)
        failed = report_unread_logs(detection, rules=True) or failed
    if store:
        run_id = store_scan(result, detection=detection, db_url=db, generated_at=now)
        console.print(f"stored as run {run_id}", markup=False)
    # The scan of a collection stopped by its deadline is kept, and says so.
    stopped = collected is not None and report_stopped(collected)
    over = report_fail_on(result.result.findings, threshold)
    code = outcome(over=over, partial=failed or stopped)
    if code:
        raise typer.Exit(code=int(code))


@app.command()
def checks(
    output_format: Annotated[str, format_option("table", "json")] = "table",
) -> None:
    """List the check catalogue: ids, default severities, what fails, and the controls
    they map to.

    A finding may be raised or lowered from its check's default severity for one mailbox
    (what the evidence shows, or a source it could not read); `scan`, `inventory` and
    every report give each finding's own.

    Exit codes: 0 listed; 2 bad usage; 70 internal error."""
    catalogue = list_checks()
    if check_format(output_format) == "json":
        typer.echo(json.dumps(checks_document(catalogue), indent=1, ensure_ascii=False))
    else:
        console.print(checks_table(catalogue))
