"""Rich renderings of results for the terminal."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from mailwarden.assess import riskiest
from mailwarden.detect.results import Alert, DetectionResult
from mailwarden.model.controls import control
from mailwarden.model.findings import CheckInfo, RiskTier, ScanResult, Severity, Status
from mailwarden.model.findings.scan import InventoryEntry
from mailwarden.report.findings_json import plain_value
from mailwarden.text import plural

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


def inventory_table(result: ScanResult, *, limit: int | None = None) -> Table:
    entries = sorted(result.inventory, key=lambda e: (e.kind.value, e.upn))
    shown = entries if limit is None else entries[:limit]
    title = (f"{plural(len(entries), 'ownerless mailbox', 'ownerless mailboxes')} in "
             f"{result.tenant.display_name or 'the tenant'}")
    if len(shown) < len(entries):
        title += f" (first {len(shown)})"
    table = Table(title=Text(title), title_justify="left", expand=False)
    for column in ("mailbox", "kind", "sign-in", "licence", "last sign-in", "protocols",
                   "delegates", "custodian"):
        table.add_column(column, overflow="fold")
    for e in shown:
        table.add_row(
            Text(e.upn),
            e.kind.value,
            _yes_no(e.account_enabled, bad=True),
            _yes_no(e.licensed, bad=False),
            _date(e.last_successful_sign_in),
            _protocols(e),
            str(e.delegates),
            Text(e.custodian.person if e.custodian else "-"),
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


def failures_table(result: ScanResult) -> Table:
    failing = Counter(f.check_id for f in result.findings if f.status is Status.FAIL)
    errors = Counter(f.check_id for f in result.findings if f.status is Status.ERROR)
    accepted = Counter(f.check_id for f in result.findings if f.status is Status.ACCEPTED)
    table = Table(title="Checks that fail or could not run", title_justify="left")
    columns = ("check", "severity", "fail", "error", *(("accepted",) if accepted else ()))
    for column in columns:
        table.add_column(column)
    for info in result.checks:
        if failing[info.id] or errors[info.id] or accepted[info.id]:
            table.add_row(
                info.id,
                Text(info.severity.value, style=_SEVERITY_STYLE[info.severity]),
                str(failing[info.id]),
                Text(str(errors[info.id]), style="magenta" if errors[info.id] else ""),
                *((str(accepted[info.id]),) if accepted else ()),
            )
    return table


def riskiest_table(result: ScanResult, *, limit: int = 10) -> Table:
    """The riskiest mailboxes in the one risk order (`assess.risk.ranked`): those with open
    high or critical alerts ("active") first, then by score, ties by blast radius."""
    top = riskiest(result, limit)
    title = {0: "Riskiest mailboxes: none has a risk above zero",
             1: "Riskiest mailbox"}.get(len(top), f"Riskiest {len(top)} mailboxes")
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("risk", justify="right")
    table.add_column("mailbox", overflow="fold")
    table.add_column("what was seen / how it can be taken", overflow="fold")
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
            score = Text("active\n", style="bold red") + score
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


def checks_table(checks: tuple[CheckInfo, ...]) -> Table:
    caption = ("reads: the sources a check cannot judge without (it says error when one is "
               "missing); + the sources it also reads when they are there; ? properties a "
               "source may lack")
    table = Table(title=f"{len(checks)} checks", title_justify="left", caption=caption,
                  caption_justify="left")
    for column in ("id", "severity", "scope", "fails when", "reads", "controls"):
        table.add_column(column, overflow="fold")
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
    """The ownerless inventory as JSON-ready dicts, sorted by kind and UPN."""
    entries = sorted(result.inventory, key=lambda e: (e.kind.value, e.upn))
    return [plain_value(asdict(entry)) for entry in entries]


def detection_table(detection: DetectionResult, *, limit: int = 12) -> Table:
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
    table = Table(title="Alerts", title_justify="left", caption=caption, caption_justify="left")
    for column in ("severity", "category", "target", "alerts", "latest"):
        table.add_column(column, overflow="fold")
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
