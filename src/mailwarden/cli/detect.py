"""Commands that read logs: detect, rules, eval."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from mailwarden.cli import app
from mailwarden.cli.partial import PARTIAL_EXIT, print_rule_reasons, report_unread_logs
from mailwarden.cli.tables import Column, FitTable, check_format, format_option
from mailwarden.cli.ui import console, err_console, progress_board
from mailwarden.detect import (
    EMPTY_CONTEXT,
    DetectContext,
    DetectionResult,
    context_from_scan,
    detect_directory,
    list_rules,
    render_alerts_json,
)
from mailwarden.detect.evaluate import (
    Evaluation,
    NotificationScore,
    evaluate,
    parse_labels,
    score_notifications,
)
from mailwarden.detect.incidents import group_incidents
from mailwarden.detect.lifecycle import Policy
from mailwarden.errors import ConfigError, InputError
from mailwarden.files import make_private_dirs, write_private_text
from mailwarden.pipeline import scan_directory
from mailwarden.text import plural
from mailwarden.watch.durations import parse_duration

FilesOpt = Annotated[list[Path] | None, typer.Option(help="A log file; repeat for more.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _run(tenant_dir: Path | None, files: Sequence[Path], *, quiet: bool) -> DetectionResult:
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise InputError(f"{plural(len(missing), 'log file')} not found: {', '.join(missing)}")
    context: DetectContext = EMPTY_CONTEXT
    if tenant_dir is not None:
        with err_console.status("reading the tenant", spinner="dots"):
            scan = scan_directory(tenant_dir)
        context = context_from_scan(scan.snapshot, scan.result)
    with progress_board(enabled=not quiet) as board:
        def progress(step: str, done: int, total: int | None = None) -> None:
            board("reading logs" if step.startswith("reading ") else "running rules",
                  done, total)

        if tenant_dir is not None:
            return detect_directory(tenant_dir, context, extra_files=files, progress=progress)
        from mailwarden.detect import detect_files
        return detect_files(list(files), context, progress=progress)


def _inputs_table(result: DetectionResult) -> FitTable:
    table = FitTable(
        [Column("file", ident=True), Column("format", ident=True, drop=2),
         Column("rows", justify="right"), Column("bad rows", justify="right", drop=1),
         Column("skipped", justify="right", drop=3), Column("note", beneath=True)],
        title="log files")
    for report in result.readers:
        notes = [report.error or "; ".join(filter(None, (report.skipped_reason, *report.notes)))]
        if report.bad_samples:
            sample = report.bad_samples[0]
            row = "" if sample.row is None else f" {sample.row}"
            notes.append(f"first bad row{row}: {sample.reason}")
        note = "; ".join(part for part in notes if part)
        table.add_row(Text(report.path.name), report.format, f"{report.rows:,}",
                      f"{report.bad_rows:,}", f"{report.skipped_rows:,}", Text(note))
    return table


def _alerts_table(result: DetectionResult, limit: int) -> FitTable:
    shown = (f"the {limit} worst of {len(result.alerts)}" if len(result.alerts) > limit
             else f"{len(result.alerts)}, worst first")
    table = FitTable(
        [Column("severity", ident=True), Column("category", ident=True, drop=1),
         Column("target", ident=True), Column("summary", beneath=True)],
        title=f"alerts ({shown})")
    for alert in result.alerts[:limit]:
        table.add_row(str(alert.severity), alert.category, Text(alert.target or "-"),
                      Text(alert.summary))
    return table


@app.command()
def detect(
    out: Annotated[Path, typer.Option("--out", help="Directory to write alerts.json to.")],
    tenant_dir: Annotated[Path | None, typer.Option(
        "--tenant-dir", help="A recorded tenant: its snapshot tells which accounts are "
        "ownerless, departed or guests and who holds grants; its logs/ are read too.")] = None,
    signins: FilesOpt = None,
    audit: FilesOpt = None,
    ual: FilesOpt = None,
    top: Annotated[int, typer.Option("--top", help="Alerts to print.")] = 20,
    incident_window: Annotated[str, typer.Option(
        "--incident-window", help="Alerts further apart than this are separate incidents.")
    ] = "3d",
    quiet: QuietOpt = False,
) -> None:
    """Read sign-in, directory audit and Unified Audit Log files (format detected from
    content, plain or gzip-compressed) and write OUT/alerts.json, the alerts grouped
    into incidents (the alerts of one attack). Bad rows are counted with the reason; a
    record over 16 MiB (MAILWARDEN_MAX_RECORD_BYTES) is one.

    Exit codes: 0 every file was read; 2 bad usage or a named file is missing; 4 a file
    could not be read at all (it is named with the reason; the rest is still analysed); 70
    internal error."""
    files = [*(signins or ()), *(audit or ()), *(ual or ())]
    if tenant_dir is None and not files:
        raise ConfigError("give --tenant-dir DIR (reads DIR/logs/) or log files with "
                          "--signins / --audit / --ual")
    window = parse_duration(incident_window, what="--incident-window")
    result = _run(tenant_dir, files, quiet=quiet)
    result = replace(result, incidents=group_incidents(result.alerts, proximity=window))
    if not result.readers:
        raise InputError(f"no log files: {tenant_dir}/logs/ is empty or absent and no file "
                         "was named; add --signins / --audit / --ual")
    make_private_dirs(out)
    path = out / "alerts.json"
    write_private_text(path, render_alerts_json(result, datetime.now(UTC)))
    console.print(_inputs_table(result))
    counts = Counter(alert.category for alert in result.alerts)
    console.print("by category: " + (", ".join(f"{c} {n}" for c, n in sorted(counts.items()))
                                     or "none"))
    console.print(_alerts_table(result, top))
    console.print(f"{plural(len(result.alerts), 'alert')} in "
                  f"{plural(len(result.incidents), 'incident')}")
    print_rule_reasons(console, result.rules_not_run, "[magenta]not run[/]")
    print_rule_reasons(console, (run for run in result.rule_runs if run.ran and run.reason),
                       "[yellow]ran in part[/]")
    console.print(f"alerts: {path}", soft_wrap=True)
    if report_unread_logs(result, rules=False):
        raise typer.Exit(code=PARTIAL_EXIT)


@app.command()
def rules(
    output_format: Annotated[str, format_option("table", "json")] = "table",
) -> None:
    """List the detection rules: id, category, default severity, thresholds and ATT&CK
    techniques.

    Exit codes: 0 listed; 2 bad usage; 70 internal error."""
    catalogue = list_rules()
    if check_format(output_format) == "json":
        typer.echo(json.dumps([{
            "id": r.id, "category": r.category, "severity": r.severity.value, "title": r.title,
            "description": r.description, "mitre": list(r.mitre), "tables": list(r.tables),
            "needs": list(r.needs), "uses": list(r.uses),
            "thresholds": [{"name": t.name, "default": t.default, "doc": t.doc}
                           for t in r.thresholds]} for r in catalogue], indent=1))
        return
    table = FitTable(
        [Column("id", ident=True), Column("category", ident=True, drop=2),
         Column("default severity"), Column("ATT&CK", drop=3),
         Column("thresholds", beneath=True)],
        title=plural(len(catalogue), "detection rule"),
        caption="default severity: the rule's; one alert may carry another (what it found "
        "makes it worse), and detect, scan and alerts show each alert's own")
    for r in catalogue:
        table.add_row(r.id, r.category, r.severity.value, ", ".join(r.mitre),
                      ", ".join(f"{t.name}={t.default}" for t in r.thresholds))
    console.print(table)


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _evaluation_table(evaluation: Evaluation) -> FitTable:
    drops = {"labels": 0, "found": 0, "alerts": 2, "true": 1, "recall": 0, "precision": 0}
    table = FitTable(
        [Column("category", ident=True),
         *(Column(name, justify="right", drop=drop) for name, drop in drops.items())],
        title="detection against labels.json")
    for s in evaluation.scores:
        table.add_row(s.category, str(s.labels), str(s.found), str(s.alerts),
                      str(s.true_alerts), _score(s.recall), _score(s.precision))
    return table


def _print_notifications(score: NotificationScore | None, labels_path: Path) -> None:
    if score is None:
        console.print(Text(f"{labels_path} names no incidents (written by an older "
                           "`mailwarden synth`): notifications per incident not scored"))
        return
    figure = score.per_labelled_incident
    shown = "-" if figure is None else f"{figure:.2f}"
    console.print(Text(
        f"notifications per labelled incident: {shown} "
        f"({plural(score.notifications, 'notification')} for "
        f"{plural(score.labelled_incidents, 'labelled incident')}; "
        f"{plural(score.incidents, 'incident')} opened"
        + (f"; {score.unlabelled} for unlabelled incidents" if score.unlabelled else "")
        + ")"))
    for ident, count in score.per_incident.items():
        if count != 1:
            console.print(Text(f"  {ident}: {plural(count, 'notification')}"))


@app.command(name="eval")
def eval_command(
    directory: Annotated[Path, typer.Argument(help="A synthetic tenant with labels.json.")],
    min_recall: Annotated[float, typer.Option(help="Fail below this recall.")] = 1.0,
    min_precision: Annotated[float, typer.Option(help="Fail below this precision.")] = 0.95,
    max_notifications: Annotated[float, typer.Option(
        "--max-notifications", help="Fail above this many notifications per labelled "
        "incident.")] = 1.2,
    proximity: Annotated[str, typer.Option(
        "--incident-window", help="Alerts further apart than this are separate incidents.")
    ] = "3d",
    quiet_period: Annotated[str, typer.Option(
        "--quiet-period", help="An incident this long without new alerts is resolved.")
    ] = "7d",
    cycle: Annotated[str, typer.Option(
        "--cycle", help="The watcher cycle the notification replay plays.")] = "15m",
    quiet: QuietOpt = False,
) -> None:
    """Run detection over DIR/logs/ with DIR's snapshot; print precision and recall per
    category against DIR/labels.json, and the notifications per labelled incident a
    watcher would send (the alerts replayed cycle by cycle through the incident
    lifecycle).

    Exit codes: 0 every target met; 1 a category misses the targets or notifications
    exceed --max-notifications; 2 bad usage or input; 70 internal error."""
    labels_path = directory / "labels.json"
    if not labels_path.is_file():
        raise InputError(f"{labels_path}: no labels file; `mailwarden synth --out {directory}` "
                         "writes a tenant with labelled logs")
    labels = parse_labels(json.loads(labels_path.read_text(encoding="utf-8")),
                          source=str(labels_path))
    policy = Policy(proximity=parse_duration(proximity, what="--incident-window"),
                    quiet=parse_duration(quiet_period, what="--quiet-period"))
    step = parse_duration(cycle, what="--cycle")
    result = _run(directory, (), quiet=quiet)
    evaluation = evaluate(result.alerts, labels)
    console.print(_evaluation_table(evaluation))
    for s in evaluation.scores:
        for label in s.missed:
            where = label.target or ", ".join(label.source_ips)
            scenario = f" ({label.scenario})" if label.scenario else ""
            console.print(f"[red]missed[/] {escape(f'{s.category} {where}{scenario}')}",
                          markup=True)
        for alert in s.false_alerts:
            console.print(f"[yellow]unlabelled[/] {escape(f'{alert.rule_id}: {alert.summary}')}",
                          markup=True)
    for label, alert in evaluation.negatives_hit:
        console.print(f"[yellow]negative hit[/] {escape(label.scenario or label.category)}: "
                      f"{escape(alert.summary)}", markup=True)
    score = score_notifications(result.alerts, labels, cycle=step, policy=policy)
    _print_notifications(score, labels_path)
    failed = False
    if not evaluation.meets(recall=min_recall, precision=min_precision):
        console.print(f"[bold red]below target[/]: every category needs recall >= "
                      f"{min_recall} and precision >= {min_precision}", markup=True)
        failed = True
    figure = score.per_labelled_incident if score else None
    if figure is not None and figure > max_notifications:
        console.print(f"[bold red]above target[/]: {figure:.2f} notifications per labelled "
                      f"incident, more than {max_notifications}", markup=True)
        failed = True
    if failed:
        raise typer.Exit(1)
    console.print(f"every category meets recall >= {min_recall} and precision >= "
                  f"{min_precision}" + ("" if figure is None else
                                        f"; notifications per incident <= {max_notifications}"))
