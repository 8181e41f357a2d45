"""`mailwarden remediate plan|apply|rollback|export|show`: change the tenant, carefully."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

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
from mailwarden.cli.remediate_options import (
    ActionOpt,
    ActiveSyncOpt,
    AppScopeOpt,
    BreakGlassOpt,
    CheckOpt,
    DbOpt,
    EwsOpt,
    ExcludeOpt,
    ExternalOpt,
    ForceOpt,
    FromDirOpt,
    JournalOpt,
    MailboxOpt,
    MaxAgeOpt,
    RemoveGrantsOpt,
    plan_options,
)
from mailwarden.cli.remediate_views import (
    plan_csv,
    plan_document,
    plan_view,
    report_table,
    run_document,
    run_table,
    runs_document,
    runs_table,
)
from mailwarden.cli.ui import console, err_console
from mailwarden.errors import ConfigError, NoHistoryError
from mailwarden.files import write_private_text
from mailwarden.m365.session import M365Session
from mailwarden.pipeline import Scan, collect_live_tenant, scan_directory, scan_snapshot
from mailwarden.remediate.apply import OutcomeStatus, RunReport
from mailwarden.remediate.errors import RemediationFailed
from mailwarden.remediate.export import export_powershell
from mailwarden.remediate.history import summaries
from mailwarden.remediate.journal import JOURNAL_ENV, FileJournal, Journal, RunRecord
from mailwarden.remediate.journal_db import DatabaseJournal
from mailwarden.remediate.model import ActionKind, Plan
from mailwarden.remediate.plan import PlanOptions, build_plan
from mailwarden.remediate.session import (
    CONNECTION_SETTINGS,
    require_same_tenant,
    run_apply,
    run_rollback,
)
from mailwarden.settings import load_settings
from mailwarden.tenant.snapshot import snapshot_from_recorded
from mailwarden.text import plural

remediate_app = typer.Typer(
    help="Plan, apply, roll back and export changes that fix failing findings.",
    no_args_is_help=True,
)
app.add_typer(remediate_app, name="remediate")

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


def _print_plan(plan: Plan, *, verbose: bool = False) -> None:
    console.print(plan_view(plan, width=console.width, verbose=verbose))
    for skipped in plan.skipped:
        console.print(f"[yellow]left out:[/] {escape(f'{skipped.upn}: {skipped.reason}')}",
                      markup=True, soft_wrap=True)
    if plan.manual:
        manual = len(plan.manual)
        console.print(f"{plural(manual, 'failing finding')} {'needs' if manual == 1 else 'need'} "
                      "a person, not a script (see the scan's remediation).")


def _break_glass(flag: list[str] | None, config: Path | None) -> tuple[str, ...]:
    """The break-glass accounts: the flags, else the setting (TOML, environment)."""
    if flag:
        return tuple(dict.fromkeys(f.strip() for f in flag if f.strip()))
    if config is not None and not config.is_file():
        raise ConfigError(f"{config}: settings file not found")
    return load_settings(toml_path=config).break_glass


def _warn_break_glass(plan: Plan) -> None:
    creates = [a for a in plan.actions if a.kind is ActionKind.CA_CREATE_LEGACY_BLOCK]
    if any(not a.detail.get("break_glass") for a in creates):
        err_console.print(
            "[bold red]WARNING[/]: no break-glass account is configured: the new "
            "conditional-access policy excludes nobody. It is created report-only, so it "
            "blocks nobody yet; name the emergency-access accounts (--break-glass, setting "
            "break_glass) before turning it on.", soft_wrap=True)


@remediate_app.command("plan")
def plan_command(
    from_dir: FromDirOpt = None, check: CheckOpt = None, mailbox: MailboxOpt = None,
    exclude: ExcludeOpt = None, include_ews: EwsOpt = False, include_activesync: ActiveSyncOpt =
    False, max_age: MaxAgeOpt = 24.0, force: ForceOpt = False,
    include_external_delegates: ExternalOpt = False, break_glass: BreakGlassOpt = None,
    app_scope_group: AppScopeOpt = None, remove_app_grants: RemoveGrantsOpt = False,
    output_format: Annotated[str, typer.Option(
        "--format", help="table (totals, then one line per action), json or csv (with the "
        "exact calls).")] = "table",
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Table: also each action's calls and what might break.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the json or csv here (0600) instead of printing it.")] = None,
    tenant: TenantOpt = None, client_id: ClientIdOpt = None, certificate: CertificateOpt = None,
    device_code: DeviceCodeOpt = False, cloud: CloudOpt = None, login_url: LoginUrlOpt = None,
    graph_url: GraphUrlOpt = None, exo_url: ExoUrlOpt = None, ca_bundle: CaBundleOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show the changes that would fix the failing findings: totals per action, then the
    actions, riskiest mailbox first.

    Exit codes: 0 shown; 2 bad usage or input; 3 sign-in or permission refused; 4 the live
    tenant could not be read whole; 70 internal error."""
    if output_format not in {"table", "json", "csv"}:
        raise ConfigError(f"--format {output_format!r}: use table, json or csv")
    if out is not None and output_format == "table":
        raise ConfigError("--out writes json or csv: add --format json or --format csv")
    connection = Connection.of(locals())
    options = plan_options(check, mailbox, exclude, include_ews, include_activesync, max_age, force,
                           include_external_delegates, _break_glass(break_glass, config),
                           app_scope_group, remove_app_grants)
    plan = _plan(_scan(from_dir, connection), options)
    _warn_break_glass(plan)
    if output_format == "table":
        _print_plan(plan, verbose=verbose)
        return
    text = (plan_csv(plan) if output_format == "csv"
            else json.dumps(plan_document(plan), indent=1, ensure_ascii=False) + "\n")
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_private_text(out, text)
        err_console.print(f"wrote {out}")


@remediate_app.command("export")
def export_command(
    from_dir: FromDirOpt = None, check: CheckOpt = None, mailbox: MailboxOpt = None,
    exclude: ExcludeOpt = None, include_ews: EwsOpt = False, include_activesync: ActiveSyncOpt =
    False, max_age: MaxAgeOpt = 24.0, force: ForceOpt = False,
    include_external_delegates: ExternalOpt = False, break_glass: BreakGlassOpt = None,
    app_scope_group: AppScopeOpt = None, remove_app_grants: RemoveGrantsOpt = False,
    output_format: Annotated[str, typer.Option("--format", help="powershell.")] = "powershell",
    out: Annotated[Path | None, typer.Option("--out", help="Write the script here (0600).")] =
    None,
    tenant: TenantOpt = None, client_id: ClientIdOpt = None, certificate: CertificateOpt = None,
    device_code: DeviceCodeOpt = False, cloud: CloudOpt = None, login_url: LoginUrlOpt = None,
    graph_url: GraphUrlOpt = None, exo_url: ExoUrlOpt = None, ca_bundle: CaBundleOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Write the plan as a PowerShell script for change control.

    Exit codes: 0 written; 2 bad usage or input; 3 sign-in or permission refused; 4 the
    live tenant could not be read whole; 70 internal error."""
    if output_format != "powershell":
        raise ConfigError(f"--format {output_format!r}: use powershell")
    connection = Connection.of(locals())
    options = plan_options(check, mailbox, exclude, include_ews, include_activesync, max_age, force,
                           include_external_delegates, _break_glass(break_glass, config),
                           app_scope_group, remove_app_grants)
    plan = _plan(_scan(from_dir, connection), options)
    _warn_break_glass(plan)
    script = export_powershell(plan)
    if out is None:
        typer.echo(script, nl=False)
    else:
        write_private_text(out, script)
        err_console.print(f"wrote {out}")


@contextmanager
def _journal(journal_dir: Path | None, db: str | None, *, create: bool = True) -> Iterator[Journal]:
    """The file journal when a directory is named, else the history database (which only
    a run that changes the tenant creates)."""
    directory = journal_dir or (Path(os.environ[JOURNAL_ENV]) if os.environ.get(JOURNAL_ENV)
                                else None)
    if directory is not None:
        yield FileJournal(directory)
        return
    with DatabaseJournal(db, create=create) as journal:
        yield journal


def _confirmed(yes: bool, question: str) -> bool:
    """--yes, or a person at a terminal who says yes; anything else is a dry run."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    return typer.confirm(question, default=False)


def _finish(report: RunReport) -> None:
    console.print(report_table(report))
    counts = ", ".join(f"{s.value} {report.count(s)}" for s in OutcomeStatus if report.count(s))
    console.print(counts or "nothing to do")
    if report.run_id and not report.dry_run:
        console.print(f"journal: run {report.run_id} "
                      f"(`mailwarden remediate rollback {report.run_id}` undoes it)")
    if report.failures:
        raise RemediationFailed(
            f"{plural(len(report.failures), 'action')} failed (listed above); the others went "
            "ahead. Fix the cause and run the same command again: what is done is skipped."
        )


def _who(by: str | None) -> str | None:
    if by:
        return by
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        return None


@remediate_app.command("apply")
def apply_command(
    from_dir: FromDirOpt = None, check: CheckOpt = None, mailbox: MailboxOpt = None,
    exclude: ExcludeOpt = None, include_ews: EwsOpt = False, include_activesync: ActiveSyncOpt =
    False, max_age: MaxAgeOpt = 24.0, force: ForceOpt = False,
    include_external_delegates: ExternalOpt = False, action: ActionOpt = None,
    break_glass: BreakGlassOpt = None,
    app_scope_group: AppScopeOpt = None, remove_app_grants: RemoveGrantsOpt = False,
    yes: Annotated[bool, typer.Option("--yes", help="Make the changes (else a dry run).")] =
    False,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who makes the change, as the journal keeps it (default: your user name)."
    )] = None,
    journal_dir: JournalOpt = None, db: DbOpt = None,
    tenant: TenantOpt = None, client_id: ClientIdOpt = None, certificate: CertificateOpt = None,
    device_code: DeviceCodeOpt = False, cloud: CloudOpt = None, login_url: LoginUrlOpt = None,
    graph_url: GraphUrlOpt = None, exo_url: ExoUrlOpt = None, ca_bundle: CaBundleOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Apply the plan to the tenant: a dry run unless --yes (or you confirm).

    Exit codes: 0 applied (or a dry run); 2 bad usage or input; 3 sign-in or permission
    refused; 4 the live tenant could not be read whole; 5 an action failed (the others
    went ahead) or the journal cannot be written; 70 internal error."""
    connection = Connection.of(locals())
    settings = connection.settings()
    # One session for collecting and applying: a person signs in once.
    with open_session(settings) as session:
        scan = _scan(from_dir, connection, session)
        require_same_tenant(scan.result.tenant, settings.require_tenant())
        options = plan_options(check, mailbox, exclude, include_ews, include_activesync, max_age,
                               force, include_external_delegates,
                               tuple(break_glass) if break_glass else settings.break_glass,
                               app_scope_group, remove_app_grants)
        plan = _plan(scan, options)
        if action:
            plan = plan.select(tuple(action))
        _warn_break_glass(plan)
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
                report = run_apply(plan, session, journal, dry_run=False, by=_who(by))
    _finish(report)


def _journalled(connection: Connection, run: RunRecord) -> Connection:
    """The connection options given, the run's journalled ones where none was given: the
    tenant and how it was reached come from the journal, the credential never does."""
    kept = run.context.connection
    if not kept and connection.tenant is None:
        return replace(connection, tenant=run.tenant_id)
    paths = {"ca_bundle"}
    filled: dict[str, Any] = {
        name: Path(value) if name in paths else value
        for name, value in kept.items()
        if name in CONNECTION_SETTINGS and getattr(connection, name) is None
    }
    return replace(connection, **filled)


@remediate_app.command("rollback")
def rollback_command(
    run_id: Annotated[str, typer.Argument(help="The run id `remediate apply` printed.")],
    action: ActionOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Read each object and show what would be restored; change nothing."
    )] = False,
    journal_dir: JournalOpt = None, db: DbOpt = None,
    tenant: TenantOpt = None, client_id: ClientIdOpt = None, certificate: CertificateOpt = None,
    device_code: DeviceCodeOpt = False, cloud: CloudOpt = None, login_url: LoginUrlOpt = None,
    graph_url: GraphUrlOpt = None, exo_url: ExoUrlOpt = None, ca_bundle: CaBundleOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Put back the state journalled before each change of RUN_ID (or of --action ids). The
    tenant and how to reach it come from the journal; options given here override them.

    Exit codes: 0 rolled back (or, with --dry-run, shown); 2 bad usage, not confirmed, or no
    journal; 3 sign-in or permission refused; 4 the service could not be read; 5 an action
    could not be put back, or the journal cannot be read; 70 internal error."""
    with _journal(journal_dir, db, create=False) as journal:
        run = journal.load(run_id)
        settings = _journalled(Connection.of(locals()), run).settings()
        with open_session(settings) as session:
            count = len(action) if action else len(run.actions)
            if not dry_run and not _confirmed(
                yes, f"Roll back {plural(count, 'action')} of run {run_id}?"
            ):
                raise ConfigError("rollback not confirmed: pass --yes to roll back without a "
                                  "prompt, or --dry-run to see what it would restore")
            report = run_rollback(run_id, session, journal, action_ids=tuple(action or ()),
                                  dry_run=dry_run)
    if dry_run:
        err_console.print("dry run: nothing is changed (drop --dry-run to roll back)")
    _finish(report)


@remediate_app.command("show")
def show_command(
    run_id: Annotated[str | None, typer.Argument(help="A run id; none lists the runs.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    journal_dir: JournalOpt = None, db: DbOpt = None,
) -> None:
    """List journalled runs (when, tenant, who, outcomes, rolled back), or one run's actions
    and what became of them.

    Exit codes: 0 shown; 2 bad usage, or RUN_ID with no journal; 5 the journal cannot be
    read; 70 internal error."""
    if output_format not in {"table", "json"}:
        raise ConfigError(f"--format {output_format!r}: use table or json")
    try:
        with _journal(journal_dir, db, create=False) as journal:
            if run_id is None:
                runs = summaries(journal)
            else:
                run = journal.load(run_id)
    except NoHistoryError:
        if run_id is not None:
            raise
        runs = []  # no history database: no run was ever journalled there
    if run_id is None:
        if output_format == "json":
            typer.echo(json.dumps(runs_document(runs), indent=1, ensure_ascii=False))
        else:
            console.print(runs_table(runs))
        return
    if output_format == "json":
        typer.echo(json.dumps(run_document(run), indent=1, ensure_ascii=False))
        return
    console.print(run_table(run))
