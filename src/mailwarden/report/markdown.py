"""summary.md: a short Markdown summary for tickets and chat.

Tenant and log strings are attacker-controlled: they are escaped so that they show as
text and cannot add links, images, HTML or table cells.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from mailwarden.assess.summary import riskiest
from mailwarden.model.controls import FRAMEWORK_NAMES, Framework
from mailwarden.model.exceptions import ExceptionUse
from mailwarden.model.findings import RiskTier, UseState
from mailwarden.model.run import Drift, FindingChangeKind, Run
from mailwarden.report.common import (
    alert_counts,
    days_left,
    exception_sections,
    severity_counts,
)
from mailwarden.report.compliance import COUNTED, ControlResult, run_rows, status_summary
from mailwarden.text import plural
from mailwarden.times import iso

#: Characters that start inline markup. Every value is placed mid-line and newlines are
#: folded, so line-start markers (#, -, +, 1.) cannot take effect and are left alone.
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
RISKIEST_SHOWN = 10


def md(text: object) -> str:
    """Text as Markdown that renders literally, on one line."""
    flat = " ".join(str(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;")
    return _SPECIAL.sub(r"\\\1", flat)


def _table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _summary(run: Run) -> list[str]:
    result = run.result
    kinds: dict[str, int] = {}
    for entry in result.inventory:
        kinds[entry.kind.value] = kinds.get(entry.kind.value, 0) + 1
    lines = ["## Summary", ""]
    lines += _table(("ownerless mailboxes", "count"),
                    ((md(k), str(n)) for k, n in sorted(kinds.items())))
    lines += ["", f"Total ownerless: {len(result.inventory)}", ""]
    lines += _table(("failed findings by severity", "count"),
                    ((s, str(n)) for s, n in severity_counts(result.findings).items()))
    accepted = result.status_counts().get("accepted", 0)
    if accepted:
        lines += ["", f"{plural(accepted, 'failing finding')} accepted by an exception "
                  "(not counted above, never as passed): see Exceptions."]
    errors = result.status_counts().get("error", 0)
    if errors:
        lines += ["", f"{plural(errors, 'finding')} could not be judged (input missing): "
                  "see findings.json."]
    if run.snapshot.missing_sources:
        lines += ["", "Sources not collected: "
                  + ", ".join(md(s) for s in run.snapshot.missing_sources) + "."]
    return lines


def _riskiest(run: Run) -> list[str]:
    top = riskiest(run.result, RISKIEST_SHOWN)
    lines = ["", "## Riskiest mailboxes", ""]
    if not top:
        return [*lines, "No mailbox has a risk above zero."]
    for item in top:
        active = "active, " if item.tier is RiskTier.ACTIVE else ""
        lines.append(f"{item.rank}. **{md(item.upn)}** ({md(item.kind)}), {active}"
                     f"risk {item.risk_score}: {plural(len(item.failing), 'failing check')}")
        lines += [f"   - seen, {md(e.severity.value)}: {md(e.summary)}" for e in item.evidence]
        lines += [f"   - {md(path.severity.value)}: {md(path.text)}" for path in item.paths]
    return lines


def _exception_rows(uses: Iterable[ExceptionUse]) -> list[tuple[str, ...]]:
    return [(md(u.exception.check), md(u.exception.mailbox or "the tenant"),
             md(u.exception.owner), f"{u.exception.expires.isoformat()} ({days_left(u)})",
             md(u.exception.ticket or ""), md(u.exception.reason), str(len(u.matched)))
            for u in uses]


def _exceptions(run: Run) -> list[str]:
    report = run.result.exceptions
    if report is None:
        return []
    lines = ["", "## Exceptions", ""]
    if not report.uses:
        return [*lines, "No exceptions are defined."]
    header = ("check", "mailbox", "owner", "expires", "ticket", "reason", "findings")
    for title, uses in exception_sections(report):
        lines += [f"### {title}", ""]
        lines += _table(header, _exception_rows(uses)) if uses else ["None."]
        lines.append("")
    return lines[:-1]


def _grant_use(run: Run) -> list[str]:
    """The access map's last use per delegate: every grant not seen used in the window
    (dormant, or unknown with why), and how many were."""
    uses = [(access.upn, use) for access in run.result.access for use in access.usage]
    lines = ["", "## Delegates' last use", ""]
    if not uses:
        return [*lines, "No FullAccess, SendAs or SendOnBehalf grant was judged."]
    days = uses[0][1].window_days
    used = sum(1 for _, use in uses if use.state is UseState.USED)
    lines.append(f"{plural(used, 'grant')} of {len(uses)} used in the last {days} days "
                 "(Unified Audit Log).")
    rest = [(upn, use) for upn, use in uses if use.state is not UseState.USED]
    if rest:
        lines.append("")
        lines += _table(("mailbox", "grant", "to", "last use"), (
            (md(upn), md(use.right), md(use.name or use.trustee), md(use.describe()))
            for upn, use in rest))
    return lines


def _alerts(run: Run) -> list[str]:
    if run.detection is None:
        return ["", "## Alerts", "", "No logs were analysed in this run."]
    lines = ["", "## Alerts", ""]
    counts = alert_counts(run.alerts)
    if not counts:
        return [*lines, "No alerts."]
    lines += _table(("category", "alerts"), ((md(c), str(n)) for c, n in counts.items()))
    return lines


def _changes(drift: Drift | None) -> list[str]:
    lines = ["", "## Changes since the previous run", ""]
    if drift is None:
        return [*lines, "No previous run of this tenant is stored."]
    lines.append(f"Compared with run {drift.before.id} ({iso(drift.before.generated_at)}).")
    if drift.empty:
        return [*lines, "", "Nothing changed."]
    lines.append("")
    for kind in FindingChangeKind:
        for change in drift.findings_of(kind):
            lines.append(f"- {kind.value}: {md(change.check_id)} on "
                         f"{md(change.upn or 'the tenant')}")
    lines += [f"- new ownerless mailbox: {md(m.upn)} ({md(m.kind)})"
              for m in drift.mailboxes_added]
    lines += [f"- ownerless mailbox gone: {md(m.upn)}" for m in drift.mailboxes_removed]
    lines += [f"- delegate added: {md(d.principal)} {md(d.right)} on {md(d.mailbox)}"
              for d in drift.delegates_added]
    lines += [f"- delegate removed: {md(d.principal)} {md(d.right)} on {md(d.mailbox)}"
              for d in drift.delegates_removed]
    lines += [f"- {md(s.setting)} on {md(s.mailbox or 'the tenant')}: "
              f"{md(s.before)} -> {md(s.after)}" for s in drift.settings_changed]
    return lines


def compliance_lines(rows: Sequence[ControlResult], framework: Framework, *,
                     heading: str = "###", limit: int = 10) -> list[str]:
    """The roll-up of one framework: its controls table, then, per control that does not
    pass, the findings that keep it from passing."""
    said = ", ".join(f"{n} {status}" for status, n in status_summary(rows).items() if n)
    lines = [f"{heading} {md(FRAMEWORK_NAMES[framework])}", "",
             f"{plural(len(rows), 'control')} mapped: {said or 'none'}.", ""]
    lines += _table(("control", "title", "status", *(s.value for s in COUNTED)),
                    ((md(r.control.id), md(r.control.title), r.status.value,
                      *(str(r.count(s)) for s in COUNTED)) for r in rows))
    notes = [f"- {md(r.control.id)}: {md(r.control.coverage)}" for r in rows
             if r.control.coverage]
    if notes:
        lines += ["", "Where the benchmark's audit looks wider than the ownerless mailboxes:",
                  "", *notes]
    for row in rows:
        if not row.open:
            continue
        lines += ["", f"{row.status.value} {md(row.control.id)} "
                      f"({md(row.control.title)}):", ""]
        lines += [f"- {f.status.value} {md(f.check_id)} {md(f.resource.upn or 'tenant')}: "
                  f"{md(f.message)}" for f in row.open[:limit]]
        if len(row.open) > limit:
            lines.append(f"- and {len(row.open) - limit} more")
    return lines


def _compliance(run: Run) -> list[str]:
    lines = ["", "## Compliance", ""]
    for framework, rows in run_rows(run):
        lines += [*compliance_lines(rows, framework), ""]
    return lines[:-1]


def render(run: Run) -> str:
    tenant = run.tenant
    title = tenant.display_name or tenant.default_domain or tenant.tenant_id
    lines = [
        f"# mailwarden report: {md(title)}",
        "",
        f"Tenant {md(tenant.tenant_id)}, generated {iso(run.generated_at)}.",
        "",
        *_summary(run),
        *_riskiest(run),
        *_exceptions(run),
        *_grant_use(run),
        *_alerts(run),
        *_compliance(run),
        *_changes(run.changes),
    ]
    return "\n".join(lines) + "\n"
