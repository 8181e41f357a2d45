"""Small helpers the renderers share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

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
