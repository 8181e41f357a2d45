"""`mailwarden exceptions`: accepted exceptions kept in the history database, per tenant.

    mailwarden exceptions list [--tenant ID] [--format table|json]
    mailwarden exceptions add --tenant ID --check CHECK --mailbox ADDR --reason .. --owner ..
                              --expires YYYY-MM-DD [--ticket ..]
    mailwarden exceptions remove ID [ID ...] [--tenant ID]
    mailwarden exceptions import FILE --tenant ID
    mailwarden exceptions example > exceptions.yaml

Every run of the tenant (scan, report, watch) applies these after the exceptions file's
own. `list` never creates the database; `add`, `remove` and `import` record who (`--by`,
else the OS user) and when.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from mailwarden.assess.accept import state_of
from mailwarden.assess.checks import CATALOGUE
from mailwarden.assess.exceptions_file import exception_from_values, load_exceptions
from mailwarden.cli import app
from mailwarden.cli.report import DbOpt
from mailwarden.cli.ui import console, who_records
from mailwarden.errors import ConfigError, InputError, NoHistoryError
from mailwarden.model.exceptions import ExceptionState, ExceptionUse, FindingException
from mailwarden.report.common import days_left
from mailwarden.report.findings_json import exception_dict
from mailwarden.schemas import EXCEPTIONS_SCHEMA
from mailwarden.store.exceptions import ExceptionRecord, ExceptionStore
from mailwarden.text import plural

exceptions_app = typer.Typer(
    help="Accepted exceptions kept in the history database: failing findings reported "
    "`accepted` until they expire. List, add, remove, or import an exceptions file.",
    no_args_is_help=True)
app.add_typer(exceptions_app, name="exceptions")

TenantOpt = Annotated[str | None, typer.Option(
    "--tenant", help="The tenant id (findings.json tenant.id; `mailwarden history` lists it).")]
FormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]
ByOpt = Annotated[str | None, typer.Option(
    "--by", help="Who is recording it (default: the OS user name).")]




def _tenant(tenant: str | None) -> str:
    if not tenant or not tenant.strip():
        raise ConfigError("give --tenant TENANT_ID: stored exceptions belong to one tenant "
                          "(findings.json tenant.id)")
    return tenant.strip().lower()


def _checks() -> list[Any]:
    return [check.info for check in CATALOGUE]


def _use(exception: FindingException, now: datetime) -> ExceptionUse:
    return ExceptionUse(exception=exception, state=state_of(exception, now),
                        days_left=exception.days_left(now))


def _document(record: ExceptionRecord, now: datetime) -> dict[str, Any]:
    exception = record.exception
    use = _use(exception, now)
    return {**exception_dict(exception), "tenant_id": exception.tenant_id,
            "state": use.state.value, "days_left": use.days_left,
            "approval": record.approval.value, "decided_by": record.decided_by,
            "decided_at": record.decided_at.isoformat() if record.decided_at else None,
            "decision_note": record.decision_note}


_STATE_STYLE = {ExceptionState.EXPIRED: "red", ExceptionState.EXPIRING: "yellow",
                ExceptionState.ACTIVE: ""}


_APPROVAL_STYLE = {"requested": "yellow", "rejected": "red", "approved": ""}


def _table(records: Sequence[ExceptionRecord], now: datetime) -> Table:
    table = Table(title=f"{plural(len(records), 'stored exception')}", title_justify="left")
    for column in ("id", "tenant", "check", "mailbox", "approval", "owner", "expires",
                   "ticket", "reason", "added"):
        table.add_column(column)
    for record in records:
        exception = record.exception
        use = _use(exception, now)
        added = (f"{exception.created_at:%Y-%m-%d} by {exception.created_by}"
                 if exception.created_at else "")
        table.add_row(str(exception.id), Text(exception.tenant_id or ""),
                      Text(exception.check), Text(exception.mailbox or "the tenant"),
                      Text(record.approval.value,
                           style=_APPROVAL_STYLE[record.approval.value]),
                      Text(exception.owner),
                      Text(f"{exception.expires.isoformat()} ({days_left(use)})",
                           style=_STATE_STYLE[use.state]),
                      Text(exception.ticket or ""), Text(exception.reason), Text(added))
    return table


def _warn_if_unknown(store: ExceptionStore, tenant_id: str) -> None:
    """A tenant id no stored run has is likely a typo or a domain: say which ids are known."""
    known = sorted({ref.tenant_id.lower() for ref in store.history.runs()})
    if known and tenant_id not in known:
        console.print(Text(f"note: no stored run is of tenant {tenant_id}; the exceptions apply "
                           f"to runs of that tenant id (stored runs are of "
                           f"{', '.join(known)})"), soft_wrap=True)


@exceptions_app.command("example")
def example_command() -> None:
    """Print a commented example exceptions file (every field explained), to start from:
    `mailwarden exceptions example > exceptions.yaml`. Exit codes: 0 printed; 2 bad usage;
    70 internal error."""
    example = resources.files("mailwarden.assess").joinpath("exceptions.example.yaml")
    typer.echo(example.read_text(encoding="utf-8"), nl=False)


@exceptions_app.command("list")
def list_command(
    tenant: TenantOpt = None,
    db: DbOpt = None,
    output: FormatOpt = "table",
) -> None:
    """List the stored exceptions (of one tenant with --tenant), with their approval
    (approved; requested or rejected in the console, which apply to no run) and their
    state: active, expiring within 14 days, or expired. Creates no database. Exit codes: 0
    listed; 2 bad usage; 5 the database cannot be read; 70 internal error."""
    if output not in ("table", "json"):
        raise ConfigError(f"--format {output!r}: use table or json")
    now = datetime.now(UTC)
    try:
        with ExceptionStore.open(db, create=False) as store:
            found = store.records(tenant.strip().lower() if tenant else None)
    except NoHistoryError as exc:
        if output == "table":
            console.print(Text(str(exc)), soft_wrap=True)
            return
        found = ()
    if output == "json":
        document = {"schema": EXCEPTIONS_SCHEMA, "generated_at": now.isoformat(),
                    "exceptions": [_document(e, now) for e in found]}
        console.print(Text(json.dumps(document, indent=2, ensure_ascii=False)), soft_wrap=True)
        return
    console.print(_table(found, now))


@exceptions_app.command("add")
def add_command(
    check: Annotated[str, typer.Option("--check", help='A check id, or "*" (every check) '
                                       "for one exact mailbox.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the finding is accepted.")],
    owner: Annotated[str, typer.Option("--owner", help="Who answers for the exception.")],
    expires: Annotated[str, typer.Option("--expires", help="YYYY-MM-DD: accepted through "
                                         "that day (UTC).")],
    tenant: TenantOpt = None,
    mailbox: Annotated[str | None, typer.Option(
        "--mailbox", help="An address or a pattern (room-*@contoso.com); leave out for a "
        "tenant-wide check.")] = None,
    ticket: Annotated[str | None, typer.Option("--ticket", help="A change or ticket id.")] = None,
    replace_existing: Annotated[bool, typer.Option(
        "--replace", help="Replace a stored exception with the same check and mailbox.")
    ] = False,
    by: ByOpt = None,
    db: DbOpt = None,
) -> None:
    """Keep one exception for a tenant. Checked as a file's entry is; an expiry already past
    is refused. Exit codes: 0 stored; 2 bad usage, a bad exception, or the same check
    and mailbox already accepted for the tenant (see --replace); 5 the database cannot be
    written; 70 internal error."""
    chosen_tenant = _tenant(tenant)
    now = datetime.now(UTC)
    exception = exception_from_values(
        {"check": check, "mailbox": mailbox, "reason": reason, "owner": owner,
         "expires": expires, "ticket": ticket}, "the exception given", _checks())
    if exception.expired(now):
        raise InputError(f"--expires {expires} is in the past: an exception is accepted "
                         f"through its expiry date; give a date from {date.today()} on")
    with ExceptionStore.open(db) as store:
        _warn_if_unknown(store, chosen_tenant)
        stored = store.add(chosen_tenant,
                           replace(exception, created_at=now, created_by=who_records(by),
                                   origin=""), replace_existing=replace_existing)
    console.print(Text(f"stored exception {stored.id}: {stored.label} until "
                       f"{stored.expires.isoformat()} (owner {stored.owner})"), soft_wrap=True)


@exceptions_app.command("remove")
def remove_command(
    ids: Annotated[list[int], typer.Argument(help="Exception ids (`exceptions list`).")],
    tenant: TenantOpt = None,
    db: DbOpt = None,
) -> None:
    """Delete stored exceptions by id; their findings fail again from the next run.
    Exit codes: 0 removed; 2 bad usage, no history database, or an id that is not there
    (then nothing is removed); 5 the database cannot be written; 70 internal error."""
    with ExceptionStore.open(db, create=False) as store:
        removed = store.remove(tenant.strip().lower() if tenant else None, ids)
    for exception in removed:
        console.print(Text(f"removed exception {exception.id}: {exception.label}"),
                      soft_wrap=True)


@exceptions_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="An exceptions file (YAML).")],
    tenant: TenantOpt = None,
    by: ByOpt = None,
    db: DbOpt = None,
) -> None:
    """Store every exception of a file for a tenant, each replacing a stored one with the
    same check and mailbox, in one transaction. A bad file is refused whole, naming every
    bad entry by line. Exit codes: 0 imported; 2 bad usage or a bad file; 5 the database
    cannot be written; 70 internal error."""
    chosen_tenant = _tenant(tenant)
    exceptions = load_exceptions(file, _checks())
    now = datetime.now(UTC)
    with ExceptionStore.open(db) as store:
        _warn_if_unknown(store, chosen_tenant)
        stored = store.import_exceptions(chosen_tenant, exceptions, by=who_records(by), at=now)
    expired = sum(1 for e in stored if e.expired(now))
    note = f" ({expired} already expired)" if expired else ""
    console.print(Text(f"imported {plural(len(stored), 'exception')} from {file} for tenant "
                       f"{chosen_tenant}{note}"), soft_wrap=True)
