"""Commands that produce or read a tenant: synth, collect, inventory, scan, checks."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mailwarden.assess import AssessOptions, list_checks
from mailwarden.cli import app
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
)
from mailwarden.cli.partial import (
    PARTIAL_EXIT,
    report_bad_rows,
    report_partial_scan,
    report_unread_logs,
)
from mailwarden.cli.report import DbOpt, DormantDaysOpt
from mailwarden.cli.ui import console, err_console, progress_board
from mailwarden.cli.views import (
    checks_document,
    checks_table,
    detection_table,
    failures_table,
    inventory_document,
    inventory_table,
    kinds_line,
    riskiest_table,
    status_line,
)
from mailwarden.detect.results import DetectionResult
from mailwarden.errors import ConfigError
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
    and, for a licence profile other than mixed, what its licences leave unknown."""
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
    the tenant is written)."""
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
    output_format: Annotated[
        str, typer.Option("--format", help="table or json.")
    ] = "table",
    db: DbOpt = None,
) -> None:
    """List the ownerless mailboxes of a recorded tenant with their backing accounts.

    When Get-Mailbox or graph/users failed, the list comes from Get-User, Get-CASMailbox
    and the tenant's last run in the history (--db), and says so."""
    scan = scan_directory(directory, custodians_file=custodians, db_url=db)
    if output_format == "json":
        typer.echo(json.dumps(inventory_document(scan.result), indent=1, ensure_ascii=False))
        return
    if output_format != "table":
        raise ConfigError(f"--format {output_format!r}: use table or json")
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

    Exit codes: 0 done; 2 bad usage or input; 3 sign-in or permission refused (live); 4 a
    partial result: a source failed or is missing (errors.json, or for some mailboxes), so
    findings that need it are error, or a log file could not be read; 5 the history
    database cannot be written."""
    if (from_dir is None) == (tenant is None and config is None):
        raise ConfigError("give either --from-dir DIR (offline) or --tenant ... (live)")
    detection = None
    failed = False
    collected = None
    if from_dir is not None:
        with err_console.status("assessing"):
            result = scan_directory(from_dir, custodians_file=custodians, db_url=db,
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
            options=AssessOptions(dormant_days=dormant_days),
        )
    result = rank_by_evidence(result, detection)
    path = write_findings(result.result, out)
    print_scan_summary(result, path, limit=top)
    failed = report_partial_scan(result.result) or failed
    if detection is not None:
        alerts = write_alerts(detection, out, generated_at=datetime.now(UTC))
        print_detection_summary(detection, alerts)
        report_bad_rows(detection)
        failed = report_unread_logs(detection, rules=True) or failed
    if store:
        run_id = store_scan(result, detection=detection, db_url=db)
        console.print(f"stored as run {run_id}", markup=False)
    if collected is not None:
        exit_if_stopped(collected)  # the scan of a partial collection is kept, and says so
    if failed:
        raise typer.Exit(code=PARTIAL_EXIT)


@app.command()
def checks(
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List the check catalogue: ids, severities, what fails, and the controls they map to."""
    catalogue = list_checks()
    if output_format == "json":
        typer.echo(json.dumps(checks_document(catalogue), indent=1, ensure_ascii=False))
    elif output_format == "table":
        console.print(checks_table(catalogue))
    else:
        raise ConfigError(f"--format {output_format!r}: use table or json")
