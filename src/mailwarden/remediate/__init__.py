"""Remediation: findings -> a plan of exact calls -> apply with a journal -> roll back.

    plan = build_plan(scan.result, scan.snapshot, PlanOptions(), now=datetime.now(UTC))
    with M365Session(settings) as session:
        report = run_apply(plan, session, journal, dry_run=False)
        run_rollback(report.run_id, session, journal)
    script = export_powershell(plan)

`apply_plan` and `rollback_run` are the async forms, over a `Wire` built on the run's
`M365Http`. Each action kind (block sign-in, disable protocols, ...) is one module of
`kinds/`: how its actions are built, read, judged already done, and undone.
"""

from mailwarden.remediate.apply import Outcome, OutcomeStatus, RunReport, apply_plan
from mailwarden.remediate.export import export_powershell
from mailwarden.remediate.journal import FileJournal, Journal, JournalEntry, RunRecord
from mailwarden.remediate.journal_db import DatabaseJournal
from mailwarden.remediate.model import Action, ActionKind, ExoCall, GraphCall, Plan
from mailwarden.remediate.plan import DEFAULT_MAX_AGE, PlanOptions, build_plan
from mailwarden.remediate.rollback import rollback_run
from mailwarden.remediate.session import run_apply, run_rollback
from mailwarden.remediate.wire import Wire

__all__ = [
    "DEFAULT_MAX_AGE",
    "Action",
    "ActionKind",
    "DatabaseJournal",
    "ExoCall",
    "FileJournal",
    "GraphCall",
    "Journal",
    "JournalEntry",
    "Outcome",
    "OutcomeStatus",
    "Plan",
    "PlanOptions",
    "RunRecord",
    "RunReport",
    "Wire",
    "apply_plan",
    "build_plan",
    "export_powershell",
    "rollback_run",
    "run_apply",
    "run_rollback",
]
