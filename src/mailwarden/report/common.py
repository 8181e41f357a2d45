"""Small helpers the renderers share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from mailwarden.model.exceptions import ExceptionsReport, ExceptionUse
from mailwarden.model.findings import Finding, Severity, Status


def failures_worst_first(findings: Iterable[Finding]) -> list[Finding]:
    """Failed findings, worst severity first, then by check and mailbox (stable output)."""
    failed = [f for f in findings if f.status is Status.FAIL]
    return sorted(failed, key=lambda f: (-f.severity.rank, f.check_id, f.resource.key or ""))


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Failures per severity, every severity present (worst first)."""
    counts = Counter(f.severity.value for f in findings if f.status is Status.FAIL)
    return {s.value: counts.get(s.value, 0) for s in Severity}


def alert_counts(alerts: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Alerts per category, most frequent first (ties by name)."""
    counts = Counter(str(a.get("category")) for a in alerts)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def exception_sections(report: ExceptionsReport
                       ) -> list[tuple[str, tuple[ExceptionUse, ...]]]:
    """The Exceptions section's parts, in the order a reader acts on them: what fails
    again, what is about to, what matched nothing (can go), and every active one."""
    return [
        ("Expired: these findings fail again", report.expired),
        (f"Expiring within {report.warn_days} days", report.expiring),
        ("Matching no failing finding (fixed, misspelt or gone: remove them)", report.unused),
        ("Active", report.active),
    ]


def days_left(use: ExceptionUse) -> str:
    """"expired 3 days ago", "last day", "5 days left"."""
    days = use.days_left
    if days < 0:
        return f"expired {-days} day{'s' if days < -1 else ''} ago"
    if days == 0:
        return "last day"
    return f"{days} day{'s' if days > 1 else ''} left"
