"""Rich renderings of results for the terminal."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import asdict
from datetime import datetime
from typing import Any

from rich.text import Text

from mailwarden.assess import riskiest
from mailwarden.assess.risk import ranked
from mailwarden.cli.tables import Column, FitTable
from mailwarden.detect.results import Alert, DetectionResult
from mailwarden.model.controls import control
from mailwarden.model.findings import CheckInfo, RiskTier, ScanResult, Severity, Status
from mailwarden.model.findings.scan import InventoryEntry, MailboxAssessment
from mailwarden.report.csv_report import safe_cell
from mailwarden.report.findings_json import plain_value
from mailwarden.text import plural
from mailwarden.times import iso

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _yes_no(value: bool | None, *, bad: bool) -> Text:
    if value is None:
        return Text("?", style="magenta")
    return Text("yes" if value else "no", style="red" if value is bad else "")


def _date(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "-"


def _protocols(entry: InventoryEntry) -> str:
    on = [name for name, enabled in entry.protocols.items() if enabled and name != "MAPI"]
    if entry.smtp_auth_enabled:
        on.append("SMTP AUTH")
    return ", ".join(on) or "-"


def _risk_order(result: ScanResult) -> dict[str, tuple[int, MailboxAssessment]]:
    """Each assessed mailbox's place in the one risk order (`assess.risk.ranked`), 1 first."""
    return {a.upn: (rank, a) for rank, a in enumerate(ranked(result.assessments), start=1)}


def inventory_in_risk_order(result: ScanResult) -> list[InventoryEntry]:
    """The ownerless inventory riskiest first, as `scan` ranks it; a mailbox without an
    assessment (none in a complete scan) after them, by address."""
    order = _risk_order(result)
    last = len(order) + 1
    return sorted(result.inventory, key=lambda e: (order.get(e.upn, (last,))[0], e.upn))


def _risk(assessment: MailboxAssessment | None) -> str:
    if assessment is None:
        return "-"
    if assessment.tier is RiskTier.ACTIVE:
        return f"active {assessment.risk_score}"
    return str(assessment.risk_score)


def inventory_table(result: ScanResult, *, limit: int | None = None) -> FitTable:
    """The ownerless mailboxes riskiest first; at a narrow terminal the account details
    give way before the address, the risk, the kind and the custodian."""
    entries = inventory_in_risk_order(result)
    order = _risk_order(result)
    shown = entries if limit is None else entries[:limit]
    title = (f"{plural(len(entries), 'ownerless mailbox', 'ownerless mailboxes')} in "
             f"{result.tenant.display_name or 'the tenant'}, riskiest first")
    if len(shown) < len(entries):
        title += f" (the first {len(shown)})"
    table = FitTable(
        [Column("#", ident=True, justify="right"), Column("mailbox", ident=True),
         Column("risk", justify="right"), Column("kind", ident=True, drop=2),
         Column("custodian", ident=True, drop=3), Column("sign-in", drop=4),
         Column("delegates", justify="right", drop=5), Column("licence", drop=6),
         Column("last sign-in", ident=True, drop=7), Column("protocols", drop=8)],
        title=Text(title))
    for e in shown:
        rank, assessment = order.get(e.upn, (None, None))
        table.add_row(
            "-" if rank is None else str(rank),
            Text(e.upn),
            _risk(assessment),
            e.kind.value,
            Text(e.custodian.person if e.custodian else "-"),
            _yes_no(e.account_enabled, bad=True),
            str(e.delegates),
            _yes_no(e.licensed, bad=False),
            _date(e.last_successful_sign_in),
            _protocols(e),
        )
    return table


def kinds_line(result: ScanResult) -> str:
    counts = Counter(e.kind.value for e in result.inventory)
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none"


def status_line(result: ScanResult) -> str:
    counts = result.status_counts()
    if result.exceptions is None and not counts.get(Status.ACCEPTED.value):
        counts.pop(Status.ACCEPTED.value, None)  # no exceptions in this run: nothing to say
    return ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items())


def exception_lines(result: ScanResult) -> list[str]:
    """What the run's exceptions did, worst news first; nothing when it had none."""
    report = result.exceptions
    if report is None:
        return []
    accepted = sum(1 for f in result.findings if f.status is Status.ACCEPTED)
    lines = [f"exceptions: {plural(len(report.active), 'active exception')} accepted "
             f"{plural(accepted, 'failing finding')}; {len(report.expiring)} expiring within "
             f"{report.warn_days} days, {len(report.expired)} expired, "
             f"{len(report.unused)} matching nothing"]
    lines += [f"  expired {use.exception.expires.isoformat()}: {use.exception.label} "
              f"({use.exception.owner}; {use.exception.origin}): "
              f"{plural(len(use.matched), 'finding')} fail again" for use in report.expired]
    lines += [f"  expires {use.exception.expires.isoformat()}: {use.exception.label} "
              f"({use.exception.owner}; {use.exception.origin})" for use in report.expiring]
    lines += [f"  matches nothing: {use.exception.label} ({use.exception.origin})"
              for use in report.unused]
    return lines


def failures_table(result: ScanResult) -> FitTable:
    """Checks with failing or unjudged findings, worst first. The severity is the findings'
    own, as every report gives it (`Finding.severity`: a check's default may be raised or
    lowered for a mailbox), the worst when they differ."""
    failing = Counter(f.check_id for f in result.findings if f.status is Status.FAIL)
    errors = Counter(f.check_id for f in result.findings if f.status is Status.ERROR)
    accepted = Counter(f.check_id for f in result.findings if f.status is Status.ACCEPTED)
    worst: dict[str, Severity] = {}
    for finding in result.findings:
        if finding.status is Status.FAIL or (
                finding.status in {Status.ERROR, Status.ACCEPTED}
                and not failing[finding.check_id]):
            known = worst.get(finding.check_id)
            if known is None or finding.severity.rank > known.rank:
                worst[finding.check_id] = finding.severity
    default = {info.id: info.severity for info in result.checks}
    listed = sorted(worst, key=lambda c: (-worst[c].rank, -failing[c], -errors[c], c))
    table = FitTable(
        [Column("check", ident=True), Column("severity", ident=True),
         Column("fail", justify="right"), Column("error", justify="right"),
         *((Column("accepted", justify="right"),) if accepted else ())],
        title="Checks that fail or could not run",
        caption="severity: the worst of the check's findings, as the reports give it"
        if any(worst[c] is not default.get(c, worst[c]) for c in listed) else None)
    for check_id in listed:
        severity = worst[check_id]
        table.add_row(
            check_id,
            Text(severity.value, style=_SEVERITY_STYLE[severity]),
            str(failing[check_id]),
            Text(str(errors[check_id]), style="magenta" if errors[check_id] else ""),
            *((str(accepted[check_id]),) if accepted else ()),
        )
    return table


def riskiest_table(result: ScanResult, *, limit: int = 10) -> FitTable:
    """The riskiest mailboxes in the one risk order (`assess.risk.ranked`): those with open
    high or critical alerts ("active") first, then by score, ties by blast radius."""
    top = riskiest(result, limit)
    title = {0: "Riskiest mailboxes: none has a risk above zero",
             1: "Riskiest mailbox"}.get(len(top), f"Riskiest {len(top)} mailboxes")
    table = FitTable(
        [Column("#", ident=True, justify="right"), Column("risk", justify="right"),
         Column("mailbox", ident=True),
         Column("what was seen / how it can be taken", beneath=True)],
        title=title, show_lines=True)
    for item in top:
        lines = Text()
        for evidence in item.evidence[:2]:
            if lines:
                lines.append("\n")
            lines.append(f"seen, {evidence.category}: ", style=_SEVERITY_STYLE[evidence.severity])
            lines.append(evidence.summary)
        if len(item.evidence) > 2:
            lines.append(f"\n... and {plural(len(item.evidence) - 2, 'more kind')} of evidence")
        for path in item.paths[:2]:
            if lines:
                lines.append("\n")
            lines.append(f"{path.title}: ", style=_SEVERITY_STYLE[path.severity])
            lines.append(path.text)
        if not item.paths and not item.evidence:
            lines.append(", ".join(item.failing[:4]))
        score = Text(str(item.risk_score))
        if item.tier is RiskTier.ACTIVE:
            score = Text("active ", style="bold red") + score
        table.add_row(str(item.rank), score, Text(f"{item.upn}\n{item.kind}"), lines)
    return table


_SHOWN_USES = 3


def _inputs(info: CheckInfo) -> Text:
    """The sources a check reads, briefly: needed ones plain, used ones dim with a "+",
    and the properties that may be absent after them."""
    text = Text("\n".join(info.needs))
    if len(info.uses) <= _SHOWN_USES:
        for source in info.uses:
            text.append(f"\n+{source}", style="dim")
    else:
        text.append(f"\n+{len(info.uses)} more sources (--format json)", style="dim")
    for field in info.fields:
        text.append(f"\n{field.partition(':')[2]}?", style="italic")
    return text


def checks_table(checks: tuple[CheckInfo, ...]) -> FitTable:
    caption = ("default severity: the catalogue's; a finding may be raised or lowered for a "
               "mailbox, and scan and the reports show each finding's own. reads: the sources "
               "a check cannot judge without (it says error when one is missing); + the "
               "sources it also reads when they are there; ? properties a source may lack")
    table = FitTable(
        [Column("id", ident=True), Column("default severity"), Column("scope", drop=3),
         Column("fails when"), Column("reads", drop=2), Column("controls", drop=1)],
        title=f"{len(checks)} checks", caption=caption)
    for info in checks:
        table.add_row(
            info.id,
            Text(info.severity.value, style=_SEVERITY_STYLE[info.severity]),
            info.scope.value,
            info.fails,
            _inputs(info),
            "\n".join(info.controls),
        )
    return table


def _control(ref: str) -> dict[str, object]:
    """A control of the catalogue as `checks --format json` lists it."""
    entry = control(ref)
    if entry is None:  # a check cannot name one (`mapped` refuses it at import)
        return {"ref": ref}
    return {"ref": ref, "framework": entry.framework.value, "id": entry.id,
            "title": entry.title, "source": entry.source,
            "kinds": [k.value for k in entry.kinds], "coverage": entry.coverage or None}


def checks_document(checks: tuple[CheckInfo, ...]) -> list[dict[str, object]]:
    return [
        {
            "id": info.id,
            "title": info.title,
            "severity": info.severity.value,
            "scope": info.scope.value,
            "passes": info.passes,
            "fails": info.fails,
            "needs": list(info.needs),
            "uses": list(info.uses),
            "fields": list(info.fields),
            "reads_mailbox": info.reads_mailbox,
            "controls": list(info.controls),
            "control_details": [_control(ref) for ref in info.controls],
            "risk": info.risk,
            "remediation": info.remediation.as_dict(),
        }
        for info in checks
    ]


def inventory_document(result: ScanResult) -> list[dict[str, Any]]:
    """The ownerless inventory as JSON-ready dicts, riskiest first, each with its place in
    the risk order ("rank", as findings.json gives it), score and tier."""
    order = _risk_order(result)
    documents = []
    for entry in inventory_in_risk_order(result):
        rank, assessment = order.get(entry.upn, (None, None))
        documents.append({
            **plain_value(asdict(entry)), "rank": rank,
            "risk_score": assessment.risk_score if assessment else None,
            "risk_tier": assessment.tier.value if assessment else None,
        })
    return documents


def detection_table(detection: DetectionResult, *, limit: int = 12) -> FitTable:
    """Alerts grouped by category and target (a daily rule raises one a day), worst first,
    with a caption saying what the readers took in."""
    def rank(alert: Alert) -> int:
        return Severity(alert.severity).rank

    groups: dict[tuple[str, str], list[Alert]] = {}
    for alert in detection.alerts:
        groups.setdefault((alert.category, alert.target or "-"), []).append(alert)

    def order(item: tuple[tuple[str, str], list[Alert]]) -> tuple[int, int, str, str]:
        (category, target), alerts = item
        worst = max(rank(a) for a in alerts)
        return (-worst, -sum(a.event_count for a in alerts), category, target)

    ranked = sorted(groups.items(), key=order)
    rows = sum(r.rows for r in detection.readers)
    caption = (f"{plural(len(detection.alerts), 'alert')} "
               f"({plural(len(groups), 'category/target pair')}) from "
               f"{plural(rows, 'log row')} in {plural(len(detection.readers), 'file')}; "
               f"{plural(detection.bad_rows, 'bad row')}")
    table = FitTable(
        [Column("severity", ident=True), Column("category", ident=True, drop=1),
         Column("target", ident=True), Column("alerts", justify="right", drop=2),
         Column("latest", beneath=True)],
        title="Alerts", caption=caption)
    for (category, target), alerts in ranked[:limit]:
        worst = max(alerts, key=rank)
        latest = max(alerts, key=lambda a: (a.last_seen is not None, a.last_seen or 0, a.id))
        table.add_row(
            Text(str(worst.severity), style=_SEVERITY_STYLE[Severity(worst.severity)]),
            category,
            Text(target),
            str(len(alerts)),
            Text(latest.summary),
        )
    if len(ranked) > limit:
        table.add_row("", f"... {plural(len(ranked) - limit, 'more pair')}", "", "", "")
    return table


INVENTORY_CSV_COLUMNS = (
    "rank", "upn", "kind", "risk_score", "risk_tier", "display_name", "account_enabled",
    "licensed", "last_successful_sign_in", "protocols", "smtp_auth_enabled", "delegates",
    "forwarding", "custodian", "custodian_team",
)


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def inventory_csv(result: ScanResult) -> str:
    """The ownerless inventory as CSV, riskiest first, with a header; a cell that would
    start a spreadsheet formula is quoted with an apostrophe, as findings.csv does."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(INVENTORY_CSV_COLUMNS)
    order = _risk_order(result)
    for e in inventory_in_risk_order(result):
        rank, assessment = order.get(e.upn, (None, None))
        enabled = [name for name, on in sorted(e.protocols.items()) if on]
        row = (rank, e.upn, e.kind.value, assessment.risk_score if assessment else None,
               assessment.tier.value if assessment else None, e.display_name,
               e.account_enabled, e.licensed, e.last_successful_sign_in, " ".join(enabled),
               e.smtp_auth_enabled, e.delegates, " ".join(e.forwarding),
               e.custodian.person if e.custodian else None,
               e.custodian.team if e.custodian else None)
        writer.writerow([safe_cell(_csv_value(value)) for value in row])
    return buffer.getvalue()
