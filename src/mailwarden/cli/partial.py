"""Partial results on the terminal: what was not read is said in full, and the command
then exits with the partial-result code (4) instead of claiming success."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape

from mailwarden.cli.exitcodes import ExitCode, over_threshold
from mailwarden.cli.ui import err_console
from mailwarden.detect.results import DetectionResult, RuleRun
from mailwarden.model.findings import Finding, ProblemKind, ScanResult, Severity, Status
from mailwarden.text import plural

#: SPEC section 8: a source failed or a file was unreadable.
PARTIAL_EXIT = int(ExitCode.PARTIAL)


def report_unread_logs(detection: DetectionResult, *, rules: bool) -> bool:
    """Say which log files nothing was read from and why (and, with `rules`, which rules
    did not run and which ran without all they use); True when any file was unreadable."""
    for report in detection.unreadable:
        err_console.print(f"[yellow]log file not read:[/] {escape(str(report.unreadable))}",
                          markup=True, soft_wrap=True)
    if rules:
        print_rule_reasons(err_console, detection.rules_not_run, "[magenta]not run[/]")
        print_rule_reasons(err_console,
                           (run for run in detection.rule_runs if run.ran and run.reason),
                           "[yellow]ran in part[/]")
    return bool(detection.unreadable)


def report_bad_rows(detection: DetectionResult) -> None:
    """One line per log file that was read with bad rows: how many, and the first one's
    row and reason (the rest are in alerts.json). Files nothing was read from are said by
    `report_unread_logs`."""
    for report in detection.readers:
        if not report.bad_rows or report.unreadable is not None:
            continue
        first = report.bad_samples[0] if report.bad_samples else None
        where = "" if first is None or first.row is None else f"row {first.row}: "
        reason = "" if first is None else f" (first: {where}{first.reason})"
        err_console.print(f"[yellow]bad rows:[/] {escape(report.path.name)}: "
                          f"{escape(plural(report.bad_rows, 'bad row'))} not read"
                          f"{escape(reason)}", markup=True, soft_wrap=True)


def print_rule_reasons(console: Console, runs: Iterable[RuleRun], label: str) -> None:
    """One line per reason, naming the rules it applies to: `label rule, rule: reason`
    (`label` is our markup; the reason is tenant-derived text and is escaped)."""
    reasons: dict[str, list[str]] = {}
    for run in runs:
        reasons.setdefault(run.reason, []).append(run.rule_id)
    for reason, rule_ids in reasons.items():
        console.print(f"{label} {', '.join(rule_ids)}: {escape(reason)}",
                      markup=True, soft_wrap=True)


#: Problems that mean the tenant was not read whole: a source (or a source for some
#: mailboxes) failed or is missing, or the ownerless mailboxes could not all be listed.
UNREAD = frozenset({ProblemKind.MISSING_SOURCE, ProblemKind.INCOMPLETE_INVENTORY})


def report_partial_scan(result: ScanResult) -> bool:
    """Say that an assessment is partial, and how many findings are `error` for it; True
    when a source failed or is missing, or when any check is `error` for another reason (a
    licence the tenant lacks withholds its input): an `error` is not a pass, and a run
    with any is not a clean one."""
    errors = sum(1 for f in result.findings if f.status is Status.ERROR)
    unread = any(p.kind in UNREAD for p in result.problems)
    if not unread and not errors:
        return False
    counted = f"{plural(errors, 'finding')} {'is' if errors == 1 else 'are'} error, not pass"
    why = ("sources were not read whole" if unread
           else "checks could not judge what they read (a licence limitation, or a record "
           "too old to tell; findings.json says why for each)")
    err_console.print(f"[yellow]partial result:[/] {why}; {counted} (exit code {PARTIAL_EXIT})",
                      markup=True, soft_wrap=True)
    return True


def report_fail_on(findings: Iterable[Finding], threshold: Severity | None) -> bool:
    """Say how many findings fail at or above `--fail-on`; True when any do."""
    over = over_threshold(findings, threshold)
    if threshold is None or not over:
        return False
    counts = Counter(f.severity for f in over)
    detail = ", ".join(f"{counts[s]} {s.value}" for s in Severity if counts[s])
    err_console.print(
        f"[bold red]fail-on {threshold.value}:[/] {plural(len(over), 'finding')} "
        f"{'fails' if len(over) == 1 else 'fail'} at or above {threshold.value} ({detail}) "
        f"(exit code {int(ExitCode.FINDINGS)})", markup=True, soft_wrap=True)
    return True
