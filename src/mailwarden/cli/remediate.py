"""`mailwarden remediate plan|apply|rollback|export|show`: change the tenant, carefully."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mailwarden.cli import app
from mailwarden.cli.connect import (
    CaBundleOpt,
    CertificateOpt,
    ClientIdOpt,
    CloudOpt,
    ConfigOpt,
    Connection,
    DeviceCodeOpt,
    ExoUrlOpt,
    GraphUrlOpt,
    LoginUrlOpt,
    TenantOpt,
    open_session,
    report_failed_sources,
)
from mailwarden.cli.ui import console, err_console
from mailwarden.errors import ConfigError
from mailwarden.files import write_private_text
from mailwarden.m365.session import M365Session
from mailwarden.pipeline import Scan, collect_live_tenant, scan_directory, scan_snapshot
from mailwarden.remediate.apply import OutcomeStatus, RunReport
from mailwarden.remediate.errors import RemediationFailed
from mailwarden.remediate.export import export_powershell
from mailwarden.remediate.journal import JOURNAL_ENV, FileJournal, Journal
from mailwarden.remediate.journal_db import DatabaseJournal
from mailwarden.remediate.model import Action, Plan
from mailwarden.remediate.plan import PlanOptions, build_plan
from mailwarden.remediate.session import require_same_tenant, run_apply, run_rollback
from mailwarden.schemas import REMEDIATION_PLAN_SCHEMA
from mailwarden.tenant.snapshot import snapshot_from_recorded
from mailwarden.text import plural
from mailwarden.times import iso_with_offset

remediate_app = typer.Typer(
    help="Plan, apply, roll back and export changes that fix failing findings.",
    no_args_is_help=True,
)
app.add_typer(remediate_app, name="remediate")

FromDirOpt = Annotated[
    Path | None, typer.Option("--from-dir", help="Findings from a recorded tenant (offline).")
]
CheckOpt = Annotated[list[str] | None, typer.Option("--check", help="Only this check (repeat).")]
MailboxOpt = Annotated[
    list[str] | None,
    typer.Option("--mailbox", help="Only this mailbox (repeat); also admits one whose account "
                 "holds a directory role."),
]
ExcludeOpt = Annotated[
    list[str] | None, typer.Option("--exclude", help="Never touch this mailbox (repeat).")
]
EwsOpt = Annotated[bool, typer.Option("--include-ews", help="Also turn EWS off.")]
ActiveSyncOpt = Annotated[
    bool, typer.Option("--include-activesync", help="Also turn ActiveSync off.")
]
MaxAgeOpt = Annotated[
    float, typer.Option("--max-age", help="Refuse findings older than this many hours.")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Act on findings older than --max-age.")]
AppScopeOpt = Annotated[
    str | None,
    typer.Option("--app-scope-group", help="Restrict each unscoped app's Entra ID mail grants "
                 "to this mail-enabled security group (New-ApplicationAccessPolicy)."),
]
RemoveGrantsOpt = Annotated[
    bool,
    typer.Option("--remove-app-grants", help="Also remove unscoped apps' Entra ID mail grants "
                 "(the apps lose that access: say so only when you mean it)."),
]
JournalOpt = Annotated[
    Path | None,
    typer.Option("--journal-dir", help="Journal runs as JSON files in this directory instead "
                 "of the history database (also MAILWARDEN_JOURNAL_DIR)."),
]
DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="History database holding the journal: a path or a "
                 "postgresql:// URL (default: MAILWARDEN_DB, else the per-user history.db)."),
]
ActionOpt = Annotated[list[str] | None, typer.Option("--action", help="Only this action id.")]


def _scan(
    from_dir: Path | None, connection: Connection, session: M365Session | None = None
) -> Scan:
    """Findings of the recorded tenant `from_dir`, or of the live tenant collected through
    `session` (or through a session of its own when the command has none)."""
    if from_dir is not None:
        return scan_directory(from_dir)
    if connection.tenant is None and connection.config is None:
        raise ConfigError("give --from-dir DIR (a recorded tenant) or --tenant ... (live)")
    with ExitStack() as own:
        if session is None:
            session = own.enter_context(open_session(connection.settings()))
        with err_console.status("collecting the tenant"):
            recorded = collect_live_tenant(session)
    report_failed_sources(recorded)
    return scan_snapshot(snapshot_from_recorded(recorded))


def _plan(scan: Scan, options: PlanOptions) -> Plan:
    return build_plan(scan.result, scan.snapshot, options, now=datetime.now(UTC))


def _options(
    check: list[str] | None, mailbox: list[str] | None, exclude: list[str] | None,
    ews: bool, activesync: bool, max_age: float, force: bool,
    app_scope_group: str | None = None, remove_app_grants: bool = False,
) -> PlanOptions:
    return PlanOptions(
        checks=tuple(check or ()), mailboxes=tuple(m.lower() for m in mailbox or ()),
        exclude=tuple(e.lower() for e in exclude or ()), include_ews=ews,
        include_activesync=activesync, max_age=timedelta(hours=max_age), force=force,
        app_scope_group=app_scope_group, remove_app_grants=remove_app_grants,
    )


def _target(action: Action) -> Text:
    """The mailbox, or what a tenant-wide action changes."""
    return Text(action.upn or str(action.detail.get("target") or "the tenant"))


def plan_table(plan: Plan) -> Table:
    table = Table(title=plural(len(plan.actions), "action"), show_lines=True)
    for column in ("id", "action", "mailbox", "calls", "why", "might break"):
        table.add_column(column, overflow="fold")
    for action in plan.actions:
        table.add_row(
            action.id, action.kind.value, _target(action),
            Text("\n".join(c.text() for c in action.calls)),
            "\n".join(r.check_id for r in action.reasons), Text(action.breaks),
        )
    return table


def _print_plan(plan: Plan) -> None:
    console.print(plan_table(plan))
    for skipped in plan.skipped:
        console.print(f"[yellow]left out:[/] {escape(f'{skipped.upn}: {skipped.reason}')}",
                      markup=True, soft_wrap=True)
    if plan.manual:
        manual = len(plan.manual)
        console.print(f"{plural(manual, 'failing finding')} {'needs' if manual == 1 else 'need'} "
                      "a person, not a script (see the scan's remediation).")


def plan_document(plan: Plan) -> dict[str, object]:
    return {
        "schema": REMEDIATION_PLAN_SCHEMA,
        "tenant_id": plan.tenant_id,
        "collected_at": iso_with_offset(plan.collected_at) if plan.collected_at else None,
        "actions": [a.as_dict() for a in plan.actions],
        "skipped": [{"upn": s.upn, "reason": s.reason} for s in plan.skipped],
    }


@remediate_app.command("plan")
def plan_command(
    from_dir: FromDirOpt = None, check: CheckOpt = None, mailbox: MailboxOpt = None,
    exclude: ExcludeOpt = None, include_ews: EwsOpt = False, include_activesync: ActiveSyncOpt =
    False, max_age: MaxAgeOpt = 24.0, force: ForceOpt = False,
    app_scope_group: AppScopeOpt = None, remove_app_grants: RemoveGrantsOpt = False,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    tenant: TenantOpt = None, client_id: ClientIdOpt = None, certificate: CertificateOpt = None,
    device_code: DeviceCodeOpt = False, cloud: CloudOpt = None, login_url: LoginUrlOpt = None,
    graph_url: GraphUrlOpt = None, exo_url: ExoUrlOpt = None, ca_bundle: CaBundleOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show the changes that would fix the failing findings, with the exact calls."""
    connection = Connection.of(locals())
    options = _options(check, mailbox, exclude, include_ews, include_activesync, max_age, force,
                       app_scope_group, remove_app_grants)
    plan = _plan(_scan(from_dir, connection), options)
    if output_format == "json":
        typer.echo(json.dumps(plan_document(plan), indent=1, ensure_ascii=False))
    elif output_format == "table":
        _print_plan(plan)
    else:
        raise ConfigError(f"--format {output_format!r}: use table or json")


@remediate_app.command("export")
def export_command(
    from_dir: FromDirOpt = None, check: CheckOpt = None, mailbox: MailboxOpt = None,
    exclude: ExcludeOpt = None, include_ews: EwsOpt = False, include_activesync: ActiveSyncOpt =
    False, max_age: MaxAgeOpt = 24.0, force: ForceOpt = False,
    app_scope_group: AppScopeOpt = None, remove_app_grants: RemoveGrantsOpt = False,
    output_format: Annotated[str, typer.Option("--format", help="powershell.")] = "powershell",
    out: Annotated[Path | None, typer.Option("--out", help="Write the script here (0600).")] =
    None,
    tenant: TenantOpt = None, client_id: ClientIdOpt = None, certificate: CertificateOpt = None,
    device_code: DeviceCodeOpt = False, cloud: CloudOpt = None, login_url: LoginUrlOpt = None,
    graph_url: GraphUrlOpt = None, exo_url: ExoUrlOpt = None, ca_bundle: CaBundleOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Write the plan as a PowerShell script for change control."""
    if output_format != "powershell":
        raise ConfigError(f"--format {output_format!r}: use powershell")
    connection = Connection.of(locals())
    options = _options(check, mailbox, exclude, include_ews, include_activesync, max_age, force,
                       app_scope_group, remove_app_grants)
    script = export_powershell(_plan(_scan(from_dir, connection), options))
    if out is None:
        typer.echo(script, nl=False)
    else:
        write_private_text(out, script)
        err_console.print(f"wrote {out}")


@contextmanager
def _journal(journal_dir: Path | None, db: str | None) -> Iterator[Journal]:
    """The file journal when a directory is named, else the history database."""
    directory = journal_dir or (Path(os.environ[JOURNAL_ENV]) if os.environ.get(JOURNAL_ENV)
                                else None)
    if directory is not None:
        yield FileJournal(directory)
        return
    with DatabaseJournal(db) as journal:
        yield journal


def _confirmed(yes: bool, question: str) -> bool:
    """--yes, or a person at a terminal who says yes; anything else is a dry run."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    return typer.confirm(question, default=False)


def report_table(report: RunReport) -> Table:
    table = Table(title=f"run {report.run_id}" if report.run_id else "dry run")
    for column in ("id", "action", "mailbox", "result", "detail"):
        table.add_column(column, overflow="fold")
    for outcome in report.outcomes:
        style = "red" if outcome.status in {OutcomeStatus.FAILED,
                                            OutcomeStatus.ROLLBACK_FAILED} else ""
        table.add_row(outcome.action.id, outcome.action.kind.value, _target(outcome.action),
                      Text(outcome.status.value, style=style),
                      Text(outcome.error or ""))
    return table


def _finish(report: RunReport) -> None:
    console.print(report_table(report))
    counts = ", ".join(f"{s.value} {report.count(s)}" for s in OutcomeStatus if report.count(s))
    console.print(counts or "nothing to do")
    if report.run_id:
        console.print(f"journal: run {report.run_id} "
                      f"(`mailwarden remediate rollback {report.run_id}` undoes it)")
    if report.failures:
        raise RemediationFailed(
            f"{plural(len(report.failures), 'action')} failed (listed above); the others went "
            "ahead. Fix the cause and run the same command again: what is done is skipped."
        )


@remediate_app.command("apply")
def apply_command(
    from_dir: FromDirOpt = None, check: CheckOpt = None, mailbox: MailboxOpt = None,
    exclude: ExcludeOpt = None, include_ews: EwsOpt = False, include_activesync: ActiveSyncOpt =
    False, max_age: MaxAgeOpt = 24.0, force: ForceOpt = False, action: ActionOpt = None,
    app_scope_group: AppScopeOpt = None, remove_app_grants: RemoveGrantsOpt = False,
    yes: Annotated[bool, typer.Option("--yes", help="Make the changes (else a dry run).")] =
    False,
    journal_dir: JournalOpt = None, db: DbOpt = None,
    tenant: TenantOpt = None, client_id: ClientIdOpt = None, certificate: CertificateOpt = None,
    device_code: DeviceCodeOpt = False, cloud: CloudOpt = None, login_url: LoginUrlOpt = None,
    graph_url: GraphUrlOpt = None, exo_url: ExoUrlOpt = None, ca_bundle: CaBundleOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Apply the plan to the tenant: a dry run unless --yes (or you confirm)."""
    connection = Connection.of(locals())
    settings = connection.settings()
    # One session for collecting and applying: a person signs in once.
    with open_session(settings) as session:
        scan = _scan(from_dir, connection, session)
        require_same_tenant(scan.result.tenant, settings.require_tenant())
        options = _options(check, mailbox, exclude, include_ews, include_activesync, max_age,
                           force, app_scope_group, remove_app_grants)
        plan = _plan(scan, options)
        if action:
            plan = plan.select(tuple(action))
        _print_plan(plan)
        live = bool(plan.actions) and _confirmed(
            yes,
            f"Make {plural(len(plan.actions), 'change')} in "
            f"{plan.tenant_name or plan.tenant_id}?",
        )
        if not live:  # a dry run journals nothing, so it opens no journal
            err_console.print("dry run: nothing is changed (pass --yes to apply)")
            report = run_apply(plan, session, None, dry_run=True)
        else:
            with _journal(journal_dir, db) as journal:
                report = run_apply(plan, session, journal, dry_run=False)
    _finish(report)


@remediate_app.command("rollback")
def rollback_command(
    run_id: Annotated[str, typer.Argument(help="The run id `remediate apply` printed.")],
    action: ActionOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    journal_dir: JournalOpt = None, db: DbOpt = None,
    tenant: TenantOpt = None, client_id: ClientIdOpt = None, certificate: CertificateOpt = None,
    device_code: DeviceCodeOpt = False, cloud: CloudOpt = None, login_url: LoginUrlOpt = None,
    graph_url: GraphUrlOpt = None, exo_url: ExoUrlOpt = None, ca_bundle: CaBundleOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Put back the state journalled before each change of RUN_ID (or of --action ids)."""
    connection = Connection.of(locals())
    settings = connection.settings()
    with _journal(journal_dir, db) as journal, open_session(settings) as session:
        run = journal.load(run_id)
        count = len(action) if action else len(run.actions)
        if not _confirmed(yes, f"Roll back {plural(count, 'action')} of run {run_id}?"):
            raise ConfigError("rollback not confirmed: pass --yes to roll back without a prompt")
        report = run_rollback(run_id, session, journal, action_ids=tuple(action or ()))
    _finish(report)


@remediate_app.command("show")
def show_command(
    run_id: Annotated[str | None, typer.Argument(help="A run id; none lists the runs.")] = None,
    journal_dir: JournalOpt = None, db: DbOpt = None,
) -> None:
    """List journalled runs, or one run's actions and what became of them."""
    with _journal(journal_dir, db) as journal:
        if run_id is None:
            for known in journal.run_ids():
                console.print(Text(known))
            return
        run = journal.load(run_id)
    table = Table(title=f"run {run_id} on {run.tenant_id}, {run.started_at.isoformat()}")
    for column in ("id", "action", "mailbox", "status", "prior state", "error"):
        table.add_column(column, overflow="fold")
    for item in run.actions:
        entry = run.entries.get(item.id)
        table.add_row(item.id, item.kind.value, _target(item),
                      entry.status.value if entry else "not started",
                      Text(json.dumps(dict(entry.prior)) if entry and entry.prior else ""),
                      Text(entry.error or "" if entry else ""))
    console.print(table)
