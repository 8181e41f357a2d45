"""How `remediate plan` and `remediate show` print: totals first, one line per action, and
the same as JSON or CSV (with the exact calls) for change tickets and spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from rich.console import Group
from rich.text import Text

from mailwarden.cli.tables import Column, FitTable
from mailwarden.remediate.apply import OutcomeStatus, RunReport
from mailwarden.remediate.history import RunSummary, summarize
from mailwarden.remediate.journal import JournalEntry, RunRecord
from mailwarden.remediate.kinds import KINDS, describe
from mailwarden.remediate.model import Action, Plan
from mailwarden.report.csv_report import safe_cell
from mailwarden.schemas import REMEDIATION_PLAN_SCHEMA, REMEDIATION_RUNS_SCHEMA
from mailwarden.text import plural
from mailwarden.times import iso_with_offset

PLAN_COLUMNS = (
    "order", "id", "kind", "mailbox", "change", "checks", "why", "might_break", "reversible",
    "note", "calls", "calls_json",
)


def mailboxes_of(action: Action) -> set[str]:
    """The mailboxes an action is for: its own, or those a tenant-wide change answers."""
    if action.upn:
        return {action.upn}
    return {str(m) for m in action.detail.get("mailboxes") or ()}


def target_of(action: Action) -> str:
    """How an action's target is shown: its mailbox, or "tenant" for a tenant-wide one."""
    return action.upn or str(action.detail.get("target") or "tenant")


def _mailbox_count(actions: Any) -> int:
    return len(set().union(*(mailboxes_of(a) for a in actions)))


def totals(plan: Plan) -> list[dict[str, Any]]:
    """Actions and mailboxes per kind, in the order kinds are applied."""
    actions = Counter(a.kind for a in plan.actions)
    mailboxes = {k: _mailbox_count(a for a in plan.actions if a.kind is k) for k in actions}
    return [
        {"kind": k.kind.value, "actions": actions[k.kind], "mailboxes": mailboxes[k.kind]}
        for k in KINDS
        if actions[k.kind]
    ]


def plan_heading(plan: Plan) -> str:
    mailboxes = _mailbox_count(plan.actions)
    collected = plan.collected_at.isoformat() if plan.collected_at else "an unknown time"
    return (
        f"Plan for {plan.tenant_name or plan.tenant_id} ({plan.tenant_id}): "
        f"{plural(len(plan.actions), 'action')} on {plural(mailboxes, 'mailbox', 'mailboxes')}, "
        f"riskiest mailbox first; findings collected at {collected}"
    )


def totals_table(plan: Plan) -> FitTable:
    table = FitTable([Column("action", ident=True), Column("actions", justify="right"),
                      Column("mailboxes", justify="right")], title="totals")
    for row in totals(plan):
        table.add_row(row["kind"], str(row["actions"]), str(row["mailboxes"]))
    table.add_row(Text("all", style="bold"), str(len(plan.actions)),
                  str(_mailbox_count(plan.actions)))
    return table


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def plan_lines(plan: Plan, width: int, *, verbose: bool = False) -> Text:
    """One line per action, cut to `width` (… marks a cut): order, id, mailbox, action, what
    it changes, the checks it answers. With `verbose`, each is followed by why, its exact
    calls and what might break, in full."""
    mailbox = min(max((len(target_of(a)) for a in plan.actions), default=7), 40)
    kind = max((len(a.kind.value) for a in plan.actions), default=6)
    number = len(str(len(plan.actions)))
    head = f"{'#':>{number}}  {'id':<10}  {'mailbox':<{mailbox}}  {'action':<{kind}}  change"
    text = Text(_cut(head + "  [checks]", width), style="bold")
    indent = " " * (number + 2)
    for n, action in enumerate(plan.actions, start=1):
        line = (f"{n:>{number}}  {action.id:<10}  {_cut(target_of(action), mailbox):<{mailbox}}  "
                f"{action.kind.value:<{kind}}  {describe(action)}  "
                f"[{', '.join(action.check_ids)}]")
        text.append("\n" + (line if verbose else _cut(line, width)))
        if verbose:
            details = [f"why: {r.check_id}: {r.message}" for r in action.reasons]
            details += [f"call: {c.text()}" for c in action.calls]
            details.append(f"might break: {action.breaks}")
            details += [f"note: {action.note}"] if action.note else []
            text.append("".join(f"\n{indent}{d}" for d in details))
    return text


def plan_view(plan: Plan, *, width: int, verbose: bool = False) -> Group:
    return Group(Text(plan_heading(plan)), totals_table(plan),
                 plan_lines(plan, width, verbose=verbose))


def plan_document(plan: Plan) -> dict[str, Any]:
    return {
        "schema": REMEDIATION_PLAN_SCHEMA,
        "tenant_id": plan.tenant_id,
        "tenant_name": plan.tenant_name,
        "collected_at": iso_with_offset(plan.collected_at) if plan.collected_at else None,
        "order": "mailboxes in risk order (riskiest first), then worst finding first",
        "totals": totals(plan),
        "actions": [
            {"order": n, **a.as_dict(), "change": describe(a)}
            for n, a in enumerate(plan.actions, start=1)
        ],
        "skipped": [{"upn": s.upn, "reason": s.reason} for s in plan.skipped],
        "manual": [
            {"upn": upn or None, "check_id": r.check_id, "message": r.message}
            for upn, r in zip(plan.manual_upns, plan.manual, strict=True)
        ],
    }


def plan_csv(plan: Plan) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PLAN_COLUMNS)
    for n, action in enumerate(plan.actions, start=1):
        cells = [
            str(n), action.id, action.kind.value, action.upn, describe(action),
            "; ".join(action.check_ids),
            "\n".join(f"{r.check_id}: {r.message}" for r in action.reasons),
            action.breaks, "yes" if action.reversible else "no", action.note or "",
            "\n".join(c.text() for c in action.calls),
            json.dumps([c.as_dict() for c in action.calls], ensure_ascii=False),
        ]
        writer.writerow([safe_cell(c) for c in cells])
    return buffer.getvalue()


def runs_table(runs: Sequence[RunSummary]) -> FitTable:
    table = FitTable(
        [Column("run", ident=True), Column("started (UTC)", ident=True, drop=2),
         Column("tenant", ident=True), Column("by", ident=True, drop=1),
         Column("actions", justify="right"), Column("outcomes", beneath=True),
         Column("rolled back", ident=True)],
        title=plural(len(runs), "remediation run"))
    for run in runs:
        outcomes = ", ".join(f"{name} {count}" for name, count in sorted(run.counts.items()))
        table.add_row(
            run.run_id, run.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            Text(run.tenant), Text(run.by or "unknown"), str(run.actions), outcomes,
            run.rolled_back,
        )
    return table


def runs_document(runs: Sequence[RunSummary]) -> dict[str, Any]:
    return {"schema": REMEDIATION_RUNS_SCHEMA, "runs": [run.as_dict() for run in runs]}


def _status(run: RunRecord, action: Action) -> tuple[str, JournalEntry | None]:
    entry = run.entries.get(action.id)
    return (entry.status.value if entry else "not started"), entry


def run_table(run: RunRecord) -> FitTable:
    """One run's actions: what each changes, in words, and what became of it."""
    summary = summarize(run)
    who = f" by {summary.by}" if summary.by else ""
    table = FitTable(
        [Column("id", ident=True), Column("mailbox", ident=True),
         Column("change", beneath=True), Column("outcome", ident=True),
         Column("state before", beneath=True, drop=1), Column("error", beneath=True)],
        title=f"run {run.run_id} on {summary.tenant}{who}, "
        f"{run.started_at.isoformat(timespec='seconds')}; rolled back: {summary.rolled_back}")
    for action in run.actions:
        status, entry = _status(run, action)
        prior = json.dumps(dict(entry.prior)) if entry and entry.prior is not None else ""
        table.add_row(action.id, Text(target_of(action)), Text(describe(action)), status,
                      Text(prior), Text(entry.error or "" if entry else ""))
    return table


def run_document(run: RunRecord) -> dict[str, Any]:
    actions = []
    for action in run.actions:
        status, entry = _status(run, action)
        actions.append({
            "id": action.id, "kind": action.kind.value, "upn": action.upn,
            "change": describe(action), "outcome": status,
            "at": entry.at.isoformat() if entry else None,
            "prior": dict(entry.prior) if entry and entry.prior is not None else None,
            "error": entry.error if entry else None,
        })
    return {**summarize(run).as_dict(),
            "connection": dict(run.context.connection), "actions": actions}


def report_table(report: RunReport) -> FitTable:
    """What an apply or a rollback did (or, in a dry run, would do) to each action."""
    title = f"run {report.run_id}" if report.run_id else "run"
    table = FitTable(
        [Column("id", ident=True), Column("mailbox", ident=True),
         Column("change", beneath=True), Column("result", ident=True),
         Column("detail", beneath=True)],
        title=f"{title} (dry run)" if report.dry_run else title)
    failed = {OutcomeStatus.FAILED, OutcomeStatus.ROLLBACK_FAILED}
    for outcome in report.outcomes:
        action = outcome.action
        detail = outcome.error or ""
        if outcome.status is OutcomeStatus.WOULD_RESTORE:
            detail = "\n".join(c.text() for c in outcome.calls)
        table.add_row(action.id, Text(target_of(action)), Text(describe(action)),
                      Text(outcome.status.value, style="red" if outcome.status in failed else ""),
                      Text(detail))
    return table
