"""The HTML report's data: plain values computed from a `Run`, so the template stays dumb.

Nothing here escapes: the template's autoescaping does, for every value.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mailwarden.assess.risk import ranked
from mailwarden.assess.summary import RiskyMailbox, riskiest
from mailwarden.model.controls import FRAMEWORK_NAMES
from mailwarden.model.findings import (
    CheckInfo,
    Finding,
    InventoryEntry,
    MailboxAccess,
    MailboxAssessment,
    Severity,
    Status,
)
from mailwarden.model.findings.legacy_fix import CHECK_ID as LEGACY_CHECK
from mailwarden.model.findings.legacy_fix import fix_powershell, legacy_fix
from mailwarden.model.run import Run
from mailwarden.report.common import (
    alert_counts,
    days_left,
    exception_sections,
    failures_worst_first,
)
from mailwarden.report.compliance import COUNTED, run_rows, status_summary
from mailwarden.report.posture import RISK_BANDS, risk_band
from mailwarden.times import iso, parse_time

RISKIEST_SHOWN = 10
EVIDENCE_ROWS_SHOWN = 25
_NEVER = datetime.min.replace(tzinfo=UTC)
_BAR_HEIGHT, _BAR_GAP, _LABEL_WIDTH, _BAR_MAX = 22, 6, 170, 260


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    label: str
    value: int
    width: int
    y: int
    tone: str  # a CSS class: severity name or "neutral"


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    height: int
    label_width: int = _LABEL_WIDTH

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def bar_chart(title: str, counts: Mapping[str, int], tones: Mapping[str, str] | None = None
              ) -> Chart:
    top = max(counts.values(), default=0) or 1
    bars = tuple(
        Bar(label=label, value=value, width=round(_BAR_MAX * value / top),
            y=i * (_BAR_HEIGHT + _BAR_GAP), tone=(tones or {}).get(label, "neutral"))
        for i, (label, value) in enumerate(counts.items())
    )
    return Chart(title=title, bars=bars, height=max(len(bars), 1) * (_BAR_HEIGHT + _BAR_GAP))


def risk_buckets(assessments: Sequence[MailboxAssessment]) -> dict[str, int]:
    buckets = {label: 0 for label, _, _ in RISK_BANDS}
    for item in assessments:
        buckets[risk_band(item.risk_score)] += 1
    return buckets


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxRow:
    rank: int  # 1 for the riskiest: the order of the terminal and findings.json
    tier: str  # "active", "exposed" or "none"
    upn: str
    display_name: str
    kind: str
    risk: int
    worst: str  # worst severity among failing findings, or ""
    worst_rank: int
    failing: tuple[str, ...]
    errors: tuple[str, ...]
    accepted: tuple[str, ...]  # failing checks an exception accepts
    sign_in: str  # "enabled", "blocked", "unknown"
    protocols: tuple[str, ...]  # legacy protocols enabled
    delegates: int
    custodian: str
    access: MailboxAccess | None


_LEGACY = ("IMAP", "POP", "EWS", "ActiveSync")


def _sign_in(entry: InventoryEntry | None) -> str:
    if entry is None or entry.account_enabled is None:
        return "unknown"
    return "enabled" if entry.account_enabled else "blocked"


def mailbox_rows(run: Run) -> list[MailboxRow]:
    result = run.result
    inventory = {e.upn: e for e in result.inventory}
    access = {a.upn: a for a in result.access}
    worst: dict[str, Finding] = {}
    for finding in failures_worst_first(result.findings):
        upn = finding.resource.upn
        if upn and upn not in worst:
            worst[upn] = finding
    rows = []
    for rank, item in enumerate(ranked(result.assessments), start=1):
        entry = inventory.get(item.upn)
        top = worst.get(item.upn)
        protocols = tuple(p for p in _LEGACY if entry and entry.protocols.get(p))
        if entry and entry.smtp_auth_enabled:
            protocols += ("SMTP AUTH",)
        rows.append(MailboxRow(
            rank=rank, tier=item.tier.value, upn=item.upn,
            display_name=item.display_name or "", kind=item.kind.value,
            risk=item.risk_score, worst=top.severity.value if top else "",
            worst_rank=top.severity.rank + 1 if top else 0, failing=item.failing,
            errors=item.errors, accepted=item.accepted, sign_in=_sign_in(entry),
            protocols=protocols,
            delegates=entry.delegates if entry else 0,
            custodian=item.custodian.person if item.custodian else "",
            access=access.get(item.upn),
        ))
    return rows


@dataclass(frozen=True, slots=True, kw_only=True)
class RemediationGroup:
    check_id: str
    title: str
    severity: str
    summary: str
    mailboxes: tuple[str, ...]
    commands: str  # every PowerShell line for every failing resource, ready to paste
    graph: tuple[str, ...]


def remediation_groups(findings: Sequence[Finding], checks: Sequence[CheckInfo]
                       ) -> list[RemediationGroup]:
    titles = {info.id: info.title for info in checks}
    by_check: dict[str, list[Finding]] = defaultdict(list)
    for finding in failures_worst_first(findings):
        if finding.remediation is not None:
            by_check[finding.check_id].append(finding)
    groups = []
    for check_id, items in by_check.items():
        lines: list[str] = []
        if check_id == LEGACY_CHECK:
            # One change per policy, or one report-only policy: never one per mailbox.
            # The break-glass accounts are not known here, so the lines ask for them.
            lines = fix_powershell(legacy_fix(items), None)
        for finding in items if check_id != LEGACY_CHECK else ():
            assert finding.remediation is not None
            target = finding.resource.label
            lines.append(f"# {target}")
            lines += finding.remediation.powershell
        first = items[0].remediation
        assert first is not None
        groups.append(RemediationGroup(
            check_id=check_id, title=titles.get(check_id, check_id),
            severity=items[0].severity.value, summary=first.summary,
            mailboxes=tuple(f.resource.label for f in items),
            commands="\n".join(lines), graph=tuple(dict.fromkeys(
                line for f in items if f.remediation for line in f.remediation.graph)),
        ))
    return groups


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertView:
    alert: Mapping[str, Any]
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    more_rows: int


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def _timeline_order(alert: Mapping[str, Any]) -> tuple[bool, datetime, str]:
    """Earliest first; alerts without a time last."""
    first = parse_time(alert.get("first_seen"))
    return first is None, first or _NEVER, str(alert.get("id"))


def alert_timeline(alerts: Sequence[Mapping[str, Any]]) -> list[AlertView]:
    ordered = sorted(alerts, key=_timeline_order)
    views = []
    for alert in ordered:
        evidence = [row for row in alert.get("evidence") or () if isinstance(row, Mapping)]
        columns = tuple(dict.fromkeys(key for row in evidence for key in row))
        shown = evidence[:EVIDENCE_ROWS_SHOWN]
        views.append(AlertView(
            alert=alert, columns=columns,
            rows=tuple(tuple(_cell(row.get(c)) for c in columns) for row in shown),
            more_rows=len(evidence) - len(shown),
        ))
    return views


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentView:
    """One incident of the timeline with its alerts, earliest first."""

    incident: Mapping[str, Any]
    alerts: tuple[AlertView, ...]


def incident_timeline(incidents: Sequence[Mapping[str, Any]],
                      alerts: Sequence[Mapping[str, Any]]) -> list[IncidentView]:
    """The alerts grouped by incident, incidents earliest first; an alert no incident
    names (a document written before incidents) stands as an incident of its own."""
    by_id = {str(a.get("id")): a for a in alerts}
    grouped = {str(i) for incident in incidents for i in incident.get("alert_ids") or ()}
    loose = [{"id": a.get("id"), "category": a.get("category"),
              "severity": a.get("severity"), "targets": [a["target"]] if a.get("target")
              else list(a.get("targets") or ()), "first_seen": a.get("first_seen"),
              "last_seen": a.get("last_seen"), "alert_ids": [a.get("id")], "status": "open",
              "summary": a.get("summary")} for a in alerts if str(a.get("id")) not in grouped]
    views = []
    for incident in sorted([*incidents, *loose], key=_timeline_order):
        held = [by_id[str(i)] for i in incident.get("alert_ids") or () if str(i) in by_id]
        views.append(IncidentView(incident=incident, alerts=tuple(alert_timeline(held))))
    return views


def report_context(run: Run) -> dict[str, Any]:
    """Everything the template shows."""
    result = run.result
    tenant = run.tenant
    failures = failures_worst_first(result.findings)
    severity = Counter(f.severity.value for f in failures)
    kinds = Counter(e.kind.value for e in result.inventory)
    top: tuple[RiskyMailbox, ...] = riskiest(result, RISKIEST_SHOWN)
    charts = [
        bar_chart("Ownerless mailboxes by kind", dict(sorted(kinds.items()))),
        bar_chart("Failed findings by severity",
                  {s.value: severity.get(s.value, 0) for s in Severity},
                  {s.value: s.value for s in Severity}),
        bar_chart("Mailboxes by risk score", risk_buckets(result.assessments)),
    ]
    if run.detection is not None:
        charts.append(bar_chart("Alerts by category", alert_counts(run.alerts)))
    return {
        "title": tenant.display_name or tenant.default_domain or tenant.tenant_id,
        "tenant": tenant,
        "generated_at": iso(run.generated_at),
        "collected_at": iso(tenant.collected_at) if tenant.collected_at else None,
        "version": run.version,
        "ownerless": len(result.inventory),
        "failures": len(failures),
        "critical": severity.get("critical", 0),
        "statuses": result.status_counts(),
        "charts": charts,
        "riskiest": top,
        "rows": mailbox_rows(run),
        "kinds": sorted(kinds),
        "severities": [s.value for s in Severity],
        "remediation": remediation_groups(result.findings, result.checks),
        "detection": run.detection,
        "alerts": alert_timeline(run.alerts),
        "incidents": incident_timeline(run.incidents, run.alerts),
        "changes": run.changes,
        "snapshot": run.snapshot,
        "problems": result.problems,
        "compliance": [(FRAMEWORK_NAMES[fw], rows, status_summary(rows))
                       for fw, rows in run_rows(run)],
        "counted": [s.value for s in COUNTED],
        "accepted": sorted((f for f in result.findings if f.status is Status.ACCEPTED),
                           key=lambda f: (f.check_id, f.resource.upn or "")),
        "exceptions": result.exceptions,
        "exception_sections": (exception_sections(result.exceptions)
                               if result.exceptions else []),
        "days_left": days_left,
    }
