"""Partial results on the terminal: what was not read is said in full, and the command
then exits with the partial-result code (4) instead of claiming success."""

from __future__ import annotations

from rich.markup import escape

from mailwarden.cli.ui import err_console
from mailwarden.detect.results import DetectionResult
from mailwarden.errors import ServiceError

#: SPEC section 8: a source failed or a file was unreadable.
PARTIAL_EXIT = ServiceError.exit_code


def report_unread_logs(detection: DetectionResult, *, rules: bool) -> bool:
    """Say which log files nothing was read from and why (and, with `rules`, which rules
    did not run); True when any file was unreadable."""
    for report in detection.unreadable:
        err_console.print(f"[yellow]log file not read:[/] {escape(str(report.unreadable))}",
                          markup=True, soft_wrap=True)
    if rules:
        reasons: dict[str, list[str]] = {}
        for run in detection.rules_not_run:
            reasons.setdefault(run.reason, []).append(run.rule_id)
        for reason, rule_ids in reasons.items():
            err_console.print(f"[magenta]not run[/] {', '.join(rule_ids)}: {escape(reason)}",
                              markup=True, soft_wrap=True)
    return bool(detection.unreadable)
