"""`mailwarden alerts`: the watcher's incidents, filtered, listed, acknowledged, resolved.

The incidents live in the one history database the watcher writes its runs to (`--db`,
else MAILWARDEN_DB, else the per-user default); these commands never create it.
Acknowledging or resolving records who (`--by`, else the OS user) and when, with an
optional `--note`; many incidents are handled at once by naming several ids or by the same
filters the list takes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.text import Text

from mailwarden.cli import app
from mailwarden.cli.report import DbOpt
from mailwarden.cli.tables import Column, FitTable, check_format, format_option
from mailwarden.cli.ui import console, who_records
from mailwarden.detect.lifecycle import acknowledge, resolve
from mailwarden.detect.rules import CATEGORIES
from mailwarden.errors import ConfigError, InputError, NoHistoryError
from mailwarden.model.findings import Severity
from mailwarden.model.incidents import IncidentStatus, TrackedIncident
from mailwarden.schemas import INCIDENTS_SCHEMA
from mailwarden.store.incidents import IncidentFilter, IncidentStore, select_incidents
from mailwarden.store.location import described, resolve_db_url
from mailwarden.text import plural
from mailwarden.times import iso, parse_time
from mailwarden.watch.durations import parse_duration

alerts_app = typer.Typer(
    help="The watcher's incidents (the alerts of one attack, grouped): list them with "
    "filters, acknowledge or resolve one or many.\n\nExit codes: 0 listed; 2 bad usage; 5 "
    "the history database cannot be read; 70 internal error.",
    invoke_without_command=True, no_args_is_help=False)
app.add_typer(alerts_app, name="alerts")

MailboxOpt = Annotated[str | None, typer.Option(
    "--mailbox", help="Only incidents about this mailbox (UPN).")]
CategoryOpt = Annotated[str | None, typer.Option(
    "--category", help="Only incidents with an alert of this category.")]
SeverityOpt = Annotated[str | None, typer.Option(
    "--severity", help="Only incidents at least this severe: critical, high, medium, low, "
    "info.")]
SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="Only incidents active since this time (ISO 8601) or for this long "
    "(24h, 7d).")]
IncidentOpt = Annotated[list[str] | None, typer.Option(
    "--incident", help="Only this incident (its id or a unique start of it); repeat for more.")]
AllOpt = Annotated[bool, typer.Option(
    "--all", help="Include acknowledged and resolved incidents.")]
FormatOpt = Annotated[str, format_option("table", "json")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Why, for the record.")]
ByOpt = Annotated[str | None, typer.Option(
    "--by", help="Who is doing it (default: the OS user name).")]
IdsArg = Annotated[list[str] | None, typer.Argument(
    help="Incident ids (or unique starts of them); or choose them with the filters.")]


def _database(db: str | None) -> str:
    """The history database as messages name it."""
    return described(resolve_db_url(db))


def _since(value: str | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    moment = parse_time(value)
    if moment is not None:
        return moment
    try:
        return now - parse_duration(value, what="--since")
    except ConfigError:
        raise ConfigError(f"--since {value!r} is neither a time (2026-11-02T08:00Z) nor a "
                          "duration (24h, 7d)") from None


def _filter(*, mailbox: str | None, category: str | None, severity: str | None,
            since: str | None, incidents: Sequence[str], include_closed: bool,
            now: datetime) -> IncidentFilter:
    if category is not None and category not in CATEGORIES:
        raise ConfigError(f"--category {category!r} is not a category; one of "
                          f"{', '.join(CATEGORIES)}")
    if severity is not None and Severity.named(severity.lower()) is None:
        raise ConfigError(f"--severity {severity!r}: use critical, high, medium, low or info")
    return IncidentFilter(mailbox=mailbox.lower() if mailbox else None, category=category,
                          severity=severity.lower() if severity else None,
                          since=_since(since, now), incidents=tuple(incidents),
                          include_closed=include_closed)


def _when(moment: datetime | None) -> str:
    return iso(moment, timespec="seconds") if moment else "-"


def _document(incident: TrackedIncident) -> dict[str, Any]:
    return {
        "id": incident.id, "tenant_id": incident.tenant_id, "status": incident.status.value,
        "category": incident.category, "categories": list(incident.categories),
        "severity": incident.severity, "targets": list(incident.targets),
        "source_ips": list(incident.source_ips), "actors": list(incident.actors),
        "first_seen": _when(incident.first_seen) if incident.first_seen else None,
        "last_seen": _when(incident.last_seen) if incident.last_seen else None,
        "summary": incident.summary, "alert_ids": list(incident.alert_ids),
        "alerts": [{"id": k, **dict(v)} for k, v in incident.alerts.items()],
        "opened_at": _when(incident.opened_at),
        "notified_at": _when(incident.notified_at) if incident.notified_at else None,
        "acknowledged_at": (_when(incident.acknowledged_at) if incident.acknowledged_at
                            else None),
        "acknowledged_by": incident.acknowledged_by, "note": incident.note,
        "resolved_at": _when(incident.resolved_at) if incident.resolved_at else None,
        "resolved_reason": incident.resolved_reason, "follows": incident.follows,
        "reopened": incident.reopened,
    }


def _targets(incident: TrackedIncident) -> str:
    shown = ", ".join(incident.targets[:3])
    more = len(incident.targets) - 3
    return shown + (f" and {more} more" if more > 0 else "") or "-"


def _table(chosen: Sequence[TrackedIncident], *, closed: bool) -> FitTable:
    word = "known" if closed else "open"
    table = FitTable(
        [Column("id", ident=True), Column("status", drop=3), Column("severity", ident=True),
         Column("categories", drop=2), Column("mailboxes"), Column("last seen", ident=True,
                                                                    drop=4),
         Column("alerts", justify="right", drop=5), Column("summary", beneath=True)],
        title=plural(len(chosen), f"{word} incident"))
    for item in chosen:
        status = item.status.value + (" (reopened)" if item.reopened else "")
        if item.status is IncidentStatus.ACKNOWLEDGED:
            status += f" by {item.acknowledged_by} {_when(item.acknowledged_at)}"
        elif item.status is IncidentStatus.RESOLVED:
            status += f" ({item.resolved_reason})"
        table.add_row(item.id, Text(status), item.severity, Text(", ".join(item.categories)),
                      Text(_targets(item)), _when(item.last_seen), str(len(item.alerts)),
                      Text(item.summary))
    return table


@alerts_app.callback()
def alerts_command(
    ctx: typer.Context,
    db: DbOpt = None,
    show_all: AllOpt = False,
    mailbox: MailboxOpt = None,
    category: CategoryOpt = None,
    severity: SeverityOpt = None,
    since: SinceOpt = None,
    incident: IncidentOpt = None,
    output: FormatOpt = "table",
) -> None:
    """List the watcher's open incidents (with --all, acknowledged and resolved ones too),
    worst and most recent first; the filters narrow the list. With no history database yet
    it says so and creates none.

    Exit codes: 0 listed; 2 bad usage; 5 the history database cannot be read; 70 internal
    error."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"db": db}
        return
    check_format(output)
    chosen_filter = _filter(mailbox=mailbox, category=category, severity=severity,
                            since=since, incidents=incident or (), include_closed=show_all,
                            now=datetime.now(UTC))
    try:
        with IncidentStore.open(db, create=False) as store:
            chosen = select_incidents(store.load().values(), chosen_filter)
    except NoHistoryError as exc:
        if output == "table":  # nothing watched yet is an answer, as `history` gives it
            console.print(Text(str(exc)), soft_wrap=True)
            return
        chosen = ()
    if output == "json":
        console.print(Text(json.dumps({"schema": INCIDENTS_SCHEMA,
                                       "incidents": [_document(i) for i in chosen]},
                                      indent=2, ensure_ascii=False)), soft_wrap=True)
        return
    console.print(_table(chosen, closed=show_all))




Change = Callable[..., TrackedIncident]


def _change(ctx: typer.Context, *, change: Change, verb: str, ids: Sequence[str],
            db: str | None, mailbox: str | None,
            category: str | None, severity: str | None, since: str | None,
            note: str | None, by: str | None) -> None:
    parent = ctx.obj or {}
    db = db or parent.get("db")
    now = datetime.now(UTC)
    # Resolving takes acknowledged incidents too; the lifecycle leaves closed ones as they are.
    chosen_filter = _filter(mailbox=mailbox, category=category, severity=severity,
                            since=since, incidents=ids, include_closed=verb == "resolve",
                            now=now)
    if not chosen_filter.narrowed:
        raise ConfigError(f"name the incidents to {verb} (ids) or choose them with --mailbox, "
                          "--category, --severity or --since")
    who = who_records(by)
    with IncidentStore.open(db, create=False) as store:
        known = store.load()
        for ident in ids:
            hits = [i for i in known.values() if i.id.startswith(ident)]
            if not hits:
                raise InputError(f"no incident {ident!r} in {_database(db)}; `mailwarden alerts "
                                 "--all` lists the known ids")
            if len(hits) > 1 and not any(i.id == ident for i in hits):
                raise InputError(f"{ident!r} matches {len(hits)} incidents; give more of the id")
        chosen = select_incidents(known.values(), chosen_filter)
        changed = [after for before in chosen
                   if (after := change(before, now=now, by=who, note=note)) is not before]
        by_tenant: dict[str, list[TrackedIncident]] = defaultdict(list)
        for incident in changed:
            by_tenant[incident.tenant_id].append(incident)
        for tenant_id, incidents in by_tenant.items():
            store.save(tenant_id, incidents)
    past = {"acknowledge": "acknowledged", "resolve": "resolved"}[verb]
    if not changed:
        console.print(Text(f"no open incident matches; nothing {past}"))
        return
    for incident in changed:
        console.print(Text(f"{past} {incident.id}: {', '.join(incident.categories)} on "
                           f"{_targets(incident)} ({incident.severity}), by {who}"))
    console.print(Text(f"{plural(len(changed), 'incident')} {past} by {who} at {_when(now)}"
                       + (f": {note}" if note else "")))


@alerts_app.command("ack")
def ack_command(
    ctx: typer.Context,
    ids: IdsArg = None,
    note: NoteOpt = None,
    by: ByOpt = None,
    mailbox: MailboxOpt = None,
    category: CategoryOpt = None,
    severity: SeverityOpt = None,
    since: SinceOpt = None,
    db: DbOpt = None,
) -> None:
    """Acknowledge open incidents, named by id or chosen by the filters: they are not
    notified again unless they get worse (a higher severity, a proven password, a new
    category or mailbox at their severity). Records who and when, with --note. Exit codes:
    0 done; 2 bad usage, an unknown or ambiguous id, or no history database; 5 the
    history database cannot be written; 70 internal error."""
    _change(ctx, change=acknowledge, verb="acknowledge", ids=ids or (), db=db,
            mailbox=mailbox, category=category, severity=severity, since=since, note=note,
            by=by)


@alerts_app.command("resolve")
def resolve_command(
    ctx: typer.Context,
    ids: IdsArg = None,
    note: NoteOpt = None,
    by: ByOpt = None,
    mailbox: MailboxOpt = None,
    category: CategoryOpt = None,
    severity: SeverityOpt = None,
    since: SinceOpt = None,
    db: DbOpt = None,
) -> None:
    """Resolve incidents, named by id or chosen by the filters. A resolved incident is
    closed for good: new activity like it starts a new incident (notified as new) that
    names the resolved one. Records who and when, with --note. Exit codes: 0 done; 2 bad
    usage, an unknown or ambiguous id, or no history database; 5 the history database
    cannot be written; 70 internal error."""
    _change(ctx, change=resolve, verb="resolve", ids=ids or (), db=db,
            mailbox=mailbox, category=category, severity=severity, since=since, note=note,
            by=by)
